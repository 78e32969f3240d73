//! The configuration as written (file and environment), before validation into [`Settings`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::auth::{RawAuth, RoleGroups};
use super::{
    AuditSettings, ConfigError, EngineConfig, LogFormat, RefreshSettings, Secret, Settings,
};
use super::{DocsSettings, RolloutSettings};
use crate::docs::DocTemplate;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    listen: Option<String>,
    public_url: Option<String>,
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    log_format: Option<String>,
    worker_in_serve: Option<bool>,
    metrics_allow: Option<Vec<String>>,
    #[serde(default)]
    refresh: RawRefresh,
    #[serde(default)]
    audit: RawAudit,
    #[serde(default)]
    engines: Vec<RawEngine>,
    #[serde(default)]
    auth: RawAuthFile,
    #[serde(default)]
    docs: RawDocs,
    #[serde(default)]
    rollouts: RawRollouts,
    #[serde(default)]
    traefik: super::edge::RawTraefik,
    #[serde(default)]
    probes: super::edge::RawProbes,
    #[serde(default)]
    evidence: super::evidence::RawEvidence,
    #[serde(default)]
    backups: Vec<super::evidence::RawBackupJob>,
    #[serde(default)]
    notify: super::notify::RawNotify,
    #[serde(default)]
    capacity: super::capacity::RawCapacity,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRollouts {
    accounting_host: Option<String>,
    allowlist_middleware: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocs {
    dir: Option<PathBuf>,
    required_sections: Option<Vec<String>>,
    verification_section: Option<String>,
    freshness_days: Option<i64>,
    max_file_bytes: Option<u64>,
    target_percent: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuthFile {
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_url: Option<String>,
    sign_out_url: Option<String>,
    demo_sign_in: Option<bool>,
    admin_group: Option<String>,
    editor_group: Option<String>,
    viewer_group: Option<String>,
    session_idle_minutes: Option<u64>,
    session_absolute_hours: Option<u64>,
    reauth_max_age_minutes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRefresh {
    interval_secs: Option<u64>,
    call_timeout_secs: Option<u64>,
    concurrency: Option<usize>,
    log_tail_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    allowed_public_ports: Option<Vec<u16>>,
    auth_middlewares: Option<Vec<String>>,
    image_max_age_days: Option<i64>,
    log_error_threshold: Option<i64>,
    restart_loop_threshold: Option<i64>,
    secret_words: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEngine {
    name: String,
    endpoint: String,
    tls_dir: Option<PathBuf>,
}

impl RawFile {
    pub fn read(path: &Path) -> Result<RawFile, ConfigError> {
        let key = format!("--config {}", path.display());
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(&key, format!("cannot read: {e}")))?;
        toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            let message = e.message().replace('\n', " ");
            match line {
                Some(line) => ConfigError::new(key, format!("line {line}: {message}")),
                None => ConfigError::new(key, message),
            }
        })
    }
}

/// Looks up environment variables; empty values count as unset.
pub(super) struct Env<'a>(pub(super) &'a [(String, String)]);

impl Env<'_> {
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }
}

/// A value with the name of the key it came from, for error messages.
pub(super) fn pick<T>(
    env: &Env,
    env_key: &str,
    file_key: &str,
    file_value: Option<T>,
) -> Option<(String, Result<String, T>)> {
    match env.get(env_key) {
        Some(v) => Some((env_key.to_string(), Ok(v.to_string()))),
        None => file_value.map(|v| (file_key.to_string(), Err(v))),
    }
}

pub(super) fn parse_num<T: std::str::FromStr>(
    key: &str,
    value: &str,
    what: &str,
) -> Result<T, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| ConfigError::new(key, format!("'{value}' is not {what}")))
}

/// Reads a number from the environment or the file and checks its range.
pub(super) fn number<T>(
    env: &Env,
    env_key: &str,
    file_key: &str,
    file_value: Option<T>,
    default: T,
    range: std::ops::RangeInclusive<T>,
    what: &str,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + Copy + std::fmt::Display,
{
    let (key, value) = match pick(env, env_key, file_key, file_value) {
        None => return Ok(default),
        Some((key, Ok(text))) => {
            let v = parse_num(&key, &text, what)?;
            (key, v)
        }
        Some((key, Err(v))) => (key, v),
    };
    if !range.contains(&value) {
        return Err(ConfigError::new(
            key,
            format!(
                "{value} is out of range ({} to {})",
                range.start(),
                range.end()
            ),
        ));
    }
    Ok(value)
}

pub(super) fn parse_bool(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::new(
            key,
            format!("'{value}' is not true or false"),
        )),
    }
}

pub fn resolve(file: RawFile, env: &[(String, String)]) -> Result<Settings, ConfigError> {
    let env = Env(env);

    let listen = match pick(&env, "AUDIT_LISTEN", "listen", file.listen) {
        None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        Some((key, value)) => {
            let text = value.unwrap_or_else(|v| v);
            text.trim().parse().map_err(|_| {
                ConfigError::new(
                    key,
                    format!("'{text}' is not a socket address such as 127.0.0.1:3000"),
                )
            })?
        }
    };

    let public_url = match pick(&env, "AUDIT_PUBLIC_URL", "public_url", file.public_url) {
        None => format!("http://{listen}"),
        Some((key, value)) => {
            let text = value.unwrap_or_else(|v| v);
            let url = text.trim().trim_end_matches('/').to_string();
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains('/') => url,
                _ => {
                    return Err(ConfigError::new(
                        key,
                        format!(
                            "'{text}' must be an http:// or https:// origin without a path, e.g. https://audit.quietly.online"
                        ),
                    ));
                }
            }
        }
    };

    // A secrets file (compose/Docker secrets) keeps the password out of the environment.
    let database_url_from_file = match env.get("DATABASE_URL_FILE") {
        Some(path) if env.get("DATABASE_URL").is_none() => Some(
            std::fs::read_to_string(path)
                .map(|s| s.trim().to_string())
                .map_err(|e| {
                    ConfigError::new("DATABASE_URL_FILE", format!("cannot read {path}: {e}"))
                })?,
        ),
        _ => None,
    };
    let database_url = match database_url_from_file
        .map(|url| ("DATABASE_URL_FILE".to_string(), Ok(url)))
        .or_else(|| pick(&env, "DATABASE_URL", "database_url", file.database_url))
    {
        None => None,
        Some((key, value)) => {
            let text = value.unwrap_or_else(|v| v);
            if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
                return Err(ConfigError::new(
                    key,
                    "must start with postgres:// (the value is not shown: it may hold a password)",
                ));
            }
            Some(Secret::new(text.trim()))
        }
    };

    let data_dir = match env.get("AUDIT_DATA_DIR") {
        Some(v) => PathBuf::from(v),
        None => file.data_dir.unwrap_or_else(|| PathBuf::from("./data")),
    };

    let log_format = match pick(&env, "AUDIT_LOG_FORMAT", "log_format", file.log_format) {
        None => LogFormat::Text,
        Some((key, value)) => match value.unwrap_or_else(|v| v).trim() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::new(
                    key,
                    format!("'{other}' is not text or json"),
                ));
            }
        },
    };

    let worker_in_serve = match pick(
        &env,
        "AUDIT_WORKER_IN_SERVE",
        "worker_in_serve",
        file.worker_in_serve,
    ) {
        None => true,
        Some((key, Ok(text))) => parse_bool(&key, &text)?,
        Some((_, Err(v))) => v,
    };

    let refresh = resolve_refresh(&env, file.refresh)?;
    let audit = resolve_audit(&env, file.audit)?;

    let tls_dir_of = |name: &str| {
        let key = format!(
            "AUDIT_ENGINE_{}_TLS_DIR",
            name.to_ascii_uppercase().replace('-', "_")
        );
        env.get(&key).map(PathBuf::from)
    };
    let engines = match env.get("AUDIT_ENGINES") {
        Some(list) => EngineConfig::parse_list("AUDIT_ENGINES", list, tls_dir_of)?,
        None => {
            let mut engines: Vec<EngineConfig> = vec![];
            for (i, e) in file.engines.into_iter().enumerate() {
                let key = format!("engines[{i}]");
                let engine = EngineConfig::parse(&key, &e.name, &e.endpoint, e.tls_dir)?;
                if engines.iter().any(|x| x.name == engine.name) {
                    return Err(ConfigError::new(
                        key,
                        format!("engine '{}' is listed twice", engine.name),
                    ));
                }
                engines.push(engine);
            }
            engines
        }
    };

    let metrics_allow = match env.get("AUDIT_METRICS_ALLOW") {
        Some(list) => networks("AUDIT_METRICS_ALLOW", list.split(','))?,
        None => match file.metrics_allow {
            Some(list) => networks("metrics_allow", list.iter().map(String::as_str))?,
            None => networks("metrics_allow", ["127.0.0.1/32", "::1/128"])?,
        },
    };

    let auth = resolve_auth(&env, file.auth)?.resolve(&public_url)?;
    let docs = resolve_docs(&env, file.docs)?;
    let rollouts = resolve_rollouts(&env, file.rollouts)?;
    let edge = super::edge::resolve(&env, file.traefik, file.probes)?;
    let evidence = super::evidence::resolve(&env, file.evidence, file.backups)?;
    let notify = super::notify::resolve(&env, file.notify)?;
    let capacity = super::capacity::resolve(&env, file.capacity, &engines)?;

    Ok(Settings {
        edge,
        evidence,
        docs,
        rollouts,
        auth,
        listen,
        public_url,
        database_url,
        data_dir,
        log_format,
        worker_in_serve,
        refresh,
        audit,
        engines,
        metrics_allow,
        notify,
        capacity,
    })
}

/// Networks such as `10.0.0.0/8` or single addresses (`172.18.0.5`); empty items are skipped, so
/// an empty list allows no network at all.
fn networks<'a>(
    key: &str,
    items: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let mut out = vec![];
    for item in items.into_iter().map(str::trim).filter(|i| !i.is_empty()) {
        let network = item
            .parse::<ipnet::IpNet>()
            .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| {
                ConfigError::new(
                    key,
                    format!("'{item}' is not a network such as 10.0.0.0/8 or an address such as 172.18.0.5"),
                )
            })?;
        out.push(network);
    }
    Ok(out)
}

pub(super) fn text(
    env: &Env,
    env_key: &str,
    file_key: &str,
    file_value: Option<String>,
) -> Option<(String, String)> {
    pick(env, env_key, file_key, file_value).map(|(key, v)| (key, v.unwrap_or_else(|v| v)))
}

fn resolve_auth(env: &Env, raw: RawAuthFile) -> Result<RawAuth, ConfigError> {
    let defaults = RoleGroups::default();
    let group = |env_key: &str, file_key: &str, value: Option<String>, default: String| {
        text(env, env_key, file_key, value)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or(default)
    };
    // The secret may come from a file (Docker/compose secrets), so it never sits in the environment.
    let client_secret = match env.get("AUDIT_OIDC_CLIENT_SECRET_FILE") {
        Some(path) => {
            let secret = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(
                    "AUDIT_OIDC_CLIENT_SECRET_FILE",
                    format!("cannot read {path}: {e}"),
                )
            })?;
            Some((
                "AUDIT_OIDC_CLIENT_SECRET_FILE".to_string(),
                secret.trim().to_string(),
            ))
        }
        None => text(
            env,
            "AUDIT_OIDC_CLIENT_SECRET",
            "auth.client_secret",
            raw.client_secret,
        ),
    };
    let demo_sign_in = match pick(
        env,
        "AUDIT_DEMO_SIGN_IN",
        "auth.demo_sign_in",
        raw.demo_sign_in,
    ) {
        None => None,
        Some((key, Ok(text))) => Some((key.clone(), parse_bool(&key, &text)?)),
        Some((key, Err(v))) => Some((key, v)),
    };
    Ok(RawAuth {
        issuer: text(env, "AUDIT_OIDC_ISSUER", "auth.issuer", raw.issuer),
        client_id: text(env, "AUDIT_OIDC_CLIENT_ID", "auth.client_id", raw.client_id),
        client_secret,
        redirect_url: text(
            env,
            "AUDIT_OIDC_REDIRECT_URL",
            "auth.redirect_url",
            raw.redirect_url,
        ),
        sign_out_url: text(
            env,
            "AUDIT_OIDC_SIGN_OUT_URL",
            "auth.sign_out_url",
            raw.sign_out_url,
        ),
        demo_sign_in,
        groups: RoleGroups {
            admin: group(
                "AUDIT_GROUP_ADMIN",
                "auth.admin_group",
                raw.admin_group,
                defaults.admin,
            ),
            editor: group(
                "AUDIT_GROUP_EDITOR",
                "auth.editor_group",
                raw.editor_group,
                defaults.editor,
            ),
            viewer: group(
                "AUDIT_GROUP_VIEWER",
                "auth.viewer_group",
                raw.viewer_group,
                defaults.viewer,
            ),
        },
        session_idle_minutes: number(
            env,
            "AUDIT_SESSION_IDLE_MINUTES",
            "auth.session_idle_minutes",
            raw.session_idle_minutes,
            60,
            1..=24 * 60,
            "a number of minutes",
        )?,
        session_absolute_hours: number(
            env,
            "AUDIT_SESSION_ABSOLUTE_HOURS",
            "auth.session_absolute_hours",
            raw.session_absolute_hours,
            12,
            1..=24 * 30,
            "a number of hours",
        )?,
        reauth_max_age_minutes: number(
            env,
            "AUDIT_REAUTH_MAX_AGE_MINUTES",
            "auth.reauth_max_age_minutes",
            raw.reauth_max_age_minutes,
            5,
            1..=24 * 60,
            "a number of minutes",
        )?,
    })
}

fn resolve_rollouts(env: &Env, raw: RawRollouts) -> Result<RolloutSettings, ConfigError> {
    let host = match text(
        env,
        "AUDIT_ROLLOUT_HOST",
        "rollouts.accounting_host",
        raw.accounting_host,
    ) {
        None => "accounting.quietly.online".to_string(),
        Some((key, host)) => {
            let host = host.trim().to_ascii_lowercase();
            let valid = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !valid {
                return Err(ConfigError::new(
                    key,
                    format!("'{host}' is not a host name (e.g. accounting.quietly.online)"),
                ));
            }
            host
        }
    };
    let allowlist_middleware = text(
        env,
        "AUDIT_ROLLOUT_ALLOWLIST_MIDDLEWARE",
        "rollouts.allowlist_middleware",
        raw.allowlist_middleware,
    )
    .map(|(_, v)| v.trim().to_string())
    .filter(|v| !v.is_empty());
    Ok(RolloutSettings {
        accounting_host: host,
        allowlist_middleware,
    })
}

fn resolve_docs(env: &Env, raw: RawDocs) -> Result<DocsSettings, ConfigError> {
    let d = DocTemplate::default();
    let required_sections = match env.get("AUDIT_DOCS_SECTIONS") {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        None => raw.required_sections.unwrap_or(d.required_sections),
    };
    let verification_section = text(
        env,
        "AUDIT_DOCS_VERIFICATION_SECTION",
        "docs.verification_section",
        raw.verification_section,
    )
    .map(|(_, v)| v)
    .unwrap_or(d.verification_section);
    let template = DocTemplate {
        required_sections,
        verification_section,
        freshness_days: number(
            env,
            "AUDIT_DOCS_FRESHNESS_DAYS",
            "docs.freshness_days",
            raw.freshness_days,
            d.freshness_days,
            1..=3650,
            "a number of days",
        )?,
        max_file_bytes: number(
            env,
            "AUDIT_DOCS_MAX_BYTES",
            "docs.max_file_bytes",
            raw.max_file_bytes,
            d.max_file_bytes,
            1024..=64 * 1024 * 1024,
            "a number of bytes",
        )?,
    };
    let target_percent = number(
        env,
        "AUDIT_DOCS_TARGET_PERCENT",
        "docs.target_percent",
        raw.target_percent,
        50,
        1..=100,
        "a percentage",
    )?;
    let dir = match env.get("AUDIT_DOCS_DIR") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => raw.dir,
    };
    Ok(DocsSettings {
        dir,
        template,
        target_share: f64::from(target_percent) / 100.0,
    })
}

fn resolve_refresh(env: &Env, raw: RawRefresh) -> Result<RefreshSettings, ConfigError> {
    let d = RefreshSettings::default();
    let interval = number(
        env,
        "AUDIT_REFRESH_INTERVAL",
        "refresh.interval_secs",
        raw.interval_secs,
        d.interval.as_secs(),
        2..=86_400,
        "a number of seconds",
    )?;
    let timeout = number(
        env,
        "AUDIT_CALL_TIMEOUT",
        "refresh.call_timeout_secs",
        raw.call_timeout_secs,
        d.call_timeout
            .as_secs()
            .min(interval.saturating_sub(1).max(1)),
        1..=3_600,
        "a number of seconds",
    )?;
    if timeout >= interval {
        let key = if env.get("AUDIT_CALL_TIMEOUT").is_some() {
            "AUDIT_CALL_TIMEOUT"
        } else {
            "refresh.call_timeout_secs"
        };
        return Err(ConfigError::new(
            key,
            format!("{timeout} s must be shorter than the refresh interval ({interval} s)"),
        ));
    }
    Ok(RefreshSettings {
        interval: Duration::from_secs(interval),
        call_timeout: Duration::from_secs(timeout),
        concurrency: number(
            env,
            "AUDIT_REFRESH_CONCURRENCY",
            "refresh.concurrency",
            raw.concurrency,
            d.concurrency,
            1..=512,
            "a whole number",
        )?,
        log_tail_bytes: number(
            env,
            "AUDIT_LOG_TAIL_BYTES",
            "refresh.log_tail_bytes",
            raw.log_tail_bytes,
            d.log_tail_bytes,
            0..=16 * 1024 * 1024,
            "a number of bytes",
        )?,
    })
}

/// A non-empty list of names: the environment's comma-separated value, else the file's list, else
/// the default. `keys` are the environment variable and the file key, for the error.
pub(super) fn names(
    env: &Env,
    keys: (&str, &str),
    from_file: Option<Vec<String>>,
    default: Vec<String>,
    problem_when_empty: &str,
) -> Result<Vec<String>, ConfigError> {
    let (env_key, file_key) = keys;
    let list: Vec<String> = match env.get(env_key) {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(String::from)
            .collect(),
        None => from_file.unwrap_or(default),
    };
    if list.is_empty() {
        let key = if env.get(env_key).is_some() {
            env_key
        } else {
            file_key
        };
        return Err(ConfigError::new(key, problem_when_empty));
    }
    Ok(list)
}

fn resolve_audit(env: &Env, raw: RawAudit) -> Result<AuditSettings, ConfigError> {
    let d = AuditSettings::default();
    let allowed_public_ports = match env.get("AUDIT_ALLOWED_PORTS") {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| parse_num::<u16>("AUDIT_ALLOWED_PORTS", p, "a port number"))
            .collect::<Result<Vec<_>, _>>()?,
        None => raw.allowed_public_ports.unwrap_or(d.allowed_public_ports),
    };
    let auth_middlewares = names(
        env,
        ("AUDIT_AUTH_MIDDLEWARES", "audit.auth_middlewares"),
        raw.auth_middlewares,
        d.auth_middlewares,
        "name at least one authentication middleware, e.g. authelia@docker",
    )?;
    let secret_words = names(
        env,
        ("AUDIT_SECRET_WORDS", "audit.secret_words"),
        raw.secret_words,
        d.secret_words,
        "name at least one word that marks a label as secret, e.g. password,token,key",
    )?;
    Ok(AuditSettings {
        allowed_public_ports,
        auth_middlewares,
        secret_words,
        image_max_age_days: number(
            env,
            "AUDIT_IMAGE_MAX_AGE_DAYS",
            "audit.image_max_age_days",
            raw.image_max_age_days,
            d.image_max_age_days,
            1..=3650,
            "a number of days",
        )?,
        log_error_threshold: number(
            env,
            "AUDIT_LOG_ERROR_THRESHOLD",
            "audit.log_error_threshold",
            raw.log_error_threshold,
            d.log_error_threshold,
            0..=1_000_000,
            "a whole number",
        )?,
        restart_loop_threshold: number(
            env,
            "AUDIT_RESTART_LOOP_THRESHOLD",
            "audit.restart_loop_threshold",
            raw.restart_loop_threshold,
            d.restart_loop_threshold,
            1..=10_000,
            "a whole number",
        )?,
    })
}
