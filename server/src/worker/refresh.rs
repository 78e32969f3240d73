//! One refresh of every engine: the single step of the worker.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::future::join_all;
use sqlx::PgPool;
use time::OffsetDateTime;

use app::model::FindingKind;

use crate::capacity;
use crate::capacity::sizing::{SizingRules, WasFlagged};
use crate::config::{EngineConfig, Settings};
use crate::db;
use crate::db::engines::{EngineRefresh, EngineVersion};
use crate::db::inventory::{IoDelta, ObservedService, PreviousService};
use crate::docker::bollard_reader::BollardReader;
use crate::docker::observation::StatsSample;
use crate::docker::redact::Redactor;
use crate::docker::{EngineReader, ObserveRequest};
use crate::edge::EdgeInputs;
use crate::inspection::{self, FindingInput, ServiceIdentity};

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
        let ids: HashMap<String, i64> = db::engines::sync_configured(&self.pool, &configured)
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
                    crate::db::phases::CheckScope::All,
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

    async fn refresh_engine(&self, slot: &EngineSlot, engine_id: Option<i64>) -> EngineOutcome {
        let name = slot.name().to_string();
        let fail = |error: String| EngineOutcome {
            name: name.clone(),
            containers: 0,
            error: Some(error),
            samples: vec![],
        };
        let Some(engine_id) = engine_id else {
            return fail("engine missing from the database".into());
        };
        let started_at = OffsetDateTime::now_utc();
        let clock = Instant::now();
        let result = match slot {
            EngineSlot::Broken { error, .. } => Err(error.clone()),
            EngineSlot::Ready(reader) => {
                self.observe_and_store(reader.as_ref(), engine_id, started_at, clock)
                    .await
            }
        };
        crate::metrics::observe_refresh(&name, clock.elapsed());
        match result {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::warn!(engine = %name, error = %error, "engine refresh failed; its services keep their last known state");
                let run = EngineRefresh {
                    engine_id,
                    started_at,
                    duration_ms: clock.elapsed().as_millis() as i64,
                    result: Err(&error),
                    containers: 0,
                    running: 0,
                    unhealthy: 0,
                    findings: 0,
                };
                if let Err(e) = db::engines::record_refresh(&self.pool, &run).await {
                    tracing::error!(engine = %name, error = %e, "could not record the failed refresh");
                }
                fail(error)
            }
        }
    }

    async fn observe_and_store(
        &self,
        reader: &dyn EngineReader,
        engine_id: i64,
        started_at: OffsetDateTime,
        clock: Instant,
    ) -> Result<EngineOutcome, String> {
        let name = reader.name().to_string();
        let previous = db::inventory::previous(&self.pool, engine_id)
            .await
            .map_err(|e| format!("reading previous state: {e}"))?;
        let request = ObserveRequest {
            logs_since: previous
                .iter()
                .map(|p| (p.container_id.clone(), p.last_seen))
                .collect(),
            default_log_window: self.settings.refresh.interval,
            events_window: Some((
                previous
                    .iter()
                    .filter(|p| p.removed_at.is_none())
                    .map(|p| p.last_seen)
                    .max()
                    .unwrap_or(started_at - self.settings.refresh.interval),
                started_at,
            )),
        };
        let observation = reader
            .observe(&request)
            .await
            .map_err(|e| format!("{e:#}"))?;
        let history = capacity::record::inputs(&self.pool, engine_id, started_at)
            .await
            .map_err(|e| format!("reading the resource history: {e}"))?;
        let seen = self.audit(&name, &observation.containers, &previous, &history);
        let run = EngineRefresh {
            engine_id,
            started_at,
            duration_ms: clock.elapsed().as_millis() as i64,
            result: Ok(EngineVersion {
                docker_version: observation.docker_version.clone(),
                api_version: observation.api_version.clone(),
            }),
            containers: seen.len() as i32,
            running: seen.iter().filter(|s| s.facts.state == "running").count() as i32,
            unhealthy: seen
                .iter()
                .filter(|s| s.facts.health.as_deref() == Some("unhealthy"))
                .count() as i32,
            findings: seen.iter().map(|s| s.findings.len()).sum::<usize>() as i32,
        };
        db::inventory::apply(
            &self.pool,
            engine_id,
            started_at,
            &seen,
            &previous,
            &observation.unreadable,
            &run,
        )
        .await
        .map_err(|e| format!("storing the observation: {e}"))?;
        let edges = capacity::deps::edges(&dependency_nodes(&seen, &observation.containers));
        if let Err(e) = capacity::record::after_refresh(
            &self.pool,
            engine_id,
            started_at,
            observation.host.as_ref(),
            &seen,
            &edges,
        )
        .await
        {
            tracing::warn!(engine = %name, error = %e, "capacity, dependencies and versions not recorded");
        }
        let samples = observation
            .containers
            .iter()
            .filter_map(|c| Some((c.id.clone(), c.stats?)))
            .collect();
        Ok(EngineOutcome {
            name,
            containers: seen.len(),
            error: None,
            samples,
        })
    }

    /// Facts and findings for every container of one engine.
    fn audit(
        &self,
        engine: &str,
        containers: &[crate::docker::ContainerObservation],
        previous: &[PreviousService],
        history: &HashMap<String, capacity::record::ServiceInputs>,
    ) -> Vec<ObservedService> {
        let now = OffsetDateTime::now_utc();
        let mut seen: Vec<ObservedService> = containers
            .iter()
            .map(|c| {
                let identity = ServiceIdentity::of(c);
                let earlier = self
                    .cpu_samples
                    .get(&(engine.to_string(), c.id.clone()))
                    .copied();
                let mut facts = inspection::facts_from(
                    c,
                    inspection::cpu_percent(earlier, c.stats),
                    &self.settings.audit,
                    &self.settings.edge.entrypoints,
                );
                // With Traefik's API, its routers replace what the labels suggest: they include
                // file-provider routers and entrypoint defaults exactly as Traefik applies them.
                if let Some(view) = &self.edge.view {
                    facts.routes = view.routes_for(
                        &crate::edge::traefik_api::ContainerRef {
                            labels: &c.labels,
                            compose_service: identity.compose_service.as_deref(),
                            container_name: &c.name,
                        },
                        &self.settings.audit.auth_middlewares,
                    );
                }
                let known = previous.iter().find(|p| p.key == identity.key);
                let prev = known.filter(|p| p.container_id == c.id);
                // An OOM kill seen at an earlier refresh is remembered until a newer one.
                facts.last_oom_kill = facts.last_oom_kill.max(known.and_then(|p| p.last_oom_kill));
                let inputs = history.get(&identity.key).cloned().unwrap_or_default();
                let had = |kind: FindingKind| {
                    known.is_some_and(|p| p.findings.0.iter().any(|f| f.kind == kind))
                };
                let input = FindingInput {
                    facts: &facts,
                    previous_restart_count: prev.and_then(|p| p.restart_count),
                    now,
                    memory: inputs.memory_with(facts.memory_usage_bytes),
                    was: WasFlagged {
                        near: had(FindingKind::MemoryNearLimit),
                        oversized: had(FindingKind::MemoryOversized),
                    },
                    sizing: SizingRules {
                        headroom: self.settings.capacity.headroom,
                        min_samples: self.settings.capacity.min_samples,
                    },
                };
                let mut findings = inspection::findings_for(&input, &self.settings.audit);
                findings.extend(inputs.comparison.as_ref().and_then(|c| {
                    // The stored day does not hold this refresh's sample yet.
                    let c = capacity::regression::Comparison {
                        now_samples: c.now_samples + 1,
                        ..c.clone()
                    };
                    capacity::regression::finding(
                        &c,
                        self.settings.capacity.regression_percent,
                        self.settings.capacity.min_samples,
                    )
                }));
                findings.extend(crate::edge::findings::route_findings(
                    &facts.routes,
                    &self.edge.probes,
                    &self.settings.edge,
                    facts
                        .labels
                        .get("audit.auth")
                        .is_some_and(|v| v.eq_ignore_ascii_case("oidc")),
                    now,
                ));
                findings.extend(crate::evidence::backups::service_findings(
                    &format!("{engine}/{}", identity.key),
                    &facts,
                    &self.backups.jobs,
                    &self.backups.runs,
                    &self.settings.evidence,
                    now,
                ));
                findings.sort_by_key(|x| (x.severity, x.kind));
                let up = inspection::is_up(&facts);
                let io = io_delta(earlier, c.stats);
                ObservedService {
                    identity,
                    facts,
                    findings,
                    up,
                    events: c.events.clone(),
                    io,
                }
            })
            .collect();
        // Two containers claiming one service (a stray copy): keep the running one, once.
        seen.sort_by(|a, b| {
            a.identity
                .key
                .cmp(&b.identity.key)
                .then((b.facts.state == "running").cmp(&(a.facts.state == "running")))
        });
        seen.dedup_by(|later, first| later.identity.key == first.identity.key);
        seen
    }
}

/// Bytes moved between two samples of the same container; a counter that went back (the
/// container restarted) starts the count again from zero.
fn io_delta(previous: Option<StatsSample>, current: Option<StatsSample>) -> IoDelta {
    let (Some(prev), Some(cur)) = (previous, current) else {
        return IoDelta::default();
    };
    let moved = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => b.checked_sub(a).unwrap_or(b) as i64,
        _ => 0,
    };
    IoDelta {
        block: moved(prev.block_io, cur.block_io),
        net: moved(prev.net_io, cur.net_io),
    }
}

/// The dependency finder's view of the services just judged, with each container's environment
/// host names (which are not kept in the facts).
fn dependency_nodes<'a>(
    seen: &'a [ObservedService],
    containers: &'a [crate::docker::ContainerObservation],
) -> Vec<capacity::deps::Node<'a>> {
    let by_id: HashMap<&str, &crate::docker::ContainerObservation> =
        containers.iter().map(|c| (c.id.as_str(), c)).collect();
    seen.iter()
        .map(|s| capacity::deps::Node {
            key: &s.identity.key,
            compose_project: s.identity.compose_project.as_deref(),
            compose_service: s.identity.compose_service.as_deref(),
            container_name: &s.facts.container_name,
            labels: &s.facts.labels,
            networks: &s.facts.networks,
            env_hosts: by_id
                .get(s.facts.container_id.as_str())
                .map(|c| c.env_hosts.as_slice())
                .unwrap_or(&[]),
            routed: !s.facts.routes.is_empty(),
            image_ref: &s.facts.image_ref,
        })
        .collect()
}
