//! Docker engine entries: a name and how to reach it (unix socket, or TCP with optional TLS).

use std::fmt;
use std::path::PathBuf;

use super::ConfigError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    pub name: String,
    pub endpoint: EngineEndpoint,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineEndpoint {
    Unix(PathBuf),
    /// `tcp://host:port`; with `tls_dir`, the client certificate files `ca.pem`, `cert.pem`, `key.pem`
    /// in that folder (Docker's own `DOCKER_CERT_PATH` layout).
    Tcp {
        address: String,
        tls_dir: Option<PathBuf>,
    },
}

impl fmt::Display for EngineEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineEndpoint::Unix(path) => write!(f, "unix://{}", path.display()),
            EngineEndpoint::Tcp {
                address,
                tls_dir: None,
            } => write!(f, "tcp://{address}"),
            EngineEndpoint::Tcp {
                address,
                tls_dir: Some(_),
            } => write!(f, "tcp://{address} (TLS)"),
        }
    }
}

impl EngineConfig {
    /// Parses one engine; `key` names where the value came from, for the error message.
    pub fn parse(
        key: &str,
        name: &str,
        endpoint: &str,
        tls_dir: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let name = name.trim();
        let valid_name = !name.is_empty()
            && name.len() <= 63
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid_name {
            return Err(ConfigError::new(
                key,
                format!("engine name '{name}' must be 1 to 63 letters, digits, '-' or '_'"),
            ));
        }
        let endpoint = endpoint.trim();
        let endpoint = if let Some(path) = endpoint.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(ConfigError::new(
                    key,
                    format!("engine '{name}': unix socket path must be absolute, got '{path}'"),
                ));
            }
            if tls_dir.is_some() {
                return Err(ConfigError::new(
                    key,
                    format!("engine '{name}': TLS applies to tcp:// endpoints only"),
                ));
            }
            EngineEndpoint::Unix(PathBuf::from(path))
        } else if let Some(address) = endpoint.strip_prefix("tcp://") {
            let address = address.trim_end_matches('/');
            let valid = address.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
            if !valid {
                return Err(ConfigError::new(
                    key,
                    format!("engine '{name}': '{address}' is not host:port"),
                ));
            }
            EngineEndpoint::Tcp {
                address: address.to_string(),
                tls_dir,
            }
        } else {
            return Err(ConfigError::new(
                key,
                format!("engine '{name}': endpoint '{endpoint}' must start with unix:// or tcp://"),
            ));
        };
        Ok(EngineConfig {
            name: name.to_string(),
            endpoint,
        })
    }

    /// `AUDIT_ENGINES="master=unix:///var/run/docker.sock,lady=tcp://lady.internal:2375"`.
    pub fn parse_list(
        key: &str,
        value: &str,
        tls_dir_of: impl Fn(&str) -> Option<PathBuf>,
    ) -> Result<Vec<Self>, ConfigError> {
        let mut engines: Vec<EngineConfig> = vec![];
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let Some((name, endpoint)) = entry.split_once('=') else {
                return Err(ConfigError::new(
                    key,
                    format!("'{entry}' must be name=endpoint"),
                ));
            };
            let engine = Self::parse(key, name, endpoint, tls_dir_of(name.trim()))?;
            if engines.iter().any(|e| e.name == engine.name) {
                return Err(ConfigError::new(
                    key,
                    format!("engine '{}' is listed twice", engine.name),
                ));
            }
            engines.push(engine);
        }
        Ok(engines)
    }
}
