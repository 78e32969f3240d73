//! The real [`EngineReader`]: bollard over a unix socket or TCP (optionally TLS), every call with
//! a deadline, containers read concurrently and bounded.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::Duration;

use anyhow::{Context, anyhow};
use bollard::Docker;
use bollard::models::ContainerSummary;
use bollard::query_parameters::{ListContainersOptions, LogsOptions, StatsOptions};
use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use rand::Rng;
use time::OffsetDateTime;

use super::EngineReader;
use super::events::EventFeed;
use super::inspect::from_inspect;
use super::logs::LogAccumulator;
use super::observation::{
    ContainerObservation, EngineObservation, HostInfo, LogSummary, ObserveRequest, StatsSample,
};
use super::redact::Redactor;
use crate::config::{EngineConfig, EngineEndpoint, RefreshSettings};

/// Stats and log calls in flight at once per engine: light for the engine, and batching them
/// would cost one collection tick per batch.
const RUNTIME_CALLS_IN_FLIGHT: usize = 512;

/// The label that leaves a container out of the audit.
pub const EXCLUDE_LABEL: &str = "audit.exclude";

pub struct BollardReader {
    name: String,
    docker: Docker,
    call_timeout: Duration,
    concurrency: usize,
    log_tail_bytes: usize,
    redactor: Redactor,
    events: EventFeed,
}

impl BollardReader {
    /// Builds the client; nothing is contacted until the first refresh. `redactor` decides what
    /// of each container's labels, health check and logs may be kept.
    pub fn connect(
        engine: &EngineConfig,
        refresh: &RefreshSettings,
        redactor: Redactor,
    ) -> anyhow::Result<Self> {
        let timeout = refresh.call_timeout.as_secs().max(1);
        let version = bollard::API_DEFAULT_VERSION;
        let docker = match &engine.endpoint {
            EngineEndpoint::Unix(path) => {
                Docker::connect_with_unix(&path.to_string_lossy(), timeout, version)
            }
            EngineEndpoint::Tcp {
                address,
                tls_dir: None,
            } => Docker::connect_with_http(address, timeout, version),
            EngineEndpoint::Tcp {
                address,
                tls_dir: Some(dir),
            } => Docker::connect_with_ssl(
                address,
                &dir.join("key.pem"),
                &dir.join("cert.pem"),
                &dir.join("ca.pem"),
                timeout,
                version,
            ),
        }
        .with_context(|| {
            format!(
                "engine '{}': cannot set up a client for {}",
                engine.name, engine.endpoint
            )
        })?;
        Ok(Self {
            name: engine.name.clone(),
            docker,
            call_timeout: refresh.call_timeout,
            concurrency: refresh.concurrency,
            log_tail_bytes: refresh.log_tail_bytes,
            redactor,
            events: EventFeed::default(),
        })
    }

    async fn observe_engine(&self, request: &ObserveRequest) -> anyhow::Result<EngineObservation> {
        let docker = retry("negotiating the API version", || {
            deadline(self.call_timeout, self.docker.clone().negotiate_version())
        })
        .await?;
        let version = deadline(self.call_timeout, docker.version())
            .await
            .context("reading the engine version")?;
        // The host's facts are for capacity only: an engine whose `info` fails is still read.
        let host = match deadline(self.call_timeout, docker.info()).await {
            Ok(info) => Some(HostInfo {
                cpus: info.ncpu,
                memory_bytes: info.mem_total,
                kernel_version: info.kernel_version,
                operating_system: info.operating_system,
                storage_driver: info.driver,
            }),
            Err(e) => {
                tracing::warn!(engine = %self.name, error = format!("{e:#}"), "engine info unreadable");
                None
            }
        };
        let options = ListContainersOptions {
            all: true,
            ..Default::default()
        };
        let listed = retry("listing containers", || {
            deadline(
                self.call_timeout,
                docker.list_containers(Some(options.clone())),
            )
        })
        .await?;

        let wanted: Vec<ContainerSummary> =
            listed.into_iter().filter(|c| !is_excluded(c)).collect();
        // Phase 1: inspect, bounded. A container that vanished since the list is skipped.
        let inspected: Vec<Result<ContainerObservation, Unread>> = stream::iter(wanted)
            .map(|summary| self.inspect(&docker, summary))
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut containers = vec![];
        let mut skipped = vec![];
        let mut unreadable = vec![];
        for r in inspected {
            match r {
                Ok(c) => containers.push(c),
                Err(Unread::Gone(id)) => skipped.push(id),
                Err(Unread::Failed(id)) => unreadable.push(id),
            }
        }
        if let Some((since, until)) = request.events_window {
            self.events.follow(&self.docker, &self.name, since);
            let mut events = self.events.take_until(until);
            for c in &mut containers {
                c.events = events.remove(&c.id).unwrap_or_default();
            }
        }
        // Phase 2: one-shot stats and log tails of the running ones, all in flight together: each
        // one-shot call waits for the engine's next 1-second collection tick, so calls made in
        // waves would cost a second per wave, while concurrent ones share a tick.
        let running: Vec<(usize, String)> = containers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.state == "running")
            .map(|(i, c)| (i, c.id.clone()))
            .collect();
        let runtime: Vec<(usize, Option<StatsSample>, LogSummary)> = stream::iter(running)
            .map(|(i, id)| {
                let since = request
                    .logs_since
                    .get(&id)
                    .copied()
                    .unwrap_or_else(|| OffsetDateTime::now_utc() - request.default_log_window);
                let docker = &docker;
                async move {
                    let (stats, logs) =
                        tokio::join!(self.stats(docker, &id), self.logs(docker, &id, since));
                    (i, stats, logs)
                }
            })
            .buffer_unordered(RUNTIME_CALLS_IN_FLIGHT)
            .collect()
            .await;
        for (i, stats, logs) in runtime {
            containers[i].stats = stats;
            containers[i].logs = logs;
        }
        self.add_image_dates(&docker, &mut containers).await;
        containers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(EngineObservation {
            host,
            docker_version: version.version,
            api_version: version.api_version,
            containers,
            skipped,
            unreadable,
        })
    }

    async fn inspect(
        &self,
        docker: &Docker,
        summary: ContainerSummary,
    ) -> Result<ContainerObservation, Unread> {
        let id = summary.id.unwrap_or_default();
        match deadline(self.call_timeout, docker.inspect_container(&id, None)).await {
            Ok(inspect) => Ok(from_inspect(inspect, &self.redactor)),
            Err(e) => {
                let gone = e.downcast_ref::<bollard::errors::Error>().is_some_and(|e| {
                    matches!(
                        e,
                        bollard::errors::Error::DockerResponseServerError {
                            status_code: 404,
                            ..
                        }
                    )
                });
                tracing::warn!(engine = %self.name, container = %id, gone, error = format!("{e:#}"), "container not read this time");
                Err(if gone {
                    Unread::Gone(id)
                } else {
                    Unread::Failed(id)
                })
            }
        }
    }

    async fn stats(&self, docker: &Docker, id: &str) -> Option<StatsSample> {
        // one_shot: no two-sample wait; CPU % comes from our own successive samples.
        let options = StatsOptions {
            stream: false,
            one_shot: true,
        };
        let mut s = docker.stats(id, Some(options));
        let reading = tokio::time::timeout(self.call_timeout, s.next())
            .await
            .ok()??
            .ok()?;
        let cpu = reading.cpu_stats.unwrap_or_default();
        let memory = reading.memory_stats.unwrap_or_default();
        // Like `docker stats`: page cache that can be dropped does not count as use.
        let inactive = memory
            .stats
            .as_ref()
            .and_then(|s| {
                s.get("inactive_file")
                    .or_else(|| s.get("total_inactive_file"))
                    .copied()
            })
            .unwrap_or(0);
        let block_io = reading
            .blkio_stats
            .and_then(|b| b.io_service_bytes_recursive)
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| {
                        e.op.as_deref().is_some_and(|op| {
                            op.eq_ignore_ascii_case("read") || op.eq_ignore_ascii_case("write")
                        })
                    })
                    .filter_map(|e| e.value)
                    .sum()
            });
        let net_io = reading.networks.map(|nets| {
            nets.values()
                .map(|n| n.rx_bytes.unwrap_or(0) + n.tx_bytes.unwrap_or(0))
                .sum()
        });
        Some(StatsSample {
            memory_usage: memory.usage.map(|u| u.saturating_sub(inactive) as i64),
            cpu_total: cpu.cpu_usage.and_then(|u| u.total_usage).unwrap_or(0),
            system_cpu: cpu.system_cpu_usage.unwrap_or(0),
            online_cpus: cpu.online_cpus.unwrap_or(1),
            block_io,
            net_io,
        })
    }

    async fn logs(&self, docker: &Docker, id: &str, since: OffsetDateTime) -> LogSummary {
        if self.log_tail_bytes == 0 {
            return LogSummary::default();
        }
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            since: since.unix_timestamp().clamp(0, i32::MAX as i64) as i32,
            tail: "1000".into(),
            ..Default::default()
        };
        let mut acc = LogAccumulator::default();
        let mut stream = docker.logs(id, Some(options));
        let read = async {
            while let Some(Ok(chunk)) = stream.next().await {
                acc.push_chunk(&chunk.into_bytes());
                if acc.bytes >= self.log_tail_bytes {
                    break;
                }
            }
        };
        if tokio::time::timeout(self.call_timeout, read).await.is_err() {
            tracing::debug!(engine = %self.name, container = %id, "log read hit its deadline");
        }
        let mut summary = acc.finish();
        for line in &mut summary.samples {
            *line = self.redactor.text(line);
        }
        summary
    }

    /// Image creation dates, one inspect per distinct image.
    async fn add_image_dates(&self, docker: &Docker, containers: &mut [ContainerObservation]) {
        let ids: HashSet<String> = containers
            .iter()
            .map(|c| c.image_id.clone())
            .filter(|i| !i.is_empty())
            .collect();
        let dates: HashMap<String, Option<OffsetDateTime>> = stream::iter(ids)
            .map(|id| async move {
                let created = deadline(self.call_timeout, docker.inspect_image(&id))
                    .await
                    .ok()
                    .and_then(|i| i.created);
                (id, created)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        for c in containers {
            c.image_created = dates.get(&c.image_id).copied().flatten();
        }
    }
}

impl EngineReader for BollardReader {
    fn name(&self) -> &str {
        &self.name
    }

    fn observe<'a>(
        &'a self,
        request: &'a ObserveRequest,
    ) -> BoxFuture<'a, anyhow::Result<EngineObservation>> {
        Box::pin(self.observe_engine(request))
    }
}

/// Why a listed container was not read.
enum Unread {
    /// Removed between the list and the inspect.
    Gone(String),
    /// Still there as far as we know, but the inspect failed or timed out.
    Failed(String),
}

fn is_excluded(c: &ContainerSummary) -> bool {
    c.labels
        .as_ref()
        .and_then(|l| l.get(EXCLUDE_LABEL))
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Runs a Docker call with a deadline, so one slow engine cannot hold a refresh.
async fn deadline<T, E>(
    limit: Duration,
    call: impl Future<Output = Result<T, E>>,
) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::time::timeout(limit, call).await {
        Ok(result) => result.map_err(|e| anyhow::Error::new(e)),
        Err(_) => Err(anyhow!("no answer within {} s", limit.as_secs_f32())),
    }
}

/// Three attempts with exponential backoff and jitter, for the calls that decide whether an
/// engine is up at all; a brief hiccup should not mark it down.
async fn retry<T, F, Fut>(what: &str, mut call: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let mut delay = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt >= 3 => {
                return Err(e.context(format!("{what} failed after {attempt} attempts")));
            }
            Err(_) => {
                let jitter = rand::rng().random_range(0.5..1.5);
                tokio::time::sleep(delay.mul_f64(jitter)).await;
                delay *= 2;
                attempt += 1;
            }
        }
    }
}
