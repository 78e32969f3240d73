//! The worker's refresh settings (interval, timeouts, concurrency) and the inspection's thresholds.

use std::time::Duration;

use serde::Deserialize;

use super::raw::*;
use super::{AuditSettings, ConfigError, RefreshSettings};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRefresh {
    interval_secs: Option<u64>,
    call_timeout_secs: Option<u64>,
    concurrency: Option<usize>,
    log_tail_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudit {
    allowed_public_ports: Option<Vec<u16>>,
    auth_middlewares: Option<Vec<String>>,
    image_max_age_days: Option<i64>,
    log_error_threshold: Option<i64>,
    restart_loop_threshold: Option<i64>,
    secret_words: Option<Vec<String>>,
}

pub(super) fn resolve_refresh(env: &Env, raw: RawRefresh) -> Result<RefreshSettings, ConfigError> {
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

pub(super) fn resolve_audit(env: &Env, raw: RawAudit) -> Result<AuditSettings, ConfigError> {
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
