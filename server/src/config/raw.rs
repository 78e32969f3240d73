//! The configuration as written (file and environment), before validation into [`Settings`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, EngineConfig, LogFormat, Secret, Settings};

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
    refresh: super::refresh::RawRefresh,
    #[serde(default)]
    audit: super::refresh::RawAudit,
    #[serde(default)]
    engines: Vec<RawEngine>,
    #[serde(default)]
    auth: super::auth::RawAuthFile,
    #[serde(default)]
    docs: super::docs::RawDocs,
    #[serde(default)]
    rollouts: super::rollouts::RawRollouts,
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

    let refresh = super::refresh::resolve_refresh(&env, file.refresh)?;
    let audit = super::refresh::resolve_audit(&env, file.audit)?;

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

    let auth = super::auth::resolve_auth(&env, file.auth)?.resolve(&public_url)?;
    let docs = super::docs::resolve_docs(&env, file.docs)?;
    let rollouts = super::rollouts::resolve_rollouts(&env, file.rollouts)?;
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
