//! The rollout tracker's settings: the accounting host and its allowlist middleware.

use serde::Deserialize;

use super::raw::{Env, text};
use super::{ConfigError, RolloutSettings};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRollouts {
    accounting_host: Option<String>,
    allowlist_middleware: Option<String>,
}

pub(super) fn resolve_rollouts(
    env: &Env,
    raw: RawRollouts,
) -> Result<RolloutSettings, ConfigError> {
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
