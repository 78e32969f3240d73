//! Notifications as the settings page shows them: the rules admins turn on, the channels the
//! configuration declares, and what was sent, with every attempt.

use time::OffsetDateTime;

/// A condition worth telling someone about. The slug is stored and used in forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    HighFinding,
    FindingOpen,
    LetterChanged,
    CapBinding,
    EngineDown,
    PhaseAwaitingSignoff,
    RolloutFellBack,
    CertExpiring,
    BackupLate,
}

impl Rule {
    pub const ALL: [Rule; 9] = [
        Rule::HighFinding,
        Rule::FindingOpen,
        Rule::LetterChanged,
        Rule::CapBinding,
        Rule::EngineDown,
        Rule::PhaseAwaitingSignoff,
        Rule::RolloutFellBack,
        Rule::CertExpiring,
        Rule::BackupLate,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Rule::HighFinding => "high_finding",
            Rule::FindingOpen => "finding_open",
            Rule::LetterChanged => "letter_changed",
            Rule::CapBinding => "cap_binding",
            Rule::EngineDown => "engine_down",
            Rule::PhaseAwaitingSignoff => "phase_awaiting_signoff",
            Rule::RolloutFellBack => "rollout_fell_back",
            Rule::CertExpiring => "cert_expiring",
            Rule::BackupLate => "backup_late",
        }
    }

    pub fn parse(slug: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.slug() == slug.trim())
    }

    /// What the rule watches, in the settings page's words.
    pub fn describe(self) -> &'static str {
        match self {
            Rule::HighFinding => "A new high-severity finding on a service",
            Rule::FindingOpen => {
                "A finding (its action not accepted as a risk) open longer than N days"
            }
            Rule::LetterChanged => "The grade's letter changes",
            Rule::CapBinding => "A cap starts holding the letter down",
            Rule::EngineDown => "A Docker engine is unreachable or its data is stale",
            Rule::PhaseAwaitingSignoff => {
                "A phase has every deliverable done or waived and awaits sign-off"
            }
            Rule::RolloutFellBack => "A rollout checklist item falls back from verified",
            Rule::CertExpiring => "A route's certificate is close to expiry",
            Rule::BackupLate => "A backup job is late, missing or failing",
        }
    }

    /// On until an admin says otherwise: the conditions someone must act on today.
    pub fn on_by_default(self) -> bool {
        matches!(
            self,
            Rule::HighFinding
                | Rule::LetterChanged
                | Rule::EngineDown
                | Rule::CertExpiring
                | Rule::BackupLate
        )
    }

    /// Whether the rule takes a number of days.
    pub fn takes_days(self) -> bool {
        self == Rule::FindingOpen
    }

    pub const DEFAULT_DAYS: i32 = 14;
}

/// A rule as configured now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSetting {
    pub rule: Rule,
    pub enabled: bool,
    pub days: i32,
}

/// How a channel gets its notifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Each condition as it starts.
    Immediate,
    /// Held, then sent together once a day.
    Digest,
}

impl Mode {
    pub fn slug(self) -> &'static str {
        match self {
            Mode::Immediate => "immediate",
            Mode::Digest => "digest",
        }
    }

    pub fn parse(slug: &str) -> Option<Mode> {
        [Mode::Immediate, Mode::Digest]
            .into_iter()
            .find(|m| m.slug() == slug.trim())
    }
}

/// A configured channel, without its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelView {
    pub name: String,
    /// ntfy, gotify or webhook.
    pub kind: String,
    /// Scheme and host only.
    pub shown_url: String,
    pub has_secret: bool,
    pub mode: Mode,
}

/// One queued or sent notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryView {
    pub id: i64,
    pub channel: String,
    /// event, digest or test.
    pub kind: String,
    pub title: String,
    /// held, pending, sent, failed or digested.
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub next_attempt_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

/// Everything `/settings/notifications` shows.
#[derive(Clone, Debug)]
pub struct NotificationsView {
    pub rules: Vec<RuleSetting>,
    pub channels: Vec<ChannelView>,
    pub deliveries: Vec<DeliveryView>,
    pub digest_hour_utc: u8,
    /// What the last action did, in words.
    pub notice: Option<String>,
    pub error: Option<String>,
    pub now: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip() {
        for rule in Rule::ALL {
            assert_eq!(Rule::parse(rule.slug()), Some(rule));
        }
        assert_eq!(Rule::parse("nonsense"), None);
        assert_eq!(Mode::parse("digest"), Some(Mode::Digest));
        assert_eq!(Mode::parse("weekly"), None);
    }
}
