//! The API's JSON types: a contract of their own, so that a page's model can change without
//! breaking a script. Times are RFC 3339, days are `YYYY-MM-DD`, grade figures are points with
//! two decimals, shares are percentages.

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

/// Which service something belongs to.
#[derive(Serialize, ToSchema)]
pub struct ServiceRef {
    pub engine: String,
    /// The service's stable key on its engine (compose project/service or container name).
    pub key: String,
    pub name: String,
}

/// Where a service's availability figure comes from.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AvailabilitySource {
    /// The share of successful probes of its routes: what users got.
    Routes,
    /// The share of refreshes that saw its container up (it has no probed route).
    Container,
}

/// One service of the inventory.
#[derive(Serialize, ToSchema)]
pub struct Service {
    pub engine: String,
    pub key: String,
    pub name: String,
    pub group: Option<String>,
    pub image: String,
    /// Docker's state: running, exited, created, paused, ...
    pub state: String,
    /// healthy, unhealthy or starting; absent without a health check.
    pub health: Option<String>,
    /// removed, or Docker's state refined by health.
    pub status: String,
    /// Its engine has not answered recently: what is shown is the last thing seen.
    pub stale: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub removed_at: Option<OffsetDateTime>,
    /// Percent over 24 hours.
    pub availability_24h_percent: Option<f64>,
    pub availability_source: AvailabilitySource,
    pub routes: i64,
    pub routes_failing: i64,
    pub cpu_percent: Option<f64>,
    pub cpu_limit: Option<f64>,
    pub memory_usage_bytes: Option<i64>,
    pub memory_limit_bytes: Option<i64>,
    pub findings: Vec<Finding>,
    /// The doc that documents it, if one does.
    pub doc: Option<String>,
    /// The service's page in the portal (a path).
    pub page: String,
}

/// A finding with the service it was raised on.
#[derive(Serialize, ToSchema)]
pub struct ServiceFinding {
    pub service: ServiceRef,
    #[serde(flatten)]
    pub finding: Finding,
}

/// A certificate as a probe saw it.
#[derive(Serialize, ToSchema)]
pub struct Certificate {
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_after: Option<OffsetDateTime>,
    pub days_left: Option<i64>,
    pub issuer: String,
    pub names: Vec<String>,
    /// Why the chain or the name does not verify; absent when it does.
    pub chain_error: Option<String>,
}

/// The latest probe of a route.
#[derive(Serialize, ToSchema)]
pub struct Probe {
    #[serde(with = "time::serde::rfc3339")]
    pub probed_at: OffsetDateTime,
    pub ok: bool,
    /// unreachable, protocol, status, redirect_loop or certificate; absent when ok.
    pub failure: Option<String>,
    pub status: Option<i32>,
    pub latency_ms: Option<i32>,
    pub redirect_to: Option<String>,
    pub error: Option<String>,
    pub certificate: Option<Certificate>,
}

/// One route users reach through Traefik.
#[derive(Serialize, ToSchema)]
pub struct Route {
    pub id: i64,
    pub router: String,
    pub url: String,
    pub host: String,
    /// labels, traefik or configured.
    pub source: String,
    pub service: Option<ServiceRef>,
    pub entrypoints: Vec<String>,
    pub middlewares: Vec<String>,
    pub tls: bool,
    pub auth_expected: bool,
    /// What the latest probe showed: the sign-in wall (true), content (false), neither (absent).
    pub auth_seen: Option<bool>,
    /// ok, failing or not_probed.
    pub status: String,
    pub traefik_status: Option<String>,
    pub traefik_errors: Vec<String>,
    pub findings: Vec<Finding>,
    pub probe: Option<Probe>,
    pub availability_24h_percent: Option<f64>,
    pub p95_24h_ms: Option<f64>,
}

/// Documentation coverage of one engine or of all.
#[derive(Serialize, ToSchema)]
pub struct CoverageFigures {
    /// Running services.
    pub services: i64,
    pub documented: i64,
    pub passing: i64,
    pub fresh: i64,
    pub documented_percent: f64,
}

#[derive(Serialize, ToSchema)]
pub struct EngineCoverage {
    pub engine: String,
    #[serde(flatten)]
    pub figures: CoverageFigures,
}

/// A running service without a doc, ranked for the editors.
#[derive(Serialize, ToSchema)]
pub struct Undocumented {
    pub service: ServiceRef,
    pub rank: usize,
    pub reason: String,
    /// Who claimed writing its doc, if someone did.
    pub claimed_by: Option<String>,
    #[serde(serialize_with = "day_opt")]
    #[schema(value_type = Option<String>, format = Date)]
    pub claim_due: Option<Date>,
}

#[derive(Serialize, ToSchema)]
pub struct DocCheck {
    pub name: String,
    pub passed: bool,
    pub reason: String,
}

/// One doc of the docs folder.
#[derive(Serialize, ToSchema)]
pub struct Doc {
    pub path: String,
    pub title: Option<String>,
    /// The inventory services it documents as engine/key; empty for an orphan.
    pub covers: Vec<String>,
    pub owner: Option<String>,
    #[serde(serialize_with = "day_opt")]
    #[schema(value_type = Option<String>, format = Date)]
    pub last_verified: Option<Date>,
    pub fresh: bool,
    pub passing: bool,
    pub checks: Vec<DocCheck>,
}

#[derive(Serialize, ToSchema)]
pub struct Coverage {
    pub overall: CoverageFigures,
    pub target_percent: f64,
    pub freshness_days: i64,
    pub per_engine: Vec<EngineCoverage>,
    pub undocumented: Vec<Undocumented>,
    pub docs: Vec<Doc>,
}

/// Where a category's score comes from.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScoreSource {
    /// Computed from the inventory, routes, docs, heartbeats or sign-offs.
    Evidence,
    /// Recorded by an admin with evidence that has not expired.
    Assessment,
    /// Assessed, but the evidence expired or was never recorded: counts as 0.
    Missing,
}

#[derive(Serialize, ToSchema)]
pub struct Assessment {
    pub score: f64,
    pub note: String,
    pub link: Option<String>,
    #[serde(serialize_with = "day")]
    #[schema(value_type = String, format = Date)]
    pub evidence_date: Date,
    #[serde(serialize_with = "day")]
    #[schema(value_type = String, format = Date)]
    pub expires_on: Date,
    pub expired: bool,
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

#[derive(Serialize, ToSchema)]
pub struct Override {
    pub score: f64,
    pub justification: String,
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// One category of the rubric with the evidence behind its score.
#[derive(Serialize, ToSchema)]
pub struct Category {
    pub name: String,
    /// Percent of the total.
    pub weight: f64,
    /// What the evidence or assessment gives, before any override.
    pub computed: f64,
    /// What counts, out of 100.
    pub score: f64,
    /// Its contribution to the total.
    pub points: f64,
    pub source: ScoreSource,
    pub formula: String,
    pub evidence: Vec<String>,
    pub evidence_page: Option<String>,
    pub assessment: Option<Assessment>,
    #[serde(rename = "override")]
    pub override_: Option<Override>,
}

/// Where points are to be won, largest first.
#[derive(Serialize, ToSchema)]
pub struct Gap {
    pub category: String,
    pub current: f64,
    pub target: f64,
    pub weight: f64,
    pub gain: f64,
    pub why: String,
}

/// The production-readiness grade as measured now.
#[derive(Serialize, ToSchema)]
pub struct Grade {
    /// Points out of 100.
    pub total: f64,
    pub letter: String,
    /// The letter the points alone would give.
    pub uncapped_letter: String,
    /// The cap holding the letter down, if one does.
    pub cap: Option<String>,
    pub caps_in_force: Vec<String>,
    pub rubric_version: i32,
    pub target: f64,
    pub categories: Vec<Category>,
    pub gaps: Vec<Gap>,
}

/// A phase of the plan and its progress.
#[derive(Serialize, ToSchema)]
pub struct Phase {
    pub id: i64,
    pub number: String,
    pub title: String,
    #[serde(serialize_with = "day_opt")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Date>,
    pub target_grade: Option<f64>,
    /// The grade the plan claimed at its start.
    pub claimed_grade: Option<f64>,
    /// The grade the portal had measured when the plan was imported.
    pub grade_at_import: Option<f64>,
    pub deliverables: i64,
    pub done: i64,
    pub waived: i64,
    pub open: i64,
    /// approved, conditional or rejected: the latest sign-off's decision.
    pub last_decision: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_decision_at: Option<OffsetDateTime>,
    pub last_decision_grade: Option<f64>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub page: String,
}

/// One sign-off of the tamper-evident chain.
#[derive(Serialize, ToSchema)]
pub struct Signoff {
    pub id: i64,
    pub seq: i64,
    pub phase_id: i64,
    pub phase_number: String,
    /// approved, conditional or rejected.
    pub decision: String,
    pub comment: String,
    /// The grade measured when it was signed.
    pub grade: f64,
    pub letter: String,
    pub rubric_version: i32,
    pub signer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    /// The sequence number of the sign-off this one replaces.
    pub supersedes: Option<i64>,
    pub hash: String,
    pub prev_hash: String,
    pub record: String,
}

/// A rollout and how far it is.
#[derive(Serialize, ToSchema)]
pub struct Rollout {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub goal: String,
    pub host: String,
    /// The candidate decided on, if any.
    pub chosen: Option<String>,
    pub items: i64,
    pub verified: i64,
    pub readiness_percent: f64,
    /// Every item verified.
    pub ready: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub checked_at: Option<OffsetDateTime>,
    pub page: String,
}

/// One item of a rollout's checklist.
#[derive(Serialize, ToSchema)]
pub struct RolloutItem {
    pub id: i64,
    pub title: String,
    /// todo, in_progress, done or verified.
    pub status: String,
    /// What the portal checks for it, if it checks something.
    pub auto_check: Option<String>,
    pub owner: Option<String>,
    #[serde(serialize_with = "day_opt")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Date>,
    pub note: String,
    pub link: Option<String>,
    /// The portal's latest check of it: its status and the fact.
    pub portal_status: Option<String>,
    pub portal_fact: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
}

#[derive(Serialize, ToSchema)]
pub struct RolloutDetail {
    #[serde(flatten)]
    pub rollout: Rollout,
    pub checklist: Vec<RolloutItem>,
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
