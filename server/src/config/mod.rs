//! Typed configuration from an optional TOML file and the environment, validated at start.
//!
//! Precedence: environment over file over defaults. A bad value becomes a [`ConfigError`] naming
//! the key (the environment variable, or the file's key) and the problem, printed as one line.

mod auth;
mod capacity;
mod docs;
mod edge;
mod engines;
mod evidence;
mod notify;
mod raw;
mod refresh;
mod rollouts;
mod secret;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use auth::{AuthSettings, OidcSettings, RoleGroups};
pub use capacity::CapacitySettings;
pub use edge::{ApiAuth, EdgeSettings, EntrypointDefaults, ProbeSettings, TraefikApi};
pub use engines::{EngineConfig, EngineEndpoint};
pub use evidence::{
    BackupJob, DEFAULT_EVERY_HOURS, DEFAULT_RESTORE_EVERY_DAYS, EvidenceSettings, HttpSource,
};
pub use notify::{Channel, ChannelKind, NotifySettings};
pub use secret::{Secret, redact_url};

/// A configuration value that cannot be used, and why.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration: {key}: {problem}")]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Where people reach the portal, e.g. https://audit.quietly.online; used for same-origin checks and cookies.
    pub public_url: String,
    /// None: `serve` runs the bundled Postgres in `data_dir`.
    pub database_url: Option<Secret>,
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    /// Whether `serve` also runs the background worker (a replica may leave it to another).
    pub worker_in_serve: bool,
    pub refresh: RefreshSettings,
    pub audit: AuditSettings,
    pub engines: Vec<EngineConfig>,
    pub auth: AuthSettings,
    pub docs: DocsSettings,
    pub rollouts: RolloutSettings,
    /// Routes from the outside: Traefik's API, entrypoint defaults, probes.
    pub edge: EdgeSettings,
    /// Monitoring stack, backups and the infrastructure repository.
    pub evidence: EvidenceSettings,
    /// Networks whose scrapers may read `/metrics` without a token (when no proxy relays them).
    pub metrics_allow: Vec<ipnet::IpNet>,
    /// Notification channels (ntfy, Gotify, webhooks) and the digest hour.
    pub notify: NotifySettings,
    /// Right-sizing, baselines and each engine's upgrade trigger.
    pub capacity: CapacitySettings,
}

/// What the seeded accounting rollout checks against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolloutSettings {
    /// The host the accounting system's Traefik router must serve.
    pub accounting_host: String,
    /// A middleware that counts as the VPN allow-list although no label defines it (file provider).
    pub allowlist_middleware: Option<String>,
}

/// The docs folder and the checklist its docs are held to.
#[derive(Clone, Debug)]
pub struct DocsSettings {
    /// A checkout of the docs repository; read, never written.
    pub dir: Option<PathBuf>,
    pub template: crate::docs::DocTemplate,
    /// The coverage target, 0.5 for 50%.
    pub target_share: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RefreshSettings {
    pub interval: Duration,
    /// Deadline of each Docker call; shorter than the interval so a slow engine cannot stall a refresh.
    pub call_timeout: Duration,
    /// Containers audited at once per engine.
    pub concurrency: usize,
    /// Bytes of log read per container per refresh.
    pub log_tail_bytes: usize,
}

/// Thresholds of the audit; defaults follow the team's production-ready criteria.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditSettings {
    pub allowed_public_ports: Vec<u16>,
    /// Traefik middleware names that mean "behind Authelia", e.g. `authelia@docker`.
    pub auth_middlewares: Vec<String>,
    pub image_max_age_days: i64,
    pub log_error_threshold: i64,
    /// Restarts between two refreshes that count as a loop.
    pub restart_loop_threshold: i64,
    /// Words that make a label secret (its value is stored as `•••`); see `docker::redact`.
    pub secret_words: Vec<String>,
}

impl Default for RefreshSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
            call_timeout: Duration::from_secs(10),
            concurrency: 32,
            log_tail_bytes: 64 * 1024,
        }
    }
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            allowed_public_ports: vec![80, 443, 25, 465, 587, 993],
            auth_middlewares: vec![
                "authelia@docker".into(),
                "authelia@file".into(),
                "authelia".into(),
            ],
            image_max_age_days: 180,
            log_error_threshold: 10,
            restart_loop_threshold: 3,
            secret_words: crate::docker::redact::DEFAULT_SECRET_WORDS
                .iter()
                .map(|w| w.to_string())
                .collect(),
        }
    }
}

impl Settings {
    /// Loads from the file (if given) and the process environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(file, &env)
    }

    /// Loads from an explicit environment, so tests need not touch the process's.
    pub fn load_from(
        file: Option<&Path>,
        env: &[(String, String)],
    ) -> Result<Settings, ConfigError> {
        let file = match file {
            Some(path) => raw::RawFile::read(path)?,
            None => raw::RawFile::default(),
        };
        raw::resolve(file, env)
    }

    /// The effective configuration for `check-config`, secrets redacted.
    pub fn describe(&self) -> String {
        let engines: Vec<String> = self
            .engines
            .iter()
            .map(|e| format!("{}={}", e.name, e.endpoint))
            .collect();
        let database = match &self.database_url {
            Some(url) => redact_url(url.expose()),
            None => format!(
                "bundled Postgres in {}",
                self.data_dir.join("postgres").display()
            ),
        };
        [
            format!("listen = {}", self.listen),
            format!("public_url = {}", self.public_url),
            format!("database = {database}"),
            format!("data_dir = {}", self.data_dir.display()),
            format!("log_format = {:?}", self.log_format).to_lowercase(),
            format!("worker_in_serve = {}", self.worker_in_serve),
            format!(
                "metrics_allow = [{}] (others need a read token)",
                self.metrics_allow
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!(
                "refresh.interval_secs = {}",
                self.refresh.interval.as_secs()
            ),
            format!(
                "refresh.call_timeout_secs = {}",
                self.refresh.call_timeout.as_secs()
            ),
            format!("refresh.concurrency = {}", self.refresh.concurrency),
            format!("refresh.log_tail_bytes = {}", self.refresh.log_tail_bytes),
            format!(
                "audit.allowed_public_ports = {:?}",
                self.audit.allowed_public_ports
            ),
            format!("audit.auth_middlewares = {:?}", self.audit.auth_middlewares),
            format!(
                "audit.image_max_age_days = {}",
                self.audit.image_max_age_days
            ),
            format!(
                "audit.log_error_threshold = {}",
                self.audit.log_error_threshold
            ),
            format!(
                "audit.restart_loop_threshold = {}",
                self.audit.restart_loop_threshold
            ),
            format!("audit.secret_words = {:?}", self.audit.secret_words),
            format!("engines = [{}]", engines.join(", ")),
            match &self.auth.oidc {
                Some(o) => format!(
                    "auth = OpenID Connect, issuer {}, client_id {}, client_secret {}, redirect {}",
                    o.issuer, o.client_id, o.client_secret, o.redirect_url
                ),
                None if self.auth.demo_sign_in => "auth = local demo sign-in (loopback only)".to_string(),
                None => "auth = not configured (serve will refuse to start)".to_string(),
            },
            format!(
                "docs = {}, freshness {} days, target {:.0}%, sections {:?}",
                self.docs.dir.as_ref().map(|d| d.display().to_string()).unwrap_or_else(|| "not configured".into()),
                self.docs.template.freshness_days,
                self.docs.target_share * 100.0,
                self.docs.template.required_sections
            ),
            format!(
                "auth.groups = admin '{}', editor '{}', viewer '{}'",
                self.auth.groups.admin, self.auth.groups.editor, self.auth.groups.viewer
            ),
            format!(
                "auth.sessions = idle {} min, absolute {} h, re-authentication for sign-off after {} min",
                self.auth.session_idle.as_secs() / 60,
                self.auth.session_absolute.as_secs() / 3600,
                self.auth.reauth_max_age.as_secs() / 60
            ),
            format!(
                "rollouts.accounting_host = {}, rollouts.allowlist_middleware = {}",
                self.rollouts.accounting_host,
                self.rollouts.allowlist_middleware.as_deref().unwrap_or("none (labels only)")
            ),
            format!(
                "notify.channels = [{}], digest at {:02}:00 UTC",
                self.notify
                    .channels
                    .iter()
                    // Kind and host only: an ntfy topic or a webhook path is a credential too.
                    .map(|c| format!("{} ({} {}{})", c.name, c.kind.as_str(), c.shown_url(), if c.secret.is_some() { ", secret set" } else { "" }))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.notify.digest_hour_utc
            ),
        ]
        .join("\n")
    }

    /// Whether the portal is reachable from this machine only.
    pub fn listens_on_loopback_only(&self) -> bool {
        self.listen.ip().is_loopback()
    }

    /// Whether people are told to reach the portal by a loopback name.
    pub fn public_url_is_loopback(&self) -> bool {
        crate::auth::host::Authority::of_origin(&self.public_url).is_some_and(|a| a.is_loopback())
    }

    /// Whether `serve` can let anyone in safely; checked at start, not by `check-config`.
    pub fn check_can_serve(&self) -> Result<(), ConfigError> {
        self.auth.check_usable(
            self.listens_on_loopback_only(),
            self.public_url_is_loopback(),
        )
    }
}

#[cfg(test)]
mod tests;
