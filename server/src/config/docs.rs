//! The documentation settings: where the docs are, the sections required, freshness and target.

use std::path::PathBuf;

use serde::Deserialize;

use super::raw::*;
use super::{ConfigError, DocsSettings};
use crate::docs::DocTemplate;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDocs {
    dir: Option<PathBuf>,
    required_sections: Option<Vec<String>>,
    verification_section: Option<String>,
    freshness_days: Option<i64>,
    max_file_bytes: Option<u64>,
    target_percent: Option<u32>,
}

pub(super) fn resolve_docs(env: &Env, raw: RawDocs) -> Result<DocsSettings, ConfigError> {
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
