//! Scoring each category from evidence, with its formula shown; assessments with expiry;
//! overrides; caps. Pure: the inputs are read from Postgres elsewhere.

use time::{Date, OffsetDateTime};

use app::model::FindingKind;
use app::model::docs::CoverageFigures;
use app::model::grade::ScoreSource;

use super::caps::CapRule;
use super::rubric::{Rubric, Score, Total, gaps};

/// What the inventory says about one current service.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceEvidence {
    pub availability_7d: Option<f64>,
    /// Whether the figure is its routes' probes (what users reach) rather than its container's.
    pub availability_from_routes: bool,
    pub findings: Vec<FindingKind>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assessment {
    pub category: String,
    pub score: Score,
    pub note: String,
    pub link: Option<String>,
    pub evidence_date: Date,
    pub expires_on: Date,
    pub by: String,
    pub at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub category: String,
    pub score: Score,
    pub justification: String,
    pub by: String,
    pub at: OffsetDateTime,
}

pub struct Evidence<'a> {
    pub services: &'a [ServiceEvidence],
    pub docs: &'a CoverageFigures,
    /// Phases due and phases whose latest decision is an approval (Acceptance).
    pub phases_due: i64,
    pub phases_signed_off: i64,
    /// The latest assessment per category.
    pub assessments: &'a [Assessment],
    /// The latest override per category.
    pub overrides: &'a [Override],
    /// Scores the worker measured for categories that used to be assessed (their sources are
    /// configured); the others fall back to the admin's assessment.
    pub measured: &'a [crate::evidence::queries::MeasuredCategory],
    pub today: Date,
}

/// Categories no evidence covers: an admin assesses them.
pub const ASSESSED: [&str; 3] = ["Monitoring", "Backup/DR", "Change Control"];

/// How long an assessment's evidence counts, by category (Backup/DR: a restore tested within 30 days).
pub fn evidence_lifetime_days(category: &str) -> i64 {
    if category == "Backup/DR" { 30 } else { 90 }
}

const RELIABILITY: [FindingKind; 5] = [
    FindingKind::NoRestartPolicy,
    FindingKind::NoHealthcheck,
    FindingKind::Unhealthy,
    FindingKind::RestartLoop,
    FindingKind::OomKilled,
];
const SECURITY: [FindingKind; 7] = [
    FindingKind::PublicPort,
    FindingKind::RouteWithoutAuth,
    FindingKind::RouteWithoutTls,
    FindingKind::DockerSocket,
    FindingKind::Privileged,
    FindingKind::AuthNotEnforced,
    FindingKind::CertInvalid,
];

#[derive(Clone, Debug, PartialEq)]
pub struct CategoryScore {
    pub name: String,
    pub computed: Score,
    pub effective: Score,
    pub source: ScoreSource,
    pub formula: String,
    pub evidence: Vec<String>,
    pub assessment: Option<Assessment>,
    pub expired: bool,
    pub override_: Option<Override>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GradeResult {
    pub categories: Vec<CategoryScore>,
    pub total: Total,
    pub uncapped_letter: String,
    pub letter: String,
    /// The cap that holds the letter down, if one does.
    pub cap: Option<String>,
    /// Every cap whose condition holds, binding or not.
    pub caps_in_force: Vec<String>,
}

fn share_score(part: usize, whole: usize) -> Score {
    if whole == 0 {
        Score::from_hundredths(0)
    } else {
        Score::from_hundredths((part as u64 * 10_000 / whole as u64) as u32)
    }
}

fn clean_share(services: &[ServiceEvidence], kinds: &[FindingKind]) -> (Score, Vec<String>) {
    let with: Vec<&ServiceEvidence> = services
        .iter()
        .filter(|s| s.findings.iter().any(|f| kinds.contains(f)))
        .collect();
    let mut lines = vec![format!(
        "{} of {} services have none of these findings",
        services.len() - with.len(),
        services.len()
    )];
    for kind in kinds {
        let n = services
            .iter()
            .filter(|s| s.findings.contains(kind))
            .count();
        if n > 0 {
            lines.push(format!("{}: {n} service(s)", kind.title()));
        }
    }
    (
        share_score(services.len() - with.len(), services.len()),
        lines,
    )
}

/// The score of one category from the evidence, with the formula in words.
fn from_evidence(name: &str, e: &Evidence) -> Option<(Score, String, Vec<String>)> {
    match name {
        "Availability" => {
            let known: Vec<f64> = e
                .services
                .iter()
                .filter_map(|s| s.availability_7d)
                .collect();
            let mean = if known.is_empty() {
                0.0
            } else {
                known.iter().sum::<f64>() / known.len() as f64
            };
            let score = Score::from_hundredths((mean * 10_000.0).floor() as u32);
            let by_routes = e
                .services
                .iter()
                .filter(|s| s.availability_7d.is_some() && s.availability_from_routes)
                .count();
            Some((
                score,
                "mean 7-day availability of the current services × 100; a service with probed routes counts the share of successful probes of its routes (what users reach), one without counts its container's running share".into(),
                vec![
                    format!(
                        "{} services with availability data, mean {:.2}%",
                        known.len(),
                        mean * 100.0
                    ),
                    format!(
                        "{by_routes} by their routes' probes, {} by their containers",
                        known.len() - by_routes
                    ),
                ],
            ))
        }
        "Reliability" => {
            let (score, lines) = clean_share(e.services, &RELIABILITY);
            Some((score, "share of services with a restart policy, a passing health check, no restart loop and no OOM kill × 100".into(), lines))
        }
        "Security" => {
            let (score, lines) = clean_share(e.services, &SECURITY);
            Some((score, "share of services with no public port outside the allow-list, no unauthenticated or plain-HTTP route, authentication enforced where promised, valid certificates, no Docker socket and not privileged × 100".into(), lines))
        }
        "Documentation" => {
            let d = e.docs;
            let score = if d.services == 0 {
                Score::from_hundredths(0)
            } else {
                Score::from_hundredths(
                    ((d.passing + d.fresh) as u64 * 5_000 / d.services as u64) as u32,
                )
            };
            Some((
                score,
                "(docs passing the checklist + fresh docs) / (2 × running services) × 100".into(),
                vec![format!(
                    "{} passing and {} fresh of {} running services",
                    d.passing, d.fresh, d.services
                )],
            ))
        }
        "Acceptance" => {
            let score = share_score(e.phases_signed_off as usize, e.phases_due as usize);
            Some((
                score,
                "phases formally signed off / phases due × 100".into(),
                vec![format!(
                    "{} of {} due phases signed off",
                    e.phases_signed_off, e.phases_due
                )],
            ))
        }
        other => e.measured.iter().find(|m| m.category == other).map(|m| {
            (
                Score::from_hundredths(m.score.clamp(0, 10_000) as u32),
                m.formula.clone(),
                m.lines.clone(),
            )
        }),
    }
}

pub fn grade(rubric: &Rubric, e: &Evidence) -> GradeResult {
    let categories: Vec<CategoryScore> = rubric
        .categories
        .iter()
        .map(|c| {
            let override_ = e.overrides.iter().find(|o| o.category == c.name).cloned();
            let (computed, source, formula, evidence, assessment, expired) =
                match from_evidence(&c.name, e) {
                    Some((score, formula, evidence)) => {
                        (score, ScoreSource::Evidence, formula, evidence, None, false)
                    }
                    None => {
                        let a = e.assessments.iter().find(|a| a.category == c.name).cloned();
                        match a {
                            Some(a) if a.expires_on >= e.today => {
                                let line = format!(
                                    "assessed {} by {} (evidence of {}, valid until {})",
                                    a.score, a.by, a.evidence_date, a.expires_on
                                );
                                (
                                    a.score,
                                    ScoreSource::Assessment,
                                    "assessed by an admin, with evidence".into(),
                                    vec![line],
                                    Some(a),
                                    false,
                                )
                            }
                            Some(a) => {
                                let line = format!(
                                    "the evidence of {} expired on {}",
                                    a.evidence_date, a.expires_on
                                );
                                (
                                    Score::from_hundredths(0),
                                    ScoreSource::Missing,
                                    "assessed; expired evidence counts as 0".into(),
                                    vec![line],
                                    Some(a),
                                    true,
                                )
                            }
                            None => (
                                Score::from_hundredths(0),
                                ScoreSource::Missing,
                                "assessed; no evidence recorded counts as 0".into(),
                                vec!["never assessed".into()],
                                None,
                                false,
                            ),
                        }
                    }
                };
            let effective = override_.as_ref().map(|o| o.score).unwrap_or(computed);
            CategoryScore {
                name: c.name.clone(),
                computed,
                effective,
                source,
                formula,
                evidence,
                assessment,
                expired,
                override_,
            }
        })
        .collect();
    let scores: Vec<Score> = categories.iter().map(|c| c.effective).collect();
    let total = rubric.total(&scores);
    let uncapped = rubric.letter(total).to_string();
    let (letter, cap, caps_in_force) = apply_caps(rubric, &uncapped, &categories, e);
    GradeResult {
        categories,
        total,
        uncapped_letter: uncapped,
        letter,
        cap,
        caps_in_force,
    }
}

/// The rubric's caps: every one whose rule holds is listed; the lowest ceiling applies.
fn apply_caps(
    rubric: &Rubric,
    letter: &str,
    categories: &[CategoryScore],
    e: &Evidence,
) -> (String, Option<String>, Vec<String>) {
    let mut caps: Vec<(&str, String)> = vec![];
    for cap in &rubric.caps {
        let holds = match &cap.rule {
            CapRule::BackupUnverified => {
                let measured = e.measured.iter().find(|m| m.category == "Backup/DR");
                match measured {
                    // Measured: the heartbeats say whether every covered service has a fresh,
                    // passing restore test.
                    Some(m) => m.restore_unverified.then(|| {
                        "a service's backup has no passing restore test within its interval"
                            .to_string()
                    }),
                    None => categories
                        .iter()
                        .find(|c| c.name == "Backup/DR")
                        .is_some_and(|b| b.source == ScoreSource::Missing)
                        .then(|| {
                            "backup restore never verified, or its evidence expired".to_string()
                        }),
                }
            }
            CapRule::Finding(kind) => {
                let n = e
                    .services
                    .iter()
                    .filter(|s| s.findings.contains(kind))
                    .count();
                (n > 0).then(|| match kind {
                    FindingKind::PublicPort => format!(
                        "{n} service(s) published on all interfaces outside the allow-list, bypassing authentication"
                    ),
                    other => format!("{n} service(s) with the finding '{}'", other.title()),
                })
            }
            CapRule::CategoryBelow { category, below } => categories
                .iter()
                .find(|c| c.name == *category)
                .filter(|c| c.effective < *below)
                .map(|c| format!("{category} is {}, below {below}", c.effective)),
        };
        if let Some(why) = holds {
            caps.push((
                cap.letter.as_str(),
                format!("{why}: at most {}", cap.letter),
            ));
        }
    }
    let in_force: Vec<String> = caps.iter().map(|(_, reason)| reason.clone()).collect();
    let mut result = (letter.to_string(), None);
    for (cap, reason) in caps {
        let capped = rubric.capped_letter(&result.0, cap).to_string();
        if capped != result.0 {
            result = (capped, Some(reason));
        }
    }
    (result.0, result.1, in_force)
}

/// Gaps to a target grade: each category's score raised to the target, largest gain first.
pub fn gaps_to(rubric: &Rubric, result: &GradeResult, target: Score) -> Vec<super::rubric::Gap> {
    let scores: Vec<Score> = result.categories.iter().map(|c| c.effective).collect();
    gaps(rubric, &scores, &vec![target; scores.len()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn assessment(category: &str, score: &str, expires_on: Date) -> Assessment {
        Assessment {
            category: category.into(),
            score: Score::parse(score).unwrap(),
            note: "restore drill".into(),
            link: None,
            evidence_date: date!(2026 - 11 - 01),
            expires_on,
            by: "owner".into(),
            at: datetime!(2026-11-01 0:00 UTC),
        }
    }

    fn evidence<'a>(
        services: &'a [ServiceEvidence],
        docs: &'a CoverageFigures,
        assessments: &'a [Assessment],
        overrides: &'a [Override],
    ) -> Evidence<'a> {
        Evidence {
            services,
            docs,
            phases_due: 0,
            phases_signed_off: 0,
            assessments,
            overrides,
            measured: &[],
            today: date!(2026 - 11 - 22),
        }
    }

    #[test]
    fn measured_categories_replace_the_assessment_and_carry_the_restore_cap() {
        let docs = CoverageFigures::default();
        let measured = vec![crate::evidence::queries::MeasuredCategory {
            category: "Backup/DR".into(),
            score: 5_000,
            formula: "protected / data-bearing services × 100".into(),
            lines: vec!["1 of 2".into()],
            restore_unverified: true,
            computed_at: datetime!(2026-11-22 0:00 UTC),
        }];
        let mut e = evidence(&[], &docs, &[], &[]);
        e.measured = &measured;
        let result = grade(&Rubric::default_rubric(), &e);
        let backup = result
            .categories
            .iter()
            .find(|c| c.name == "Backup/DR")
            .expect("category");
        assert_eq!(backup.source, ScoreSource::Evidence);
        assert_eq!(backup.effective.to_string(), "50.00");
        assert!(
            result
                .caps_in_force
                .iter()
                .any(|line| line.contains("restore test")),
            "{:?}",
            result.caps_in_force
        );
    }

    #[test]
    fn scores_come_from_evidence_and_expired_assessments_stop_counting() {
        let services = vec![
            ServiceEvidence {
                availability_7d: Some(1.0),
                availability_from_routes: false,
                findings: vec![],
            },
            ServiceEvidence {
                availability_7d: Some(0.5),
                availability_from_routes: false,
                findings: vec![FindingKind::NoRestartPolicy, FindingKind::Privileged],
            },
        ];
        let docs = CoverageFigures {
            services: 2,
            documented: 2,
            passing: 1,
            fresh: 2,
        };
        let assessments = vec![
            assessment("Backup/DR", "80", date!(2026 - 11 - 30)),
            assessment("Monitoring", "90", date!(2026 - 11 - 21)),
        ];
        let rubric = Rubric::default_rubric();
        let r = grade(&rubric, &evidence(&services, &docs, &assessments, &[]));
        let score = |name: &str| {
            r.categories
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .clone()
        };
        assert_eq!(score("Availability").effective.to_string(), "75.00");
        assert_eq!(score("Reliability").effective.to_string(), "50.00");
        assert_eq!(score("Security").effective.to_string(), "50.00");
        assert_eq!(score("Documentation").effective.to_string(), "75.00");
        assert_eq!(score("Backup/DR").source, ScoreSource::Assessment);
        assert!(score("Monitoring").expired, "expired yesterday");
        assert_eq!(score("Monitoring").effective.to_string(), "0.00");
        assert_eq!(r.cap, None);
    }

    #[test]
    fn caps_and_overrides() {
        let services = vec![ServiceEvidence {
            availability_7d: Some(1.0),
            availability_from_routes: false,
            findings: vec![],
        }];
        let docs = CoverageFigures {
            services: 1,
            documented: 1,
            passing: 1,
            fresh: 1,
        };
        let all_good: Vec<Assessment> = ASSESSED
            .iter()
            .map(|c| assessment(c, "100", date!(2026 - 12 - 31)))
            .collect();
        let overrides = vec![Override {
            category: "Acceptance".into(),
            score: Score::parse("100").unwrap(),
            justification: "no phases due yet".into(),
            by: "owner".into(),
            at: datetime!(2026-11-20 0:00 UTC),
        }];
        let rubric = Rubric::default_rubric();
        let r = grade(&rubric, &evidence(&services, &docs, &all_good, &overrides));
        assert_eq!(r.total.shown(), "100.00");
        assert_eq!(r.letter, "A+++");
        let acceptance = r
            .categories
            .iter()
            .find(|c| c.name == "Acceptance")
            .unwrap();
        assert_eq!(
            (
                acceptance.computed.to_string(),
                acceptance.effective.to_string()
            ),
            ("0.00".into(), "100.00".into()),
            "the computed value stays visible"
        );

        let no_backup: Vec<Assessment> = all_good
            .iter()
            .filter(|a| a.category != "Backup/DR")
            .cloned()
            .collect();
        let r = grade(&rubric, &evidence(&services, &docs, &no_backup, &overrides));
        assert_eq!(r.total.shown(), "90.00");
        assert_eq!(r.uncapped_letter, "A+");
        assert_eq!(r.letter, "C+");
        assert!(r.cap.unwrap().contains("backup restore never verified"));

        let public = vec![ServiceEvidence {
            availability_7d: Some(1.0),
            availability_from_routes: false,
            findings: vec![FindingKind::PublicPort],
        }];
        let r = grade(&rubric, &evidence(&public, &docs, &all_good, &overrides));
        assert_eq!(r.letter, "B");
        assert!(r.cap.unwrap().contains("at most B"));
    }
}
