//! One refresh of every engine: the single step of the worker. Each engine's own part is in
//! `engine`; what follows the inventory (routes, evidence, docs, grade, checks, actions,
//! notifications) is ordered here.

mod engine;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::future::join_all;
use sqlx::PgPool;

use crate::config::{EngineConfig, Settings};
use crate::docker::EngineReader;
use crate::docker::bollard_reader::BollardReader;
use crate::docker::observation::StatsSample;
use crate::docker::redact::Redactor;
use crate::edge::EdgeInputs;

fn redactor(settings: &Settings) -> Redactor {
    Redactor::new(settings.audit.secret_words.clone())
}

/// What one refresh did, for logs and benchmarks.
#[derive(Debug, Default, Clone)]
pub struct RefreshReport {
    pub engines: usize,
    pub failed_engines: usize,
    pub containers: usize,
    pub duration: Duration,
    /// Per engine: its name and the error, when it failed.
    pub errors: Vec<(String, String)>,
    /// Docs read from the docs folder.
    pub docs: usize,
}

/// An engine as the worker holds it: a reader, or the reason none could be built (e.g. bad TLS files).
enum EngineSlot {
    Ready(Arc<dyn EngineReader>),
    Broken { config: EngineConfig, error: String },
}

impl EngineSlot {
    fn name(&self) -> &str {
        match self {
            EngineSlot::Ready(r) => r.name(),
            EngineSlot::Broken { config, .. } => &config.name,
        }
    }
}

pub struct Worker {
    pool: PgPool,
    settings: Arc<Settings>,
    engines: Vec<EngineSlot>,
    /// The previous one-shot stats reading per (engine, container), for CPU %.
    cpu_samples: HashMap<(String, String), StatsSample>,
    /// Traefik's view and the latest probes, gathered at the start of each refresh.
    edge: EdgeInputs,
    /// Backup jobs and their latest runs, gathered at the start of each refresh.
    backups: crate::evidence::BackupInputs,
}

/// The outcome for one engine.
struct EngineOutcome {
    name: String,
    containers: usize,
    error: Option<String>,
    samples: Vec<(String, StatsSample)>,
}

impl Worker {
    /// A worker over the configured engines, through bollard.
    pub fn new(pool: PgPool, settings: Arc<Settings>) -> Self {
        let engines = settings
            .engines
            .iter()
            .map(
                |e| match BollardReader::connect(e, &settings.refresh, redactor(&settings)) {
                    Ok(reader) => EngineSlot::Ready(Arc::new(reader)),
                    Err(err) => EngineSlot::Broken {
                        config: e.clone(),
                        error: format!("{err:#}"),
                    },
                },
            )
            .collect();
        Self {
            pool,
            settings,
            engines,
            cpu_samples: HashMap::new(),
            edge: EdgeInputs::default(),
            backups: Default::default(),
        }
    }

    /// A worker over readers given by the caller (tests use their own).
    pub fn with_readers(
        pool: PgPool,
        settings: Arc<Settings>,
        readers: Vec<Arc<dyn EngineReader>>,
    ) -> Self {
        let engines = readers.into_iter().map(EngineSlot::Ready).collect();
        Self {
            pool,
            settings,
            engines,
            cpu_samples: HashMap::new(),
            edge: EdgeInputs::default(),
            backups: Default::default(),
        }
    }

    /// Reads every engine once, concurrently, and writes what each one said. One engine failing
    /// leaves its services at their last known state and does not affect the others.
    pub async fn refresh_once(&mut self) -> anyhow::Result<RefreshReport> {
        let started = Instant::now();
        self.retry_broken_engines();
        self.edge = crate::edge::gather(&self.pool, &self.settings).await;
        self.backups = crate::evidence::gather_backups(&self.pool, &self.settings)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "backup runs unreadable; no backup findings this refresh");
                Default::default()
            });
        let configured: Vec<(String, String)> = self
            .engines
            .iter()
            .map(|slot| {
                let endpoint = self
                    .settings
                    .engines
                    .iter()
                    .find(|e| e.name == slot.name())
                    .map(|e| e.endpoint.to_string())
                    .unwrap_or_else(|| "(provided by the caller)".into());
                (slot.name().to_string(), endpoint)
            })
            .collect();
        let ids: HashMap<String, i64> =
            crate::inventory::engines::sync_configured(&self.pool, &configured)
                .await
                .context("recording the configured engines")?
                .into_iter()
                .map(|(id, name)| (name, id))
                .collect();

        let outcomes = join_all(self.engines.iter().map(|slot| {
            let engine_id = ids.get(slot.name()).copied();
            self.refresh_engine(slot, engine_id)
        }))
        .await;

        let mut report = RefreshReport {
            engines: outcomes.len(),
            ..Default::default()
        };
        for outcome in outcomes {
            report.containers += outcome.containers;
            if let Some(error) = outcome.error {
                report.failed_engines += 1;
                report.errors.push((outcome.name.clone(), error));
            }
            self.cpu_samples
                .retain(|(engine, _), _| *engine != outcome.name || outcome.samples.is_empty());
            for (container, sample) in outcome.samples {
                self.cpu_samples
                    .insert((outcome.name.clone(), container), sample);
            }
        }
        // The route list follows the services just stored (and Traefik's routers that reach none).
        if let Err(e) = crate::edge::publish_routes(&self.pool, &self.settings, &self.edge).await {
            tracing::warn!(error = format!("{e:#}"), "route list not published");
        }
        // Backups, the monitoring stack and the infrastructure repository, measured for the grade.
        if let Err(e) = crate::evidence::publish(&self.pool, &self.settings).await {
            tracing::warn!(
                error = format!("{e:#}"),
                "evidence not measured; the grade keeps the previous scores"
            );
        }
        // The docs folder is read on every refresh too, so coverage follows both; the grade is
        // scored from the coverage the scan just computed.
        let mut graded = None;
        let coverage =
            match crate::docs::live::rescan_with_report(&self.pool, &self.settings.docs).await {
                Ok((docs, coverage)) => {
                    report.docs = docs;
                    Ok(coverage)
                }
                Err(e) => {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "docs scan failed; coverage keeps the previous scan"
                    );
                    crate::docs::live::current_report(&self.pool, &self.settings.docs).await
                }
            };
        match coverage {
            Ok(coverage) => {
                graded =
                    match crate::grade::live::snapshot_with(&self.pool, &coverage.overall).await {
                        Ok(graded) => Some(graded),
                        Err(e) => {
                            tracing::warn!(error = %e, "grade snapshot failed");
                            None
                        }
                    };
                // Rollout items the inventory proves follow it on every refresh.
                if let Err(e) = crate::rollouts::live::check_all(
                    &self.pool,
                    &coverage.docs,
                    crate::worker::stale_after(&self.settings),
                    &self.backups.jobs,
                )
                .await
                {
                    tracing::warn!(error = %e, "rollout checks failed");
                }
                // So do the phase deliverables bound to a check.
                if let Err(e) = crate::phases::live::check_deliverables(
                    &self.pool,
                    &self.settings,
                    &coverage.overall,
                    crate::phases::signoff_queries::CheckScope::All,
                    graded.as_ref(),
                )
                .await
                {
                    tracing::warn!(error = %e, "deliverable checks failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "documentation coverage unavailable"),
        }
        // The action plan follows the findings: new ones open actions, fixed ones close them.
        if let Err(e) = crate::actions::sync::run(&self.pool, time::OffsetDateTime::now_utc()).await
        {
            tracing::warn!(error = %e, "action plan not updated");
        }
        // Notifications follow everything above: conditions that started are queued once.
        let now = time::OffsetDateTime::now_utc();
        if let Err(e) =
            crate::notify::watch::run(&self.pool, &self.settings, graded.as_ref(), now).await
        {
            tracing::warn!(error = %e, "notification conditions not evaluated");
        }
        report.duration = started.elapsed();
        Ok(report)
    }

    /// An engine whose client could not be built (say, its socket did not exist yet) is tried
    /// again at every refresh, so it recovers without a restart of the portal.
    fn retry_broken_engines(&mut self) {
        for slot in &mut self.engines {
            if let EngineSlot::Broken { config, error } = slot {
                match BollardReader::connect(
                    config,
                    &self.settings.refresh,
                    redactor(&self.settings),
                ) {
                    Ok(reader) => *slot = EngineSlot::Ready(Arc::new(reader)),
                    Err(e) => *error = format!("{e:#}"),
                }
            }
        }
    }
}
