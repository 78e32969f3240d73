//! Settings for routes seen from the outside: Traefik's API, entrypoint defaults and the probes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::raw::{Env, number, pick, text};
use super::{ConfigError, Secret};

#[derive(Clone, Debug)]
pub struct EdgeSettings {
    /// Traefik's API; when unset, routes come from container labels alone.
    pub traefik_api: Option<TraefikApi>,
    /// What entrypoints give every router on them, for teams that set TLS and Authelia there.
    pub entrypoints: EntrypointDefaults,
    pub probe: ProbeSettings,
    /// Authelia's portal (e.g. https://auth.quietly.online): a redirect there means "authentication enforced".
    pub authelia_host: Option<String>,
}

#[derive(Clone, Debug)]
pub struct TraefikApi {
    /// e.g. http://traefik:8080, without a trailing slash.
    pub url: String,
    pub auth: Option<ApiAuth>,
}

#[derive(Clone, Debug)]
pub enum ApiAuth {
    Basic { user: String, password: Secret },
    Bearer(Secret),
}

/// Entrypoint-level TLS and middlewares, by entrypoint name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntrypointDefaults {
    pub tls: Vec<String>,
    pub middlewares: BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProbeSettings {
    /// URLs probed besides the route hosts (AUDIT_PROBE_URLS).
    pub extra_urls: Vec<String>,
    pub interval: Duration,
    /// Deadline of one probe: connect, TLS, headers and the few KB of body read.
    pub timeout: Duration,
    pub concurrency: usize,
    /// Where https probes connect instead of resolving the host (e.g. traefik:443); SNI and Host stay the route's.
    pub via: Option<String>,
    /// The same for plain http probes (default: `via`'s host on port 80).
    pub via_http: Option<String>,
    /// A private CA trusted in addition to the system roots.
    pub ca_file: Option<PathBuf>,
    pub slow_ms: i64,
    pub cert_warn_days: i64,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        Self {
            extra_urls: vec![],
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            concurrency: 8,
            via: None,
            via_http: None,
            ca_file: None,
            slow_ms: 2000,
            cert_warn_days: 21,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTraefik {
    api_url: Option<String>,
    api_auth_file: Option<PathBuf>,
    tls_entrypoints: Option<Vec<String>>,
    entrypoint_middlewares: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbes {
    urls: Option<Vec<String>>,
    interval_secs: Option<u64>,
    timeout_secs: Option<u64>,
    concurrency: Option<usize>,
    via: Option<String>,
    via_http: Option<String>,
    ca_file: Option<PathBuf>,
    slow_ms: Option<i64>,
    cert_warn_days: Option<i64>,
    authelia_url: Option<String>,
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
        .collect()
}

/// An http(s) URL with a host, or the reason it is not one.
fn http_url(key: &str, value: &str) -> Result<reqwest::Url, ConfigError> {
    let url = reqwest::Url::parse(value.trim())
        .map_err(|e| ConfigError::new(key, format!("'{value}' is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::new(
            key,
            format!("'{value}' must be an http:// or https:// URL with a host"),
        ));
    }
    Ok(url)
}

/// `host:port`, as the probes connect to it.
fn host_port(key: &str, value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    let ok = value
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if ok {
        Ok(value.to_string())
    } else {
        Err(ConfigError::new(
            key,
            format!("'{value}' is not host:port, e.g. traefik:443"),
        ))
    }
}

pub(super) fn read_auth(key: &str, path: &std::path::Path) -> Result<ApiAuth, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(key, format!("cannot read {}: {e}", path.display())))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(ConfigError::new(key, "the file is empty"));
    }
    // "user:password" is basic auth (Traefik's own basicAuth middleware); anything else is a token.
    Ok(match text.split_once(':') {
        Some((user, password)) if !user.contains(' ') => ApiAuth::Basic {
            user: user.to_string(),
            password: Secret::new(password),
        },
        _ => ApiAuth::Bearer(Secret::new(text.trim_start_matches("Bearer ").trim())),
    })
}

/// `websecure=authelia@file,websecure=headers@file,web=redirect@file`.
fn entrypoint_pairs(key: &str, value: &str) -> Result<BTreeMap<String, Vec<String>>, ConfigError> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in list(value) {
        let Some((entrypoint, middleware)) = pair.split_once('=') else {
            return Err(ConfigError::new(
                key,
                format!("'{pair}' is not entrypoint=middleware, e.g. websecure=authelia@file"),
            ));
        };
        out.entry(entrypoint.trim().to_string())
            .or_default()
            .push(middleware.trim().to_string());
    }
    Ok(out)
}

pub(super) fn resolve(
    env: &Env,
    traefik: RawTraefik,
    probes: RawProbes,
) -> Result<EdgeSettings, ConfigError> {
    let traefik_api = match text(env, "AUDIT_TRAEFIK_API", "traefik.api_url", traefik.api_url) {
        None => None,
        Some((key, value)) => {
            let url = http_url(&key, &value)?;
            let auth = match env
                .get("AUDIT_TRAEFIK_API_AUTH_FILE")
                .map(|p| ("AUDIT_TRAEFIK_API_AUTH_FILE", PathBuf::from(p)))
                .or(traefik.api_auth_file.map(|p| ("traefik.api_auth_file", p)))
            {
                Some((key, path)) => Some(read_auth(key, &path)?),
                None => None,
            };
            Some(TraefikApi {
                url: url.as_str().trim_end_matches('/').to_string(),
                auth,
            })
        }
    };
    let tls = match env.get("AUDIT_TRAEFIK_TLS_ENTRYPOINTS") {
        Some(v) => list(v),
        None => traefik.tls_entrypoints.unwrap_or_default(),
    };
    let middlewares = match env.get("AUDIT_TRAEFIK_ENTRYPOINT_MIDDLEWARES") {
        Some(v) => entrypoint_pairs("AUDIT_TRAEFIK_ENTRYPOINT_MIDDLEWARES", v)?,
        None => traefik.entrypoint_middlewares.unwrap_or_default(),
    };

    let d = ProbeSettings::default();
    let extra_urls = match env.get("AUDIT_PROBE_URLS") {
        Some(v) => list(v)
            .into_iter()
            .map(|u| http_url("AUDIT_PROBE_URLS", &u).map(|u| u.to_string()))
            .collect::<Result<Vec<_>, _>>()?,
        None => probes
            .urls
            .unwrap_or_default()
            .into_iter()
            .map(|u| http_url("probes.urls", &u).map(|u| u.to_string()))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let interval = number(
        env,
        "AUDIT_PROBE_INTERVAL",
        "probes.interval_secs",
        probes.interval_secs,
        d.interval.as_secs(),
        5..=86_400,
        "a number of seconds",
    )?;
    let timeout = number(
        env,
        "AUDIT_PROBE_TIMEOUT",
        "probes.timeout_secs",
        probes.timeout_secs,
        d.timeout.as_secs().min(interval - 1),
        1..=600,
        "a number of seconds",
    )?;
    if timeout >= interval {
        return Err(ConfigError::new(
            "AUDIT_PROBE_TIMEOUT",
            format!("{timeout} s must be shorter than the probe interval ({interval} s)"),
        ));
    }
    let via = match pick(env, "AUDIT_PROBE_VIA", "probes.via", probes.via) {
        None => None,
        Some((key, v)) => Some(host_port(&key, &v.unwrap_or_else(|v| v))?),
    };
    let via_http = match pick(
        env,
        "AUDIT_PROBE_VIA_HTTP",
        "probes.via_http",
        probes.via_http,
    ) {
        None => via
            .as_ref()
            .and_then(|v| v.rsplit_once(':'))
            .map(|(host, _)| format!("{host}:80")),
        Some((key, v)) => Some(host_port(&key, &v.unwrap_or_else(|v| v))?),
    };
    let ca_file = env
        .get("AUDIT_PROBE_CA_FILE")
        .map(PathBuf::from)
        .or(probes.ca_file);
    if let Some(path) = &ca_file
        && !path.is_file()
    {
        return Err(ConfigError::new(
            "AUDIT_PROBE_CA_FILE",
            format!("{} is not a readable file", path.display()),
        ));
    }
    let authelia_host = match text(
        env,
        "AUDIT_AUTHELIA_URL",
        "probes.authelia_url",
        probes.authelia_url,
    ) {
        None => None,
        Some((key, value)) => http_url(&key, &value)?
            .host_str()
            .map(|h| h.to_ascii_lowercase()),
    };
    Ok(EdgeSettings {
        traefik_api,
        entrypoints: EntrypointDefaults { tls, middlewares },
        authelia_host,
        probe: ProbeSettings {
            extra_urls,
            interval: Duration::from_secs(interval),
            timeout: Duration::from_secs(timeout),
            concurrency: number(
                env,
                "AUDIT_PROBE_CONCURRENCY",
                "probes.concurrency",
                probes.concurrency,
                d.concurrency,
                1..=256,
                "a whole number",
            )?,
            via,
            via_http,
            ca_file,
            slow_ms: number(
                env,
                "AUDIT_PROBE_SLOW_MS",
                "probes.slow_ms",
                probes.slow_ms,
                d.slow_ms,
                1..=600_000,
                "a number of milliseconds",
            )?,
            cert_warn_days: number(
                env,
                "AUDIT_CERT_EXPIRY_DAYS",
                "probes.cert_warn_days",
                probes.cert_warn_days,
                d.cert_warn_days,
                1..=365,
                "a number of days",
            )?,
        },
    })
}
