//! Deliverables that verify themselves: a deliverable bound to a live check is done while the
//! check passes and open again, with the failing fact, when it stops passing. The checks are
//! written as short specs stored on the deliverable:
//!
//! - `no_finding:<kind>` no current service has the finding; `no_finding:<kind>@<engine>/<key>,…`
//!   none of the named services has it (and each exists);
//! - `coverage:<percent>` documentation coverage at least that;
//! - `grade:<points>` the measured grade at least that; `letter:<letter>` that letter or better;
//! - `rollout_item:<id>` that rollout checklist item verified;
//! - `route:<host>` every route to that host answered its latest probe and has no finding;
//! - `backup:<job>` that backup job is on time, passing and restore-tested.

use std::collections::HashMap;

use app::model::FindingKind;
use app::model::rollouts::ItemStatus;

pub use super::check_suggest::suggest;

/// A live check a deliverable is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliverableCheck {
    NoFinding {
        kind: FindingKind,
        /// (engine, key); empty: the whole fleet.
        services: Vec<(String, String)>,
    },
    /// Hundredths of a percent of running services documented.
    Coverage(u32),
    /// Hundredths of a point.
    Grade(u32),
    Letter(String),
    RolloutItem(i64),
    /// A host users reach through Traefik, e.g. `grafana.quietly.online`.
    Route(String),
    /// A backup job's name, as declared in `[[backups]]` or an `audit.backup` label.
    Backup(String),
}

pub use app::model::phases::CHECK_KINDS as KINDS;

impl DeliverableCheck {
    /// Reads a spec (`kind:parameter`), or says what is wrong with it.
    pub fn parse(spec: &str) -> Result<DeliverableCheck, String> {
        let spec = spec.trim();
        let (kind, parameter) = spec
            .split_once(':')
            .map(|(k, p)| (k.trim(), p.trim()))
            .ok_or_else(|| format!("'{spec}' is not kind:parameter (e.g. coverage:50)"))?;
        let number = |text: &str| -> Result<u32, String> {
            let hundredths = crate::grade::rubric::Score::parse(text)
                .map_err(|_| format!("'{text}' is not a number from 0 to 100"))?;
            Ok(hundredths.hundredths())
        };
        match kind {
            "no_finding" => {
                let (kind_text, services) = match parameter.split_once('@') {
                    Some((k, s)) => (k.trim(), s),
                    None => (parameter, ""),
                };
                let kind = FindingKind::ALL
                    .into_iter()
                    .find(|k| k.slug() == kind_text)
                    .ok_or_else(|| format!("'{kind_text}' is not a finding kind"))?;
                let mut named = vec![];
                for service in services.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let (engine, key) = service
                        .split_once('/')
                        .filter(|(e, k)| !e.is_empty() && !k.is_empty())
                        .ok_or_else(|| format!("'{service}' is not engine/key"))?;
                    named.push((engine.to_string(), key.to_string()));
                }
                Ok(DeliverableCheck::NoFinding {
                    kind,
                    services: named,
                })
            }
            "coverage" => Ok(DeliverableCheck::Coverage(number(
                parameter.trim_end_matches('%'),
            )?)),
            "grade" => Ok(DeliverableCheck::Grade(number(
                parameter.split('/').next().unwrap_or_default(),
            )?)),
            "letter" if !parameter.is_empty() && parameter.len() <= 8 => {
                Ok(DeliverableCheck::Letter(parameter.to_string()))
            }
            "letter" => Err("a letter check needs a letter, e.g. letter:A".into()),
            "rollout_item" => parameter
                .trim_start_matches('#')
                .parse::<i64>()
                .map(DeliverableCheck::RolloutItem)
                .map_err(|_| format!("'{parameter}' is not a rollout item number")),
            "route" => {
                let host = parameter.to_ascii_lowercase();
                let plausible = !host.is_empty()
                    && host.len() <= 253
                    && host
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
                if plausible {
                    Ok(DeliverableCheck::Route(host))
                } else {
                    Err(format!(
                        "'{parameter}' is not a host name (e.g. grafana.quietly.online)"
                    ))
                }
            }
            "backup" if !parameter.is_empty() && parameter.len() <= 100 => {
                Ok(DeliverableCheck::Backup(parameter.to_string()))
            }
            "backup" => Err("a backup check needs the job's name, e.g. backup:postgres".into()),
            other => Err(format!(
                "'{other}' is not a check; choose one of {}",
                KINDS.map(|(k, _)| k).join(", ")
            )),
        }
    }

    /// The spec as stored.
    pub fn spec(&self) -> String {
        let points = |h: u32| crate::grade::rubric::Score::from_hundredths(h).to_string();
        match self {
            DeliverableCheck::NoFinding { kind, services } if services.is_empty() => {
                format!("no_finding:{}", kind.slug())
            }
            DeliverableCheck::NoFinding { kind, services } => format!(
                "no_finding:{}@{}",
                kind.slug(),
                services
                    .iter()
                    .map(|(e, k)| format!("{e}/{k}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            DeliverableCheck::Coverage(h) => format!("coverage:{}", points(*h)),
            DeliverableCheck::Grade(h) => format!("grade:{}", points(*h)),
            DeliverableCheck::Letter(l) => format!("letter:{l}"),
            DeliverableCheck::RolloutItem(id) => format!("rollout_item:{id}"),
            DeliverableCheck::Route(host) => format!("route:{host}"),
            DeliverableCheck::Backup(job) => format!("backup:{job}"),
        }
    }

    /// What the check asks, in words.
    pub fn describe(&self) -> String {
        let points = |h: u32| crate::grade::rubric::Score::from_hundredths(h).to_string();
        match self {
            DeliverableCheck::NoFinding { kind, services } if services.is_empty() => {
                format!("no service has the finding {}", kind.slug())
            }
            DeliverableCheck::NoFinding { kind, services } => format!(
                "none of {} has the finding {}",
                services
                    .iter()
                    .map(|(e, k)| format!("{e}/{k}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                kind.slug()
            ),
            DeliverableCheck::Coverage(h) => {
                format!("documentation coverage at least {}%", points(*h))
            }
            DeliverableCheck::Grade(h) => format!("the measured grade at least {}", points(*h)),
            DeliverableCheck::Letter(l) => format!("the grade's letter {l} or better"),
            DeliverableCheck::RolloutItem(id) => format!("rollout item #{id} verified"),
            DeliverableCheck::Route(host) => {
                format!("every route to {host} answers and has no finding")
            }
            DeliverableCheck::Backup(job) => {
                format!("backup job '{job}' on time, passing and restore-tested")
            }
        }
    }
}

/// What the checks read, gathered once per evaluation.
pub struct Facts {
    /// (engine, key) → current findings, for every current service.
    pub services: HashMap<(String, String), Vec<FindingKind>>,
    /// Hundredths of a percent of running services documented.
    pub coverage: u32,
    /// Hundredths of a point, and the letter after caps.
    pub grade: u32,
    pub letter: String,
    /// The rubric's letters, best first, the failing letter last.
    pub letters: Vec<String>,
    /// Rollout item id → its status.
    pub rollout_items: HashMap<i64, ItemStatus>,
    /// Host → each of its routes as probed.
    pub routes: HashMap<String, Vec<RouteFact>>,
    /// Backup job → what is wrong with it now (empty: on time, passing, restore-tested).
    pub backup_jobs: HashMap<String, Vec<String>>,
}

/// One route as its latest probe and the audit left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteFact {
    pub url: String,
    /// The latest probe's verdict; None: not probed yet.
    pub probe_ok: Option<bool>,
    /// The route's findings' slugs.
    pub findings: Vec<String>,
}

/// Whether the check passes now, and the fact that says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub passing: bool,
    pub fact: String,
}

fn pct(h: u32) -> String {
    crate::grade::rubric::Score::from_hundredths(h).to_string()
}

pub fn evaluate(check: &DeliverableCheck, facts: &Facts) -> Outcome {
    let outcome = |passing: bool, fact: String| Outcome { passing, fact };
    match check {
        DeliverableCheck::NoFinding { kind, services } if services.is_empty() => {
            let mut with: Vec<String> = facts
                .services
                .iter()
                .filter(|(_, kinds)| kinds.contains(kind))
                .map(|((e, k), _)| format!("{e}/{k}"))
                .collect();
            with.sort();
            if with.is_empty() {
                outcome(
                    true,
                    format!(
                        "None of the {} current services has {}.",
                        facts.services.len(),
                        kind.slug()
                    ),
                )
            } else {
                outcome(
                    false,
                    format!("{} still has {}.", with.join(", "), kind.slug()),
                )
            }
        }
        DeliverableCheck::NoFinding { kind, services } => {
            let mut problems = vec![];
            for (engine, key) in services {
                match facts.services.get(&(engine.clone(), key.clone())) {
                    None => problems.push(format!("{engine}/{key} is not in the inventory")),
                    Some(kinds) if kinds.contains(kind) => {
                        problems.push(format!("{engine}/{key} has {}", kind.slug()))
                    }
                    Some(_) => {}
                }
            }
            if problems.is_empty() {
                outcome(
                    true,
                    format!(
                        "None of the {} named services has {}.",
                        services.len(),
                        kind.slug()
                    ),
                )
            } else {
                outcome(false, format!("{}.", problems.join("; ")))
            }
        }
        DeliverableCheck::Coverage(min) => outcome(
            facts.coverage >= *min,
            format!(
                "Documentation coverage is {}% (asked: at least {}%).",
                pct(facts.coverage),
                pct(*min)
            ),
        ),
        DeliverableCheck::Grade(min) => outcome(
            facts.grade >= *min,
            format!(
                "The measured grade is {} (asked: at least {}).",
                pct(facts.grade),
                pct(*min)
            ),
        ),
        DeliverableCheck::Letter(wanted) => {
            let rank = |l: &str| facts.letters.iter().position(|x| x == l);
            match (rank(wanted), rank(&facts.letter)) {
                (None, _) => outcome(
                    false,
                    format!("{wanted} is not a letter of the current rubric."),
                ),
                (Some(w), Some(now)) => outcome(
                    now <= w,
                    format!(
                        "The grade's letter is {} (asked: {wanted} or better).",
                        facts.letter
                    ),
                ),
                (Some(_), None) => outcome(
                    false,
                    format!("The grade's letter {} is not in the rubric.", facts.letter),
                ),
            }
        }
        DeliverableCheck::RolloutItem(id) => match facts.rollout_items.get(id) {
            Some(status) => outcome(
                *status == ItemStatus::Verified,
                format!("Rollout item #{id} is {}.", status.label()),
            ),
            None => outcome(false, format!("Rollout item #{id} does not exist.")),
        },
        DeliverableCheck::Route(host) => match facts.routes.get(host) {
            None => outcome(
                false,
                format!("No route to {host} is known (from labels, Traefik or the probe list)."),
            ),
            Some(routes) => {
                let problems: Vec<String> = routes
                    .iter()
                    .filter_map(|r| match (r.probe_ok, r.findings.is_empty()) {
                        (Some(true), true) => None,
                        (None, _) => Some(format!("{} has not been probed yet", r.url)),
                        (Some(false), true) => Some(format!("{} failed its latest probe", r.url)),
                        (_, false) => Some(format!("{} has {}", r.url, r.findings.join(", "))),
                    })
                    .collect();
                if problems.is_empty() {
                    outcome(
                        true,
                        format!(
                            "{} route(s) to {host} answered their latest probe with no finding.",
                            routes.len()
                        ),
                    )
                } else {
                    outcome(false, format!("{}.", problems.join("; ")))
                }
            }
        },
        DeliverableCheck::Backup(job) => match facts.backup_jobs.get(job) {
            None => outcome(
                false,
                format!(
                    "No backup job '{job}' is declared ([[backups]] or an audit.backup label)."
                ),
            ),
            Some(problems) if problems.is_empty() => outcome(
                true,
                format!("Backup job '{job}' is on time, passing and restore-tested."),
            ),
            Some(problems) => outcome(false, format!("{}.", problems.join("; "))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        let mut services = HashMap::new();
        services.insert(
            ("master".into(), "web".into()),
            vec![FindingKind::NoRestartPolicy],
        );
        services.insert(("master".into(), "db".into()), vec![]);
        Facts {
            services,
            coverage: 4_200,
            grade: 8_850,
            letter: "B".into(),
            letters: vec!["A".into(), "B".into(), "C".into()],
            rollout_items: HashMap::from([(7, ItemStatus::Verified), (8, ItemStatus::Todo)]),
            routes: HashMap::from([
                (
                    "grafana.example".to_string(),
                    vec![RouteFact {
                        url: "https://grafana.example/".into(),
                        probe_ok: Some(true),
                        findings: vec![],
                    }],
                ),
                (
                    "wiki.example".to_string(),
                    vec![
                        RouteFact {
                            url: "https://wiki.example/".into(),
                            probe_ok: Some(true),
                            findings: vec![],
                        },
                        RouteFact {
                            url: "https://wiki.example/admin".into(),
                            probe_ok: Some(true),
                            findings: vec!["cert_expiring".into()],
                        },
                    ],
                ),
                (
                    "new.example".to_string(),
                    vec![RouteFact {
                        url: "https://new.example/".into(),
                        probe_ok: None,
                        findings: vec![],
                    }],
                ),
            ]),
            backup_jobs: HashMap::from([
                ("postgres".to_string(), vec![]),
                (
                    "files".to_string(),
                    vec!["job 'files': no successful restore test reported".to_string()],
                ),
            ]),
        }
    }

    #[test]
    fn specs_round_trip_and_bad_ones_say_why() {
        for spec in [
            "no_finding:no_restart_policy",
            "no_finding:no_restart_policy@master/web,lady/db",
            "coverage:50.00",
            "grade:93.00",
            "letter:A",
            "rollout_item:7",
            "route:grafana.example",
            "backup:postgres",
        ] {
            assert_eq!(DeliverableCheck::parse(spec).unwrap().spec(), spec);
        }
        assert_eq!(
            DeliverableCheck::parse("grade:93/100").unwrap(),
            DeliverableCheck::Grade(9_300)
        );
        assert_eq!(
            DeliverableCheck::parse("coverage:50%").unwrap(),
            DeliverableCheck::Coverage(5_000)
        );
        for (bad, says) in [
            ("coverage", "not kind:parameter"),
            ("no_finding:no_such_thing", "not a finding kind"),
            ("no_finding:no_restart_policy@web", "not engine/key"),
            ("grade:140", "not a number from 0 to 100"),
            ("rollout_item:x", "not a rollout item number"),
            ("uptime:99", "not a check"),
            ("route:https://x/", "not a host name"),
            ("backup:", "needs the job's name"),
        ] {
            let err = DeliverableCheck::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn plan_items_suggest_the_check_their_words_promise() {
        let spec = |item: &str| suggest(item).map(|c| c.spec());
        assert_eq!(
            spec("All health checks implemented").as_deref(),
            Some("no_finding:no_healthcheck")
        );
        assert_eq!(
            spec("Restart policies on every container").as_deref(),
            Some("no_finding:no_restart_policy")
        );
        assert_eq!(
            spec("Documentation coverage 50%").as_deref(),
            Some("coverage:50.00")
        );
        assert_eq!(
            spec("Grade verified: 93/100").as_deref(),
            Some("grade:93.00")
        );
        assert_eq!(
            spec("Every admin UI behind Authelia").as_deref(),
            Some("no_finding:route_without_auth")
        );
        // A topic mentioned without a promise, or a promise without a figure, suggests nothing.
        assert_eq!(spec("Write the health check for grafana"), None);
        assert_eq!(spec("Improve the documentation"), None);
        assert_eq!(spec("Import tested"), None);
        assert_eq!(spec("Evidence recorded"), None);
        assert_eq!(spec("Discuss the grade with management"), None);
    }

    #[test]
    fn each_check_passes_or_fails_with_its_fact() {
        let f = facts();
        let run = |spec: &str| evaluate(&DeliverableCheck::parse(spec).unwrap(), &f);
        assert_eq!(
            run("no_finding:no_restart_policy"),
            Outcome {
                passing: false,
                fact: "master/web still has no_restart_policy.".into()
            }
        );
        assert!(run("no_finding:no_healthcheck").passing);
        assert!(run("no_finding:no_restart_policy@master/db").passing);
        assert_eq!(
            run("no_finding:no_restart_policy@master/gone").fact,
            "master/gone is not in the inventory."
        );
        assert!(!run("coverage:50").passing);
        assert!(run("coverage:42").passing);
        assert!(run("grade:88.5").passing);
        assert!(!run("grade:93").passing);
        assert!(run("letter:B").passing && run("letter:C").passing);
        assert!(!run("letter:A").passing);
        assert!(!run("letter:Z").passing);
        assert!(run("rollout_item:7").passing);
        assert!(!run("rollout_item:8").passing);
        assert!(!run("rollout_item:9").passing);
        assert!(run("route:grafana.example").passing);
        assert!(
            run("route:GRAFANA.example").passing,
            "host names are case-blind"
        );
        assert_eq!(
            run("route:wiki.example").fact,
            "https://wiki.example/admin has cert_expiring."
        );
        assert_eq!(
            run("route:new.example").fact,
            "https://new.example/ has not been probed yet."
        );
        assert!(!run("route:gone.example").passing);
        assert!(run("backup:postgres").passing);
        assert_eq!(
            run("backup:files").fact,
            "job 'files': no successful restore test reported."
        );
        assert!(!run("backup:nightly").passing);
    }
}
