//! The worker's writes: one engine's observation applied in one transaction (services upserted,
//! changes appended as events, vanished services marked removed, hourly aggregates, the run).

use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;

use app::model::{Finding, FindingKind, ServiceFacts};

use super::engines::{EngineRefresh, record_refresh};
use crate::docker::observation::{ContainerEvent, ContainerEventKind};
use crate::inspection::ServiceIdentity;

/// What the database knew about a service before this refresh.
#[derive(Debug, Clone)]
pub struct PreviousService {
    pub key: String,
    pub container_id: String,
    pub state: String,
    pub health: Option<String>,
    pub findings: Json<Vec<Finding>>,
    pub restart_count: Option<i64>,
    pub last_seen: OffsetDateTime,
    pub removed_at: Option<OffsetDateTime>,
    pub last_oom_kill: Option<OffsetDateTime>,
}

pub async fn previous(db: &PgPool, engine_id: i64) -> sqlx::Result<Vec<PreviousService>> {
    sqlx::query_as!(
        PreviousService,
        r#"SELECT key, container_id, state, health AS "health?", findings AS "findings: _", (facts->>'restart_count')::int8 AS "restart_count?",
                last_seen, removed_at AS "removed_at?", (facts->>'last_oom_kill')::timestamptz AS "last_oom_kill?"
         FROM services WHERE engine_id = $1"#,
        engine_id,
    )
    .fetch_all(db)
    .await
}

/// One service as this refresh saw it.
#[derive(Debug, Clone)]
pub struct ObservedService {
    pub identity: ServiceIdentity,
    pub facts: ServiceFacts,
    pub findings: Vec<Finding>,
    pub up: bool,
    /// OOM kills, SIGKILL deaths and starts since the previous refresh, for the timeline.
    pub events: Vec<ContainerEvent>,
    /// Block and network bytes moved since the previous sample of the same container.
    pub io: IoDelta,
}

/// Bytes moved between two samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoDelta {
    pub block: i64,
    pub net: i64,
}

/// A change worth keeping in a service's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceChange {
    pub key: String,
    pub kind: &'static str,
    pub detail: String,
    /// When it happened, if the engine said (events); else the time of the refresh.
    pub at: Option<OffsetDateTime>,
}

/// Compares what was known with what was seen; pure, so the timeline rules are unit-tested.
pub fn changes(previous: Option<&PreviousService>, seen: &ObservedService) -> Vec<ServiceChange> {
    let key = &seen.identity.key;
    let change = |kind: &'static str, detail: String| ServiceChange {
        key: key.clone(),
        kind,
        detail,
        at: None,
    };
    let status = |state: &str, health: Option<&str>| match health {
        Some(h) => format!("{state} ({h})"),
        None => state.to_string(),
    };
    let now_status = status(&seen.facts.state, seen.facts.health.as_deref());
    // What happened between the refreshes, each at its own time. A start counts as a restart
    // only for the container the previous refresh saw (a new container is "recreated" below).
    // The engine reports `oom` each time the memory cgroup hits its limit, which can be hundreds
    // of times around one kill: a run of them is one entry, with its count.
    let same_container = previous.is_some_and(|p| p.container_id == seen.facts.container_id);
    let mut happened: Vec<ServiceChange> = vec![];
    let mut oom_run = 0;
    for e in &seen.events {
        let (kind, detail) = match e.kind {
            ContainerEventKind::OomKill => {
                oom_run += 1;
                if oom_run > 1
                    && let Some(last) = happened.last_mut()
                {
                    last.detail = format!("ran out of memory ({oom_run} times)");
                    continue;
                }
                ("oom kill", "ran out of memory".to_string())
            }
            ContainerEventKind::Killed => ("killed", "died from SIGKILL (exit code 137)".into()),
            ContainerEventKind::Started if same_container => {
                ("restarted", "the engine started the container again".into())
            }
            ContainerEventKind::Started => continue,
        };
        if e.kind != ContainerEventKind::OomKill {
            oom_run = 0;
        }
        happened.push(ServiceChange {
            at: Some(e.at),
            ..change(kind, detail)
        });
    }
    let Some(prev) = previous else {
        let mut out = vec![change("appeared", format!("first seen, {now_status}"))];
        out.extend(happened);
        return out;
    };
    let mut out = happened;
    if prev.removed_at.is_some() {
        out.push(change("reappeared", format!("seen again, {now_status}")));
    }
    if prev.container_id != seen.facts.container_id {
        let short = |id: &str| id.chars().take(12).collect::<String>();
        out.push(change(
            "recreated",
            format!(
                "container re-created ({} → {})",
                short(&prev.container_id),
                short(&seen.facts.container_id)
            ),
        ));
    }
    let before = status(&prev.state, prev.health.as_deref());
    if before != now_status {
        out.push(change("state", format!("{before} → {now_status}")));
    }
    let old: Vec<FindingKind> = prev.findings.0.iter().map(|f| f.kind).collect();
    let new: Vec<FindingKind> = seen.findings.iter().map(|f| f.kind).collect();
    for f in seen.findings.iter().filter(|f| !old.contains(&f.kind)) {
        out.push(change(
            "finding opened",
            format!("{}: {}", f.kind.title(), f.fact),
        ));
    }
    for kind in old.iter().filter(|k| !new.contains(k)) {
        out.push(change("finding resolved", kind.title().to_string()));
    }
    out
}

/// Applies one engine's successful observation. Services not seen are marked removed, never
/// deleted; services whose container exists but could not be read (`unreadable` container ids)
/// keep their last known state, which their older `last_seen` marks as stale.
pub async fn apply(
    db: &PgPool,
    engine_id: i64,
    observed_at: OffsetDateTime,
    seen: &[ObservedService],
    previous: &[PreviousService],
    unreadable: &[String],
    run: &EngineRefresh<'_>,
) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    let ids = upsert_services(&mut tx, engine_id, observed_at, seen).await?;
    let mut events: Vec<ServiceChange> = seen
        .iter()
        .flat_map(|s| changes(previous.iter().find(|p| p.key == s.identity.key), s))
        .collect();

    let seen_keys: Vec<&str> = seen.iter().map(|s| s.identity.key.as_str()).collect();
    let removed = sqlx::query!(
        "UPDATE services SET removed_at = $2
         WHERE engine_id = $1 AND removed_at IS NULL AND key <> ALL($3::text[])
           AND container_id <> ALL($4::text[])
         RETURNING id, key",
        engine_id,
        observed_at,
        &seen_keys as _,
        unreadable as _,
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut ids = ids;
    for row in removed {
        let (id, key) = (row.id, row.key);
        events.push(ServiceChange {
            key: key.clone(),
            kind: "removed",
            detail: "its container is gone from the engine".into(),
            at: None,
        });
        ids.push((id, key));
    }
    insert_events(&mut tx, &ids, observed_at, &events).await?;
    add_hourly(&mut tx, &ids, observed_at, seen).await?;
    record_refresh(&mut *tx, run).await?;
    tx.commit().await
}

async fn upsert_services(
    tx: &mut Transaction<'_, Postgres>,
    engine_id: i64,
    at: OffsetDateTime,
    seen: &[ObservedService],
) -> sqlx::Result<Vec<(i64, String)>> {
    let col = |f: fn(&ObservedService) -> Option<String>| seen.iter().map(f).collect::<Vec<_>>();
    let keys = col(|s| Some(s.identity.key.clone()));
    let projects = col(|s| s.identity.compose_project.clone());
    let services = col(|s| s.identity.compose_service.clone());
    let names = col(|s| Some(s.identity.display_name.clone()));
    let groups = col(|s| s.identity.group.clone());
    let descriptions = col(|s| s.identity.description.clone());
    let owners = col(|s| s.identity.owner.clone());
    let tiers = col(|s| s.identity.tier.clone());
    let docs = col(|s| s.identity.doc_path.clone());
    let containers = col(|s| Some(s.facts.container_id.clone()));
    let states = col(|s| Some(s.facts.state.clone()));
    let healths = col(|s| s.facts.health.clone());
    let images = col(|s| Some(s.facts.image_ref.clone()));
    let facts: Vec<Json<&ServiceFacts>> = seen.iter().map(|s| Json(&s.facts)).collect();
    let findings: Vec<Json<&Vec<Finding>>> = seen.iter().map(|s| Json(&s.findings)).collect();
    let rows = sqlx::query!(
        "INSERT INTO services (engine_id, key, compose_project, compose_service, display_name, group_name,
                               description, owner, tier, doc_path, container_id, state, health, image_ref,
                               facts, findings, first_seen, last_seen, removed_at)
         SELECT $1, u.*, $17, $17, NULL
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                     $15::jsonb[], $16::jsonb[]) AS u
         ON CONFLICT (engine_id, key) DO UPDATE SET
             compose_project = EXCLUDED.compose_project, compose_service = EXCLUDED.compose_service,
             display_name = EXCLUDED.display_name, group_name = EXCLUDED.group_name,
             description = EXCLUDED.description, owner = EXCLUDED.owner, tier = EXCLUDED.tier,
             doc_path = EXCLUDED.doc_path, container_id = EXCLUDED.container_id, state = EXCLUDED.state,
             health = EXCLUDED.health, image_ref = EXCLUDED.image_ref, facts = EXCLUDED.facts,
             findings = EXCLUDED.findings, last_seen = EXCLUDED.last_seen, removed_at = NULL
         RETURNING id, key",
        engine_id,
        keys as _,
        projects as _,
        services as _,
        names as _,
        groups as _,
        descriptions as _,
        owners as _,
        tiers as _,
        docs as _,
        containers as _,
        states as _,
        healths as _,
        images as _,
        facts as _,
        findings as _,
        at,
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.key)).collect())
}

async fn insert_events(
    tx: &mut Transaction<'_, Postgres>,
    ids: &[(i64, String)],
    at: OffsetDateTime,
    events: &[ServiceChange],
) -> sqlx::Result<()> {
    let id_of = |key: &str| ids.iter().find(|(_, k)| k == key).map(|(id, _)| *id);
    let rows: Vec<(i64, &str, &str, Option<OffsetDateTime>)> = events
        .iter()
        .filter_map(|e| Some((id_of(&e.key)?, e.kind, e.detail.as_str(), e.at)))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let service_ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let details: Vec<&str> = rows.iter().map(|r| r.2).collect();
    let times: Vec<Option<OffsetDateTime>> = rows.iter().map(|r| r.3).collect();
    sqlx::query!(
        "INSERT INTO service_events (service_id, at, kind, detail)
         SELECT u.id, coalesce(u.at, $4), u.kind, u.detail
         FROM unnest($1::int8[], $2::text[], $3::text[], $5::timestamptz[]) AS u(id, kind, detail, at)",
        &service_ids,
        kinds as _,
        details as _,
        at,
        times as _,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One sample per seen service into its hour's aggregate. Services not seen (removed) get no
/// sample, so their availability reflects only the time they existed.
async fn add_hourly(
    tx: &mut Transaction<'_, Postgres>,
    ids: &[(i64, String)],
    at: OffsetDateTime,
    seen: &[ObservedService],
) -> sqlx::Result<()> {
    let id_of = |key: &str| ids.iter().find(|(_, k)| k == key).map(|(id, _)| *id);
    let mut service_ids = vec![];
    let mut ups = vec![];
    let mut cpus: Vec<Option<f64>> = vec![];
    let mut mems: Vec<Option<i64>> = vec![];
    let mut errors = vec![];
    let mut block = vec![];
    let mut net = vec![];
    for s in seen {
        let Some(id) = id_of(&s.identity.key) else {
            continue;
        };
        service_ids.push(id);
        ups.push(i32::from(s.up));
        cpus.push(s.facts.cpu_percent);
        mems.push(s.facts.memory_usage_bytes);
        errors.push(s.facts.log_errors + s.facts.log_fatals);
        block.push(s.io.block);
        net.push(s.io.net);
    }
    sqlx::query!(
        "INSERT INTO service_hourly (service_id, hour, samples, up_samples, cpu_percent_sum, cpu_samples, cpu_percent_max,
                                     memory_max, memory_sum, memory_samples, log_errors, block_io_bytes, net_io_bytes)
         SELECT u.id, date_trunc('hour', $1::timestamptz), 1, u.up, coalesce(u.cpu, 0), (u.cpu IS NOT NULL)::int, u.cpu,
                u.mem, coalesce(u.mem, 0), (u.mem IS NOT NULL)::int, u.errors, u.block, u.net
         FROM unnest($2::int8[], $3::int4[], $4::float8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[])
              AS u(id, up, cpu, mem, errors, block, net)
         ON CONFLICT (service_id, hour) DO UPDATE SET
             samples = service_hourly.samples + 1,
             up_samples = service_hourly.up_samples + EXCLUDED.up_samples,
             cpu_percent_sum = service_hourly.cpu_percent_sum + EXCLUDED.cpu_percent_sum,
             cpu_samples = service_hourly.cpu_samples + EXCLUDED.cpu_samples,
             cpu_percent_max = greatest(service_hourly.cpu_percent_max, EXCLUDED.cpu_percent_max),
             memory_max = greatest(service_hourly.memory_max, EXCLUDED.memory_max),
             memory_sum = service_hourly.memory_sum + EXCLUDED.memory_sum,
             memory_samples = service_hourly.memory_samples + EXCLUDED.memory_samples,
             log_errors = service_hourly.log_errors + EXCLUDED.log_errors,
             block_io_bytes = service_hourly.block_io_bytes + EXCLUDED.block_io_bytes,
             net_io_bytes = service_hourly.net_io_bytes + EXCLUDED.net_io_bytes",
        at,
        &service_ids,
        &ups,
        cpus as _,
        mems as _,
        &errors,
        &block,
        &net,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Severity;

    fn seen(
        container: &str,
        state: &str,
        health: Option<&str>,
        findings: Vec<FindingKind>,
    ) -> ObservedService {
        ObservedService {
            io: IoDelta::default(),
            identity: ServiceIdentity {
                key: "p/web".into(),
                compose_project: None,
                compose_service: None,
                display_name: "web".into(),
                group: None,
                description: None,
                owner: None,
                tier: None,
                doc_path: None,
            },
            facts: ServiceFacts {
                container_id: container.into(),
                state: state.into(),
                health: health.map(Into::into),
                ..Default::default()
            },
            findings: findings
                .into_iter()
                .map(|kind| Finding {
                    kind,
                    severity: Severity::Low,
                    fact: "f".into(),
                    fix: String::new(),
                })
                .collect(),
            up: true,
            events: vec![],
        }
    }

    fn prev(of: &ObservedService) -> PreviousService {
        PreviousService {
            key: of.identity.key.clone(),
            container_id: of.facts.container_id.clone(),
            state: of.facts.state.clone(),
            health: of.facts.health.clone(),
            findings: Json(of.findings.clone()),
            restart_count: Some(0),
            last_seen: OffsetDateTime::UNIX_EPOCH,
            removed_at: None,
            last_oom_kill: None,
        }
    }

    #[test]
    fn a_run_of_oom_events_is_one_timeline_entry() {
        let mut s = seen("abc", "running", None, vec![]);
        let at = |secs: i64| OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(secs);
        let event = |secs, kind| ContainerEvent { at: at(secs), kind };
        s.events = vec![
            event(10, ContainerEventKind::OomKill),
            event(11, ContainerEventKind::OomKill),
            event(12, ContainerEventKind::OomKill),
            event(13, ContainerEventKind::Killed),
            event(14, ContainerEventKind::Started),
            event(20, ContainerEventKind::OomKill),
        ];
        let timeline: Vec<(&str, String, Option<OffsetDateTime>)> = changes(Some(&prev(&s)), &s)
            .into_iter()
            .map(|c| (c.kind, c.detail, c.at))
            .collect();
        assert_eq!(
            timeline,
            [
                (
                    "oom kill",
                    "ran out of memory (3 times)".to_string(),
                    Some(at(10))
                ),
                (
                    "killed",
                    "died from SIGKILL (exit code 137)".into(),
                    Some(at(13))
                ),
                (
                    "restarted",
                    "the engine started the container again".into(),
                    Some(at(14))
                ),
                ("oom kill", "ran out of memory".into(), Some(at(20))),
            ]
        );
    }

    #[test]
    fn a_steady_service_writes_no_events() {
        let s = seen(
            "abc",
            "running",
            Some("healthy"),
            vec![FindingKind::NoCpuLimit],
        );
        assert_eq!(changes(Some(&prev(&s)), &s), vec![]);
    }

    #[test]
    fn transitions_are_recorded() {
        let before = seen(
            "abc",
            "running",
            Some("healthy"),
            vec![FindingKind::NoCpuLimit],
        );
        let after = seen(
            "def",
            "running",
            Some("unhealthy"),
            vec![FindingKind::Unhealthy],
        );
        let kinds: Vec<&str> = changes(Some(&prev(&before)), &after)
            .iter()
            .map(|c| c.kind)
            .collect();
        assert_eq!(
            kinds,
            ["recreated", "state", "finding opened", "finding resolved"]
        );
        let first: Vec<&str> = changes(None, &after).iter().map(|c| c.kind).collect();
        assert_eq!(first, ["appeared"]);
        let mut gone = prev(&before);
        gone.removed_at = Some(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(changes(Some(&gone), &before)[0].kind, "reappeared");
    }
}
