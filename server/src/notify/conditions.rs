//! The rules: from what the portal knows after a refresh to the conditions worth a message, each
//! with a key that stays the same while the condition does (so it is sent once). Pure.

use time::OffsetDateTime;

use app::model::findings::{FindingKind, Severity};
use app::model::notify::{Rule, RuleSetting};
use app::model::phases::PhaseSummary;
use app::model::routes::RouteRow;
use app::model::service_query::url_encode;
use app::model::{EngineStatus, ServiceSummary};

/// How urgent a message is; channels map it to their own priorities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    High,
    Medium,
    Low,
    Info,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::High => "high",
            Level::Medium => "medium",
            Level::Low => "low",
            Level::Info => "info",
        }
    }

    pub fn parse(s: &str) -> Level {
        match s {
            "high" => Level::High,
            "medium" => Level::Medium,
            "low" => Level::Low,
            _ => Level::Info,
        }
    }
}

impl From<Severity> for Level {
    fn from(s: Severity) -> Self {
        match s {
            Severity::High => Level::High,
            Severity::Medium => Level::Medium,
            Severity::Low => Level::Low,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub rule: Rule,
    pub key: String,
    pub title: String,
    pub body: String,
    pub level: Level,
    /// The portal page that shows it (a path).
    pub link: Option<String>,
}

/// An open action, for "open longer than N days".
#[derive(Clone, Debug)]
pub struct OpenAction {
    pub id: i64,
    pub kind: FindingKind,
    /// (engine, key, name); None for an action across services.
    pub service: Option<(String, String, String)>,
    pub opened_at: OffsetDateTime,
}

/// A rollout item whose latest status is below `verified` after having been verified.
#[derive(Clone, Debug)]
pub struct FallenItem {
    pub item_id: i64,
    pub rollout_id: i64,
    pub rollout: String,
    pub title: String,
    pub status: String,
}

/// The grade as the worker just scored it.
#[derive(Clone, Debug)]
pub struct GradeNow {
    pub letter: String,
    pub total: String,
    pub cap: Option<String>,
}

/// What the rules read; a rule that is off needs none of its part.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub services: Vec<ServiceSummary>,
    pub open_actions: Vec<OpenAction>,
    pub grade: Option<GradeNow>,
    pub engines: Vec<EngineStatus>,
    pub phases: Vec<PhaseSummary>,
    pub fallen: Vec<FallenItem>,
    pub routes: Vec<RouteRow>,
}

fn service_page(engine: &str, key: &str) -> String {
    format!("/services/{}/{}", url_encode(engine), url_encode(key))
}

const BACKUP_KINDS: [FindingKind; 3] = [
    FindingKind::BackupLate,
    FindingKind::BackupMissing,
    FindingKind::BackupFailing,
];

/// Findings of `kinds` (or of `severity`) on the current services, one condition each.
fn finding_conditions(
    rule: Rule,
    services: &[ServiceSummary],
    keep: impl Fn(&app::model::Finding) -> bool,
) -> Vec<Condition> {
    services
        .iter()
        .filter(|s| s.removed_at.is_none())
        .flat_map(|s| {
            s.findings
                .iter()
                .filter(|f| keep(f))
                .map(move |f| Condition {
                    rule,
                    key: format!("{}/{}/{}", s.engine, s.key, f.kind.slug()),
                    title: format!("{}: {}", s.display_name, f.kind.title()),
                    body: format!("{}\nFix: {}", f.fact, f.fix),
                    level: f.severity.into(),
                    link: Some(service_page(&s.engine, &s.key)),
                })
        })
        .collect()
}

/// Every condition that holds now under the rules that are on.
pub fn evaluate(facts: &Facts, rules: &[RuleSetting], now: OffsetDateTime) -> Vec<Condition> {
    let mut out = vec![];
    for setting in rules.iter().filter(|r| r.enabled) {
        let rule = setting.rule;
        match rule {
            Rule::HighFinding => out.extend(finding_conditions(rule, &facts.services, |f| {
                f.severity == Severity::High
            })),
            Rule::BackupLate => out.extend(finding_conditions(rule, &facts.services, |f| {
                BACKUP_KINDS.contains(&f.kind)
            })),
            Rule::FindingOpen => {
                let days = i64::from(setting.days.max(1));
                for a in &facts.open_actions {
                    let open_days = (now - a.opened_at).whole_days();
                    if open_days < days {
                        continue;
                    }
                    let (name, link) = match &a.service {
                        Some((engine, key, name)) => (name.clone(), service_page(engine, key)),
                        None => ("several services".to_string(), "/actions".to_string()),
                    };
                    out.push(Condition {
                        rule,
                        key: format!("action/{}/{}d", a.id, days),
                        title: format!("{name}: {} open for {open_days} days", a.kind.title()),
                        body: format!(
                            "This finding has been open since {} and its action is not an accepted risk.",
                            a.opened_at.date()
                        ),
                        level: Level::Medium,
                        link: Some(link),
                    });
                }
            }
            Rule::LetterChanged => {
                if let Some(g) = &facts.grade {
                    out.push(Condition {
                        rule,
                        key: g.letter.clone(),
                        title: format!("The grade's letter is now {}", g.letter),
                        body: format!("Total {} points.", g.total),
                        level: Level::Info,
                        link: Some("/grades".into()),
                    });
                }
            }
            Rule::CapBinding => {
                if let Some((g, cap)) = facts
                    .grade
                    .as_ref()
                    .and_then(|g| Some((g, g.cap.as_ref()?)))
                {
                    out.push(Condition {
                        rule,
                        key: cap.clone(),
                        title: format!("A cap holds the letter at {}", g.letter),
                        body: format!("{cap} (total {} points).", g.total),
                        level: Level::Medium,
                        link: Some("/grades".into()),
                    });
                }
            }
            Rule::EngineDown => {
                for e in facts.engines.iter().filter(|e| !e.reachable || e.stale) {
                    let what = if e.reachable { "stale" } else { "unreachable" };
                    out.push(Condition {
                        rule,
                        key: e.name.clone(),
                        title: format!("Engine {} is {what}", e.name),
                        body: e
                            .last_error
                            .clone()
                            .unwrap_or_else(|| "No successful refresh recently.".into()),
                        level: Level::High,
                        link: Some("/engines".into()),
                    });
                }
            }
            Rule::PhaseAwaitingSignoff => {
                for p in facts.phases.iter().filter(|p| {
                    p.total > 0 && p.open() == 0 && p.last_decision.as_deref() != Some("approved")
                }) {
                    out.push(Condition {
                        rule,
                        key: p.id.to_string(),
                        title: format!("{} awaits sign-off", p.number),
                        body: format!(
                            "{}: every deliverable is done or waived ({} done, {} waived).",
                            p.short_title(),
                            p.done,
                            p.waived
                        ),
                        level: Level::Info,
                        link: Some(format!("/phases/{}", p.id)),
                    });
                }
            }
            Rule::RolloutFellBack => {
                for i in &facts.fallen {
                    out.push(Condition {
                        rule,
                        key: i.item_id.to_string(),
                        title: format!("{}: '{}' fell back to {}", i.rollout, i.title, i.status),
                        body: "It was verified before; its latest status is lower.".into(),
                        level: Level::Medium,
                        link: Some(format!("/rollouts/{}", i.rollout_id)),
                    });
                }
            }
            Rule::CertExpiring => {
                for r in &facts.routes {
                    if let Some(f) = r
                        .findings
                        .iter()
                        .find(|f| f.kind == FindingKind::CertExpiring)
                    {
                        out.push(Condition {
                            rule,
                            key: r.url.clone(),
                            title: format!("The certificate of {} expires soon", r.host),
                            body: f.fact.clone(),
                            level: f.severity.into(),
                            link: Some("/routes?sort=cert".into()),
                        });
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Finding;

    fn on(rules: &[Rule]) -> Vec<RuleSetting> {
        rules
            .iter()
            .map(|r| RuleSetting {
                rule: *r,
                enabled: true,
                days: 7,
            })
            .collect()
    }

    fn service(name: &str, findings: Vec<Finding>) -> ServiceSummary {
        ServiceSummary {
            engine: "master".into(),
            key: format!("stack/{name}"),
            display_name: name.into(),
            group: None,
            image_ref: "x:1".into(),
            state: "running".into(),
            health: None,
            stale: false,
            last_seen: OffsetDateTime::UNIX_EPOCH,
            removed_at: None,
            availability_24h: None,
            availability_from_routes: false,
            routes: 0,
            routes_failing: 0,
            cpu_percent: None,
            cpu_limit: None,
            memory_usage_bytes: None,
            memory_limit_bytes: None,
            findings,
            doc: None,
        }
    }

    fn finding(kind: FindingKind, severity: Severity) -> Finding {
        Finding {
            kind,
            severity,
            fact: "the fact".into(),
            fix: "the fix".into(),
        }
    }

    #[test]
    fn only_rules_that_are_on_raise_conditions_and_keys_are_stable() {
        let facts = Facts {
            services: vec![service(
                "db",
                vec![
                    finding(FindingKind::DockerSocket, Severity::High),
                    finding(FindingKind::NoCpuLimit, Severity::Low),
                    finding(FindingKind::BackupLate, Severity::Medium),
                ],
            )],
            ..Facts::default()
        };
        let now = OffsetDateTime::UNIX_EPOCH;
        assert!(evaluate(&facts, &[], now).is_empty());
        let high = evaluate(&facts, &on(&[Rule::HighFinding]), now);
        assert_eq!(high.len(), 1, "{high:?}");
        assert_eq!(high[0].key, "master/stack/db/docker_socket");
        assert_eq!(high[0].link.as_deref(), Some("/services/master/stack%2Fdb"));
        assert_eq!(
            evaluate(&facts, &on(&[Rule::HighFinding]), now),
            high,
            "same facts, same keys"
        );
        let backups = evaluate(&facts, &on(&[Rule::BackupLate]), now);
        assert_eq!(backups.len(), 1);
        assert_eq!(backups[0].level, Level::Medium);
    }

    #[test]
    fn an_action_counts_once_it_is_open_long_enough() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(30);
        let action = |id, days_ago| OpenAction {
            id,
            kind: FindingKind::NoHealthcheck,
            service: Some(("master".into(), "stack/web".into(), "web".into())),
            opened_at: now - time::Duration::days(days_ago),
        };
        let facts = Facts {
            open_actions: vec![action(1, 3), action(2, 7), action(3, 20)],
            ..Facts::default()
        };
        let found = evaluate(&facts, &on(&[Rule::FindingOpen]), now);
        let keys: Vec<&str> = found.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["action/2/7d", "action/3/7d"]);
        assert!(found[1].title.contains("open for 20 days"));
    }

    #[test]
    fn the_letter_the_cap_and_a_phase_ready_for_sign_off() {
        let facts = Facts {
            grade: Some(GradeNow {
                letter: "C".into(),
                total: "78.40".into(),
                cap: Some("C while a high finding is open".into()),
            }),
            ..Facts::default()
        };
        let now = OffsetDateTime::UNIX_EPOCH;
        let found = evaluate(&facts, &on(&[Rule::LetterChanged, Rule::CapBinding]), now);
        let keys: Vec<&str> = found.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["C", "C while a high finding is open"]);
        let uncapped = Facts {
            grade: Some(GradeNow {
                cap: None,
                ..facts.grade.clone().unwrap()
            }),
            ..Facts::default()
        };
        assert!(evaluate(&uncapped, &on(&[Rule::CapBinding]), now).is_empty());
    }
}
