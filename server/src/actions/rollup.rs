//! From findings to actions, and what the worker must record to keep the stored actions in step:
//! pure functions over plain data, so the rules are tested without a database.

use std::collections::BTreeMap;

use time::{Date, OffsetDateTime};

use app::model::actions::{ActionService, ActionState, Effort};
use app::model::{Finding, FindingKind, Severity};

/// Kinds one change fixes for every service at once: a certificate is renewed by the one ACME
/// resolver, whichever routes carry it. Every other kind is fixed service by service, so each
/// service gets its own action (and its own owner).
pub const FIXED_ONCE: [FindingKind; 2] = [FindingKind::CertExpiring, FindingKind::CertNotRenewing];

/// An action's identity: the kind, and the service (None: across services).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActionKey {
    pub kind: FindingKind,
    pub service_id: Option<i64>,
}

/// A current service and its findings.
#[derive(Clone, Debug)]
pub struct CurrentService {
    pub id: i64,
    pub engine: String,
    pub key: String,
    pub name: String,
    pub findings: Vec<Finding>,
}

/// The findings one action gathers.
#[derive(Clone, Debug, PartialEq)]
pub struct Rolled {
    pub severity: Severity,
    pub fix: String,
    /// (service id, the service and its fact)
    pub services: Vec<(i64, ActionService)>,
}

impl Rolled {
    pub fn service_ids(&self) -> Vec<i64> {
        self.services.iter().map(|(id, _)| *id).collect()
    }
}

/// The actions the current findings call for.
pub fn current(services: &[CurrentService]) -> BTreeMap<ActionKey, Rolled> {
    let mut out: BTreeMap<ActionKey, Rolled> = BTreeMap::new();
    for s in services {
        for f in &s.findings {
            let key = ActionKey {
                kind: f.kind,
                service_id: (!FIXED_ONCE.contains(&f.kind)).then_some(s.id),
            };
            let entry = out.entry(key).or_insert_with(|| Rolled {
                severity: f.severity,
                fix: f.fix.clone(),
                services: vec![],
            });
            // Most severe first in the ordering, so `min` keeps the worst.
            entry.severity = entry.severity.min(f.severity);
            let service = ActionService {
                engine: s.engine.clone(),
                key: s.key.clone(),
                name: s.name.clone(),
                fact: f.fact.clone(),
            };
            match entry.services.iter_mut().find(|(id, _)| *id == s.id) {
                // A kind raised twice on one service (two public ports): one line, both facts.
                Some((_, known)) => known.fact = format!("{}; {}", known.fact, f.fact),
                None => entry.services.push((s.id, service)),
            }
        }
    }
    out
}

/// The latest change of a stored action: what is in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Latest {
    pub state: ActionState,
    pub owner: Option<String>,
    pub due_on: Option<Date>,
    pub effort: Option<Effort>,
    pub reason: Option<String>,
    pub risk_expires_on: Option<Date>,
    pub note: String,
    pub by: String,
    pub at: OffsetDateTime,
}

/// An action as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub id: i64,
    pub key: ActionKey,
    pub opened_at: OffsetDateTime,
    pub closed_at: Option<OffsetDateTime>,
    pub latest: Option<Latest>,
}

/// What one refresh changes in the stored actions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A new action: its findings appeared.
    Open(ActionKey),
    /// Its findings are gone: done, with the fact.
    Close { id: i64, note: String },
    /// A done action whose findings returned.
    Reopen { id: i64, note: String },
    /// An accepted risk past its expiry: open again (the findings never stopped counting).
    Expire { id: i64, note: String },
}

/// Compares the stored actions with the current ones. `gone_services` are ids of services that
/// have been removed (a per-service action closes with that fact rather than "fixed").
pub fn steps(
    stored: &[Stored],
    current: &BTreeMap<ActionKey, Rolled>,
    gone_services: &[i64],
    today: Date,
) -> Vec<Step> {
    let mut out = vec![];
    let known: std::collections::HashSet<ActionKey> = stored.iter().map(|s| s.key).collect();
    for key in current.keys().filter(|k| !known.contains(k)) {
        out.push(Step::Open(*key));
    }
    for s in stored {
        let present = current.contains_key(&s.key);
        match (s.closed_at, present) {
            (None, false) => {
                let note = match s.key.service_id {
                    Some(id) if gone_services.contains(&id) => {
                        "The service was removed, and its finding with it.".to_string()
                    }
                    Some(_) => {
                        format!("Verified: the service no longer has {}.", s.key.kind.slug())
                    }
                    None => format!("Verified: no current service has {}.", s.key.kind.slug()),
                };
                out.push(Step::Close { id: s.id, note });
            }
            (Some(_), true) => out.push(Step::Reopen {
                id: s.id,
                note: format!("Reopened: {} is back.", s.key.kind.slug()),
            }),
            (None, true) => {
                if let Some(latest) = &s.latest
                    && latest.state == ActionState::Accepted
                    && let Some(expiry) = latest.risk_expires_on
                    && expiry < today
                {
                    out.push(Step::Expire {
                        id: s.id,
                        note: format!("The accepted risk expired on {expiry}; open again."),
                    });
                }
            }
            (Some(_), false) => {}
        }
    }
    out
}

/// The state shown for an action: an accepted risk past its expiry is open, even before the
/// worker records it.
pub fn state_now(closed: bool, latest: Option<&Latest>, today: Date) -> ActionState {
    if closed {
        return ActionState::Done;
    }
    match latest {
        Some(l) if l.state == ActionState::Accepted => {
            if l.risk_expires_on.is_some_and(|d| d < today) {
                ActionState::Open
            } else {
                ActionState::Accepted
            }
        }
        _ => ActionState::Open,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn finding(kind: FindingKind, severity: Severity, fact: &str) -> Finding {
        Finding {
            kind,
            severity,
            fact: fact.into(),
            fix: format!("fix {}", kind.slug()),
        }
    }

    fn service(id: i64, findings: Vec<Finding>) -> CurrentService {
        CurrentService {
            id,
            engine: "master".into(),
            key: format!("svc{id}"),
            name: format!("Service {id}"),
            findings,
        }
    }

    #[test]
    fn one_action_per_kind_and_service_except_where_one_change_fixes_all() {
        let services = vec![
            service(
                1,
                vec![
                    finding(FindingKind::NoRestartPolicy, Severity::Medium, "policy no"),
                    finding(FindingKind::PublicPort, Severity::High, "port 80"),
                    finding(FindingKind::PublicPort, Severity::High, "port 443"),
                    finding(FindingKind::CertExpiring, Severity::Medium, "5 days"),
                ],
            ),
            service(
                2,
                vec![
                    finding(FindingKind::NoRestartPolicy, Severity::Medium, "policy no"),
                    finding(FindingKind::CertExpiring, Severity::High, "1 day"),
                ],
            ),
        ];
        let actions = current(&services);
        let keys: Vec<(FindingKind, Option<i64>)> =
            actions.keys().map(|k| (k.kind, k.service_id)).collect();
        assert_eq!(
            keys,
            vec![
                (FindingKind::NoRestartPolicy, Some(1)),
                (FindingKind::NoRestartPolicy, Some(2)),
                (FindingKind::PublicPort, Some(1)),
                (FindingKind::CertExpiring, None),
            ]
        );
        let ports = &actions[&ActionKey {
            kind: FindingKind::PublicPort,
            service_id: Some(1),
        }];
        assert_eq!(ports.services.len(), 1);
        assert_eq!(ports.services[0].1.fact, "port 80; port 443");
        let certs = &actions[&ActionKey {
            kind: FindingKind::CertExpiring,
            service_id: None,
        }];
        assert_eq!(certs.service_ids(), vec![1, 2]);
        assert_eq!(certs.severity, Severity::High, "the worst severity counts");
    }

    fn stored(id: i64, key: ActionKey, closed: bool, latest: Option<Latest>) -> Stored {
        Stored {
            id,
            key,
            opened_at: datetime!(2026-11-01 0:00 UTC),
            closed_at: closed.then_some(datetime!(2026-11-10 0:00 UTC)),
            latest,
        }
    }

    fn accepted_until(expiry: Date) -> Latest {
        Latest {
            state: ActionState::Accepted,
            owner: Some("ops".into()),
            due_on: None,
            effort: None,
            reason: Some("internal only".into()),
            risk_expires_on: Some(expiry),
            note: String::new(),
            by: "admin".into(),
            at: datetime!(2026-11-01 0:00 UTC),
        }
    }

    #[test]
    fn a_refresh_opens_closes_reopens_and_expires() {
        let key = |kind, service_id| ActionKey { kind, service_id };
        let restart1 = key(FindingKind::NoRestartPolicy, Some(1));
        let restart2 = key(FindingKind::NoRestartPolicy, Some(2));
        let port1 = key(FindingKind::PublicPort, Some(1));
        let cpu3 = key(FindingKind::NoCpuLimit, Some(3));
        let certs = key(FindingKind::CertExpiring, None);
        let rolled = Rolled {
            severity: Severity::Medium,
            fix: String::new(),
            services: vec![],
        };
        let now: BTreeMap<ActionKey, Rolled> = [restart1, port1, certs]
            .into_iter()
            .map(|k| (k, rolled.clone()))
            .collect();
        let today = date!(2026 - 12 - 02);
        let stored = vec![
            // Still open and accepted until tomorrow: nothing.
            stored(
                10,
                restart1,
                false,
                Some(accepted_until(date!(2026 - 12 - 03))),
            ),
            // Fixed on a service that still runs; and on one that was removed.
            stored(11, restart2, false, None),
            stored(12, cpu3, false, None),
            // Done earlier, back now.
            stored(13, certs, true, None),
            // Accepted until yesterday.
            stored(
                14,
                port1,
                false,
                Some(accepted_until(date!(2026 - 12 - 01))),
            ),
        ];
        let steps = steps(&stored, &now, &[3], today);
        assert_eq!(
            steps,
            vec![
                Step::Close {
                    id: 11,
                    note: "Verified: the service no longer has no_restart_policy.".into()
                },
                Step::Close {
                    id: 12,
                    note: "The service was removed, and its finding with it.".into()
                },
                Step::Reopen {
                    id: 13,
                    note: "Reopened: cert_expiring is back.".into()
                },
                Step::Expire {
                    id: 14,
                    note: "The accepted risk expired on 2026-12-01; open again.".into()
                },
            ]
        );
        // With nothing stored yet, every current action is opened, in key order.
        assert_eq!(
            super::steps(&[], &now, &[], today),
            vec![Step::Open(restart1), Step::Open(port1), Step::Open(certs)]
        );
    }

    #[test]
    fn an_expired_acceptance_shows_open_before_the_worker_records_it() {
        let today = date!(2026 - 12 - 02);
        let until_tomorrow = accepted_until(date!(2026 - 12 - 03));
        let until_yesterday = accepted_until(date!(2026 - 12 - 01));
        assert_eq!(
            state_now(false, Some(&until_tomorrow), today),
            ActionState::Accepted
        );
        assert_eq!(
            state_now(false, Some(&until_yesterday), today),
            ActionState::Open
        );
        assert_eq!(
            state_now(true, Some(&until_tomorrow), today),
            ActionState::Done
        );
        assert_eq!(state_now(false, None, today), ActionState::Open);
    }
}
