//! One engine's part of a refresh: observe its containers, judge them (the inspection's findings,
//! with the route, backup and sizing evidence gathered for this refresh), and store the result.

use std::collections::HashMap;
use std::time::Instant;

use time::OffsetDateTime;

use app::model::FindingKind;

use crate::capacity;
use crate::capacity::sizing::{SizingRules, WasFlagged};
use crate::docker::observation::StatsSample;
use crate::docker::{EngineReader, ObserveRequest};
use crate::inspection::{self, FindingInput, ServiceIdentity};
use crate::inventory::engines::{EngineRefresh, EngineVersion};
use crate::inventory::queries::{IoDelta, ObservedService, PreviousService};

use super::{EngineOutcome, EngineSlot, Worker};

impl Worker {
    pub(super) async fn refresh_engine(
        &self,
        slot: &EngineSlot,
        engine_id: Option<i64>,
    ) -> EngineOutcome {
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
                if let Err(e) = crate::inventory::engines::record_refresh(&self.pool, &run).await {
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
        let previous = crate::inventory::queries::previous(&self.pool, engine_id)
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
        crate::inventory::queries::apply(
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
