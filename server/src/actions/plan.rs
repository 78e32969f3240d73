//! The action plan as the page and the exports show it: the stored actions joined with the
//! current findings, each valued by re-scoring the grade with its findings gone.

use std::collections::HashMap;

use sqlx::PgPool;
use time::OffsetDateTime;

use app::model::FindingKind;
use app::model::actions::{ActionChangeView, ActionService, ActionState, ActionView, Effort};

use super::queries;
use super::rollup::{self, Stored};
use super::sync::DONE_SHOWN_DAYS;
use crate::config::Settings;

#[derive(Debug)]
pub struct Plan {
    pub open: Vec<ActionView>,
    pub accepted: Vec<ActionView>,
    pub done: Vec<ActionView>,
    pub grade_now: i64,
    pub grade_if_all_fixed: i64,
}

pub async fn load(pool: &PgPool, settings: &Settings, now: OffsetDateTime) -> sqlx::Result<Plan> {
    let today = now.date();
    let (services, stored, report, inputs) = tokio::try_join!(
        queries::current_services(pool),
        queries::stored(pool, Some(DONE_SHOWN_DAYS)),
        crate::docs::live::current_report(pool, &settings.docs),
        crate::grade::live::inputs(pool),
    )?;
    let coverage = report.overall;
    let current = rollup::current(&services);
    let base = inputs.grade(&coverage);
    // Done actions name services that may be gone since: read those few by id.
    let missing: Vec<i64> = stored
        .iter()
        .filter_map(|s| s.key.service_id)
        .filter(|id| !services.iter().any(|c| c.id == *id))
        .collect();
    let mut names: HashMap<i64, ActionService> = services
        .iter()
        .map(|s| {
            let service = ActionService {
                engine: s.engine.clone(),
                key: s.key.clone(),
                name: s.name.clone(),
                fact: String::new(),
            };
            (s.id, service)
        })
        .collect();
    if !missing.is_empty() {
        for (id, engine, key, name) in queries::services_by_id(pool, &missing).await? {
            let fact = String::new();
            names.insert(
                id,
                ActionService {
                    engine,
                    key,
                    name,
                    fact,
                },
            );
        }
    }

    let mut plan = Plan {
        open: vec![],
        accepted: vec![],
        done: vec![],
        grade_now: base.total.hundredths_truncated() as i64,
        grade_if_all_fixed: 0,
    };
    let mut value = Valuation {
        finding_sets: inputs
            .services
            .iter()
            .map(|(id, s)| {
                let mut kinds = s.findings.clone();
                kinds.sort();
                kinds.dedup();
                (*id, kinds)
            })
            .collect(),
        inputs: &inputs,
        coverage: &coverage,
        base: &base,
        memo: HashMap::new(),
    };
    // (service id, kind) of every open action's findings, for the grade with all of them done.
    let mut fixable: std::collections::HashSet<(i64, FindingKind)> = Default::default();
    for s in &stored {
        let rolled = current.get(&s.key);
        let state = rollup::state_now(s.closed_at.is_some(), s.latest.as_ref(), today);
        // An open action whose findings vanished since the last refresh, or the reverse, waits
        // for the worker's next step rather than being shown half-true.
        let Some(rolled) = rolled.filter(|_| state != ActionState::Done) else {
            if state == ActionState::Done {
                plan.done.push(view_of(s, state, None, &names, 0, None));
            }
            continue;
        };
        let ids = rolled.service_ids();
        let (points, lifts_cap) = value.of(s.key.kind, &ids);
        if state == ActionState::Open {
            fixable.extend(ids.iter().map(|id| (*id, s.key.kind)));
        }
        let view = view_of(s, state, Some(rolled), &names, points, lifts_cap);
        match state {
            ActionState::Accepted => plan.accepted.push(view),
            _ => plan.open.push(view),
        }
    }
    plan.grade_if_all_fixed = inputs
        .grade_without(&coverage, |id, kind| fixable.contains(&(id, kind)))
        .total
        .hundredths_truncated() as i64;
    plan.open.sort_by(|a, b| {
        b.points
            .cmp(&a.points)
            .then(a.severity.cmp(&b.severity))
            .then(a.kind.cmp(&b.kind))
            .then(a.title().cmp(&b.title()))
    });
    plan.accepted.sort_by_key(|a| (a.risk_expires_on, a.id));
    plan.done.sort_by_key(|a| std::cmp::Reverse(a.closed_at));
    Ok(plan)
}

/// What an action's fix is worth: the grade scored again without its findings. Scoring is
/// linear in the number of services, so with one action per kind and service the plan would be
/// quadratic; but a single service's action is worth the same as any other's whose service has
/// the same findings (the shares count clean services, and a cap on a kind depends on how many
/// services have it, which is the same for every action of that kind), so those are scored once
/// per kind and set of findings.
struct Valuation<'a> {
    inputs: &'a crate::grade::live::Inputs,
    coverage: &'a app::model::docs::CoverageFigures,
    base: &'a crate::grade::evidence::GradeResult,
    /// Each current service's kinds of finding, sorted: the memo's key.
    finding_sets: HashMap<i64, Vec<FindingKind>>,
    memo: HashMap<(FindingKind, Vec<FindingKind>), (i64, Option<String>)>,
}

impl Valuation<'_> {
    fn of(&mut self, kind: FindingKind, ids: &[i64]) -> (i64, Option<String>) {
        let memo_key = match ids {
            [one] => self
                .finding_sets
                .get(one)
                .map(|kinds| (kind, kinds.clone())),
            _ => None,
        };
        if let Some(known) = memo_key.as_ref().and_then(|k| self.memo.get(k)) {
            return known.clone();
        }
        let without = self
            .inputs
            .grade_without(self.coverage, |id, k| k == kind && ids.contains(&id));
        let points = without.total.hundredths_above(self.base.total);
        let lifts_cap = (without.letter != self.base.letter && without.cap != self.base.cap)
            .then(|| self.base.cap.clone())
            .flatten();
        if let Some(k) = memo_key {
            self.memo.insert(k, (points, lifts_cap.clone()));
        }
        (points, lifts_cap)
    }
}

fn view_of(
    s: &Stored,
    state: ActionState,
    rolled: Option<&rollup::Rolled>,
    names: &HashMap<i64, ActionService>,
    points: i64,
    lifts_cap: Option<String>,
) -> ActionView {
    let services = match (rolled, s.key.service_id) {
        (Some(r), _) => r.services.iter().map(|(_, svc)| svc.clone()).collect(),
        (None, Some(id)) => names.get(&id).cloned().into_iter().collect(),
        (None, None) => vec![],
    };
    let latest = s.latest.as_ref();
    ActionView {
        id: s.id,
        kind: s.key.kind,
        severity: rolled.map(|r| r.severity),
        services,
        fleet_wide: s.key.service_id.is_none(),
        fix: rolled.map(|r| r.fix.clone()).unwrap_or_default(),
        points,
        lifts_cap,
        owner: latest.and_then(|l| l.owner.clone()),
        due_on: latest.and_then(|l| l.due_on),
        effort: latest
            .and_then(|l| l.effort)
            .unwrap_or(Effort::default_for(s.key.kind)),
        effort_overridden: latest.is_some_and(|l| l.effort.is_some()),
        state,
        reason: latest
            .filter(|_| state == ActionState::Accepted)
            .and_then(|l| l.reason.clone()),
        risk_expires_on: latest
            .filter(|_| state == ActionState::Accepted)
            .and_then(|l| l.risk_expires_on),
        opened_at: s.opened_at,
        closed_at: s.closed_at,
        last_change: latest.map(|l| ActionChangeView {
            state: l.state,
            note: l.note.clone(),
            by: l.by.clone(),
            at: l.at,
        }),
    }
}
