//! The action plan: open findings rolled up into actions, ordered by the grade points their fix
//! would add, each with an owner, a due date, an effort class and a state.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::findings::{FindingKind, Severity};

/// Where an action stands. People choose open or accepted risk; done is the portal's verdict
/// (the findings are gone) and cannot be chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionState {
    Open,
    Accepted,
    Done,
}

impl ActionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionState::Open => "open",
            ActionState::Accepted => "accepted",
            ActionState::Done => "done",
        }
    }

    pub fn parse(text: &str) -> Option<ActionState> {
        [ActionState::Open, ActionState::Accepted, ActionState::Done]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionState::Open => "open",
            ActionState::Accepted => "accepted risk",
            ActionState::Done => "done",
        }
    }
}

/// How much work the fix is: a quick win (one line of configuration) or longer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effort {
    Quick,
    Longer,
}

impl Effort {
    pub fn as_str(self) -> &'static str {
        match self {
            Effort::Quick => "quick",
            Effort::Longer => "longer",
        }
    }

    pub fn parse(text: &str) -> Option<Effort> {
        [Effort::Quick, Effort::Longer]
            .into_iter()
            .find(|e| e.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Effort::Quick => "quick win",
            Effort::Longer => "longer",
        }
    }

    /// The effort a kind's fix usually takes: a setting in the compose file or a label is quick;
    /// anything that needs investigation, a new check or a new job is longer.
    pub fn default_for(kind: FindingKind) -> Effort {
        use FindingKind::*;
        match kind {
            NoRestartPolicy | NoMemoryLimit | NoCpuLimit | PublicPort | ImageLatest
            | ImageUntagged | RouteWithoutAuth | RouteWithoutTls | MemoryNearLimit
            | MemoryOversized | AuthNotEnforced => Effort::Quick,
            _ => Effort::Longer,
        }
    }
}

/// One service an action concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionService {
    pub engine: String,
    pub key: String,
    pub name: String,
    /// The finding's fact on this service ("restart policy is 'no'").
    pub fact: String,
}

/// One change of an action, by a person or by the portal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionChangeView {
    pub state: ActionState,
    pub note: String,
    pub by: String,
    pub at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ActionView {
    pub id: i64,
    pub kind: FindingKind,
    /// The worst severity among its findings; None once done.
    pub severity: Option<Severity>,
    /// Empty for a done action across services.
    pub services: Vec<ActionService>,
    /// Whether one change fixes it for every service (the action spans the fleet).
    pub fleet_wide: bool,
    pub fix: String,
    /// Hundredths of a grade point the fix would add now (0 for a done action).
    pub points: i64,
    /// The cap whose condition the fix removes, if the letter would rise with it.
    pub lifts_cap: Option<String>,
    pub owner: Option<String>,
    pub due_on: Option<Date>,
    pub effort: Effort,
    pub effort_overridden: bool,
    pub state: ActionState,
    pub reason: Option<String>,
    pub risk_expires_on: Option<Date>,
    pub opened_at: OffsetDateTime,
    pub closed_at: Option<OffsetDateTime>,
    /// The latest change, if any.
    pub last_change: Option<ActionChangeView>,
}

impl ActionView {
    pub fn title(&self) -> String {
        match (self.fleet_wide, self.services.as_slice()) {
            (false, [one]) => format!("{}: {}", self.kind.title(), one.name),
            (_, services) => format!("{} ({} services)", self.kind.title(), services.len()),
        }
    }

    pub fn overdue(&self, today: Date) -> bool {
        self.state == ActionState::Open && self.due_on.is_some_and(|d| d < today)
    }
}

/// An open action as a service's page lists it, linking to the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAction {
    pub id: i64,
    pub kind: FindingKind,
    pub state: ActionState,
    pub owner: Option<String>,
    pub due_on: Option<Date>,
    pub risk_expires_on: Option<Date>,
    /// Whether the action spans every service with the kind (one change fixes them all).
    pub fleet_wide: bool,
}

impl ServiceAction {
    /// "open, owner ops, due 2026-12-10" or "accepted risk until 2027-01-31".
    pub fn summary(&self) -> String {
        let mut parts = vec![match (self.state, self.risk_expires_on) {
            (ActionState::Accepted, Some(d)) => format!("accepted risk until {d}"),
            (s, _) => s.label().to_string(),
        }];
        if let Some(o) = &self.owner {
            parts.push(format!("owner {o}"));
        }
        if let Some(d) = self.due_on {
            parts.push(format!("due {d}"));
        }
        if self.fleet_wide {
            parts.push("one change for every service".into());
        }
        parts.join(", ")
    }
}

/// What the plan is narrowed to (`/actions?owner=ops&effort=quick&kind=no_healthcheck`); an
/// empty filter shows everything. Values that cannot be read are ignored, as an unknown sort is
/// on the other lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionFilter {
    /// An owner, matched without regard to case; "none" selects unowned actions.
    pub owner: Option<String>,
    pub effort: Option<Effort>,
    pub kind: Option<FindingKind>,
}

impl ActionFilter {
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> ActionFilter {
        let mut f = ActionFilter::default();
        for (name, value) in pairs {
            let value = value.trim();
            match name {
                "owner" if !value.is_empty() => f.owner = Some(value.to_string()),
                "effort" => f.effort = Effort::parse(value),
                "kind" => f.kind = FindingKind::from_slug(value),
                _ => {}
            }
        }
        f
    }

    pub fn is_empty(&self) -> bool {
        *self == ActionFilter::default()
    }

    pub fn matches(&self, a: &ActionView) -> bool {
        let owner_ok = match (&self.owner, &a.owner) {
            (None, _) => true,
            (Some(wanted), None) => wanted.eq_ignore_ascii_case("none"),
            (Some(wanted), Some(owner)) => wanted.eq_ignore_ascii_case(owner),
        };
        owner_ok
            && self.effort.is_none_or(|e| e == a.effort)
            && self.kind.is_none_or(|k| k == a.kind)
    }
}

/// The action plan in three figures, for the dashboard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActionCounts {
    pub open: i64,
    /// Open with a due date in the past.
    pub overdue: i64,
    /// Accepted risks still within their expiry.
    pub accepted: i64,
}

/// A refused change of one action, shown beside its form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionRefusal {
    pub action_id: i64,
    pub message: String,
}

pub struct ActionsPage {
    /// Open actions, most points first.
    pub open: Vec<ActionView>,
    pub accepted: Vec<ActionView>,
    /// Done within the last 30 days, newest first.
    pub done: Vec<ActionView>,
    /// The grade now, in hundredths, and what fixing every open action would make it.
    pub grade_now: i64,
    pub grade_if_all_fixed: i64,
    pub can_edit: bool,
    pub filter: ActionFilter,
    pub refusal: Option<ActionRefusal>,
    pub today: Date,
    pub now: OffsetDateTime,
    /// The three tables' rows (open, accepted, done) already rendered, when the server keeps
    /// them for the current state of the data; their forms carry
    /// [`crate::CSRF_PLACEHOLDER`] for the server to replace.
    pub rendered_rows: Option<std::sync::Arc<[String; 3]>>,
    /// How many open, accepted and done actions the tables hold (the lists above are empty
    /// when the rows come rendered).
    pub counts: [usize; 3],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_efforts_round_trip() {
        for s in [ActionState::Open, ActionState::Accepted, ActionState::Done] {
            assert_eq!(ActionState::parse(s.as_str()), Some(s));
        }
        for e in [Effort::Quick, Effort::Longer] {
            assert_eq!(Effort::parse(e.as_str()), Some(e));
        }
        assert_eq!(ActionState::parse("closed"), None);
        assert_eq!(Effort::parse("huge"), None);
        assert_eq!(
            Effort::default_for(FindingKind::NoRestartPolicy),
            Effort::Quick
        );
        assert_eq!(
            Effort::default_for(FindingKind::RestartLoop),
            Effort::Longer
        );
    }

    #[test]
    fn a_filter_reads_its_fields_and_ignores_what_it_cannot_read() {
        let f =
            ActionFilter::from_pairs([("owner", " Ops "), ("effort", "quick"), ("kind", "bogus")]);
        assert_eq!(f.owner.as_deref(), Some("Ops"));
        assert_eq!(f.effort, Some(Effort::Quick));
        assert_eq!(f.kind, None);
        assert!(ActionFilter::from_pairs([("owner", ""), ("sort", "x")]).is_empty());
    }
}
