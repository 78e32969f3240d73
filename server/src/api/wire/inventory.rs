//! The inventory and the routes as the API answers them.

use super::*;

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
