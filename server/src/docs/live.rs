//! Coverage of the live inventory: the docs tables and the services, read from Postgres and
//! combined by [`super::coverage::report`].

use sqlx::PgPool;
use time::OffsetDateTime;

use app::model::docs::CoverageReport;

use super::coverage::{CoverageInput, report};
use crate::config::DocsSettings;

pub async fn current_report(db: &PgPool, settings: &DocsSettings) -> sqlx::Result<CoverageReport> {
    let (state, services) = tokio::try_join!(
        crate::docs::queries::load(db),
        crate::docs::queries::service_refs(db)
    )?;
    Ok(report(CoverageInput {
        services: &services,
        docs: &state.docs,
        problems: &state.problems,
        attestations: &state.attestations,
        claims: &state.claims,
        freshness_days: settings.template.freshness_days,
        target_share: settings.target_share,
        today: OffsetDateTime::now_utc().date(),
        docs_dir_configured: settings.dir.is_some(),
    }))
}

/// Rescans the folder (off the async threads), stores the result and snapshots coverage.
pub async fn rescan(db: &PgPool, settings: &DocsSettings) -> anyhow::Result<usize> {
    Ok(rescan_with_report(db, settings).await?.0)
}

/// Reads and checks the docs folder, off the async runtime; None when no folder is configured.
pub async fn read_folder(settings: &DocsSettings) -> anyhow::Result<Option<super::ScanOutcome>> {
    let Some(dir) = settings.dir.clone() else {
        return Ok(None);
    };
    let template = settings.template.clone();
    let scan = tokio::task::spawn_blocking(move || super::scan_dir(&dir, &template)).await??;
    Ok(Some(scan))
}

/// [`rescan`], also returning the coverage it computed, for callers that need it next.
pub async fn rescan_with_report(
    db: &PgPool,
    settings: &DocsSettings,
) -> anyhow::Result<(usize, CoverageReport)> {
    let now = OffsetDateTime::now_utc();
    let mut scanned = 0;
    if let Some(scan) = read_folder(settings).await? {
        let mut tx = db.begin().await?;
        crate::docs::queries::apply_scan(&mut tx, &scan, now).await?;
        tx.commit().await?;
        scanned = scan.docs.len();
    }
    let report = current_report(db, settings).await?;
    crate::docs::queries::snapshot_if_changed(db, &report.overall, settings.target_share, now)
        .await?;
    Ok((scanned, report))
}
