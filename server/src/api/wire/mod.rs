//! The API's JSON types: a contract of their own, so that a page's model can change without
//! breaking a script. Times are RFC 3339, days are `YYYY-MM-DD`, grade figures are points with
//! two decimals, shares are percentages.

mod coverage;
mod grade;
mod inventory;
mod plan;

pub use coverage::{Coverage, CoverageFigures, Doc, DocCheck, EngineCoverage, Undocumented};
pub use grade::{Assessment, Category, Gap, Grade, Override, ScoreSource};
pub use inventory::{
    AvailabilitySource, Certificate, Probe, Route, Service, ServiceFinding, ServiceRef,
};
pub use plan::{Phase, Rollout, RolloutDetail, RolloutItem, Signoff};

use serde::{Serialize, Serializer};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

/// Every error answer.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// What was wrong, in words.
    pub error: String,
}

#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
}

impl From<app::model::findings::Severity> for Severity {
    fn from(s: app::model::findings::Severity) -> Self {
        use app::model::findings::Severity as S;
        match s {
            S::High => Severity::High,
            S::Medium => Severity::Medium,
            S::Low => Severity::Low,
        }
    }
}

/// What is wrong, the fact that shows it and the fix.
#[derive(Serialize, ToSchema)]
pub struct Finding {
    /// The finding's stable slug, e.g. `no_healthcheck`.
    pub kind: String,
    pub severity: Severity,
    pub fact: String,
    pub fix: String,
}

impl From<&app::model::findings::Finding> for Finding {
    fn from(f: &app::model::findings::Finding) -> Self {
        Finding {
            kind: f.kind.slug().to_string(),
            severity: f.severity.into(),
            fact: f.fact.clone(),
            fix: f.fix.clone(),
        }
    }
}

/// A share between 0 and 1 as a percentage with one decimal.
pub fn percent(share: f64) -> f64 {
    (share * 1000.0).round() / 10.0
}

/// A grade figure the pages carry as text ("92.50") as a number; the text is always the
/// portal's own formatting, so a failure to parse can only be an empty value.
pub fn points(text: &str) -> f64 {
    text.trim().parse().unwrap_or(0.0)
}

const DAY: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

fn day<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    let text = d.format(DAY).map_err(serde::ser::Error::custom)?;
    s.serialize_str(&text)
}

fn day_opt<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => day(d, s),
        None => s.serialize_none(),
    }
}
