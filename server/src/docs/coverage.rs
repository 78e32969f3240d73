//! Coverage against the live inventory, never a typed-in count: which running services have a
//! doc, which pass the checklist, which are fresh, and what to write next. Pure.

use std::collections::BTreeMap;

use time::Date;

use app::model::docs::{
    Attestation, CoverageFigures, CoverageReport, DocCheck, DocClaim, DocStatus, ServiceRef,
    Undocumented,
};

use super::scan::ScannedDoc;

/// The inputs, as read from Postgres.
pub struct CoverageInput<'a> {
    pub services: &'a [ServiceRef],
    pub docs: &'a [ScannedDoc],
    pub problems: &'a [(String, String)],
    /// Latest attestation per doc path.
    pub attestations: &'a BTreeMap<String, Attestation>,
    pub claims: &'a [DocClaim],
    pub freshness_days: i64,
    pub target_share: f64,
    pub today: Date,
    pub docs_dir_configured: bool,
}

/// Whether a doc names this service (by key, compose service, container or display name), on
/// its engine when the doc names one, or points at it through the `audit.docs` label.
fn names_service(doc: &ScannedDoc, s: &ServiceRef) -> bool {
    if doc
        .engine
        .as_deref()
        .is_some_and(|e| !e.eq_ignore_ascii_case(&s.engine))
    {
        return false;
    }
    if s.doc_label
        .as_deref()
        .is_some_and(|label| label.trim_start_matches("./") == doc.path)
    {
        return true;
    }
    let candidates = [
        Some(&s.key),
        s.compose_service.as_ref(),
        Some(&s.container_name),
        Some(&s.display_name),
    ];
    doc.services.iter().any(|name| {
        candidates
            .iter()
            .flatten()
            .any(|c| c.eq_ignore_ascii_case(name.trim()))
    })
}

fn freshness(
    doc: &ScannedDoc,
    attested: Option<&Attestation>,
    days: i64,
    today: Date,
) -> (bool, DocCheck) {
    let from_file = doc.last_verified;
    let from_people = attested.map(|a| a.at.date());
    let latest = from_file.max(from_people);
    match latest {
        None => (
            false,
            DocCheck {
                name: "Fresh".into(),
                passed: false,
                reason: "never verified".into(),
            },
        ),
        Some(d) => {
            let age = (today - d).whole_days();
            let source = if from_people.is_some() && from_people >= from_file {
                "attested"
            } else {
                "last_verified"
            };
            let fresh = age <= days;
            let reason = if fresh {
                format!("verified {age} day(s) ago ({source} {d}), within {days}")
            } else {
                format!("verified {age} days ago ({source} {d}), older than {days}")
            };
            (
                fresh,
                DocCheck {
                    name: "Fresh".into(),
                    passed: fresh,
                    reason,
                },
            )
        }
    }
}

pub fn report(input: CoverageInput) -> CoverageReport {
    let running: Vec<&ServiceRef> = input.services.iter().filter(|s| s.running).collect();
    let mut statuses: Vec<DocStatus> = input
        .docs
        .iter()
        .map(|doc| {
            let attested = input.attestations.get(&doc.path);
            let (fresh, fresh_check) = freshness(doc, attested, input.freshness_days, input.today);
            let mut checks = doc.checks.clone();
            checks.push(fresh_check);
            let covers = input
                .services
                .iter()
                .filter(|s| names_service(doc, s))
                .map(|s| (s.engine.clone(), s.key.clone()))
                .collect();
            DocStatus {
                path: doc.path.clone(),
                title: doc.title.clone(),
                services: doc.services.clone(),
                engine: doc.engine.clone(),
                owner: doc.owner.clone(),
                last_verified: doc.last_verified,
                attested: attested.cloned(),
                fresh,
                passing: checks.iter().all(|c| c.passed),
                checks,
                covers,
            }
        })
        .collect();

    let doc_of = |s: &ServiceRef| {
        statuses
            .iter()
            .find(|d| d.covers.iter().any(|(e, k)| *e == s.engine && *k == s.key))
    };
    let figures = |services: &[&ServiceRef]| {
        let mut f = CoverageFigures {
            services: services.len() as i64,
            ..Default::default()
        };
        for s in services {
            if let Some(d) = doc_of(s) {
                f.documented += 1;
                f.passing += i64::from(d.passing);
                f.fresh += i64::from(d.fresh);
            }
        }
        f
    };
    let overall = figures(&running);
    let mut engines: Vec<&str> = running.iter().map(|s| s.engine.as_str()).collect();
    engines.sort();
    engines.dedup();
    let per_engine = engines
        .iter()
        .map(|e| {
            let on: Vec<&ServiceRef> = running.iter().copied().filter(|s| s.engine == *e).collect();
            (e.to_string(), figures(&on))
        })
        .collect();

    let mut undocumented: Vec<&ServiceRef> = running
        .iter()
        .copied()
        .filter(|s| doc_of(s).is_none())
        .collect();
    // Most findings first, then most exposure (routes and ports), then most restarts and log errors.
    undocumented.sort_by(|a, b| {
        (
            b.findings,
            b.high_findings,
            b.exposures,
            b.restarts + b.log_errors,
        )
            .cmp(&(
                a.findings,
                a.high_findings,
                a.exposures,
                a.restarts + a.log_errors,
            ))
            .then(a.key.cmp(&b.key))
    });
    let undocumented = undocumented
        .into_iter()
        .enumerate()
        .map(|(i, s)| Undocumented {
            engine: s.engine.clone(),
            key: s.key.clone(),
            name: s.display_name.clone(),
            rank: i + 1,
            reason: rank_reason(s),
            claim: input
                .claims
                .iter()
                .find(|c| c.engine == s.engine && c.key == s.key)
                .cloned(),
        })
        .collect();

    let (orphans, docs): (Vec<DocStatus>, Vec<DocStatus>) =
        statuses.drain(..).partition(|d| d.covers.is_empty());
    CoverageReport {
        overall,
        per_engine,
        target_share: input.target_share,
        undocumented,
        docs,
        orphans,
        problems: input.problems.to_vec(),
        claims: input.claims.to_vec(),
        freshness_days: input.freshness_days,
        docs_dir_configured: input.docs_dir_configured,
    }
}

fn rank_reason(s: &ServiceRef) -> String {
    let mut parts = vec![format!("{} finding(s)", s.findings)];
    if s.high_findings > 0 {
        parts[0] = format!("{} finding(s), {} high", s.findings, s.high_findings);
    }
    parts.push(format!("{} route(s) or published port(s)", s.exposures));
    if s.restarts > 0 || s.log_errors > 0 {
        parts.push(format!(
            "{} restart(s), {} log error(s)",
            s.restarts, s.log_errors
        ));
    }
    parts.join("; ")
}
