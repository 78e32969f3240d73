//! The worker's rules through a fake engine: what a refresh stores from an engine's answer, with
//! no Docker involved. The fake answers in the worker's own terms (`EngineObservation`), so these
//! tests pin the rules; how a real engine's answers become those terms is `inventory`'s part.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::{FindingKind, ServiceSummary};
use audit_portal::docker::observation::{ContainerObservation, EngineObservation};
use audit_portal::docker::{EngineReader, ObserveRequest};
use audit_portal::worker::Worker;
use futures::future::BoxFuture;
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::common::settings;

/// An engine whose answer the test sets: the containers it lists, or `None` for an engine that
/// cannot be reached, and the ids of containers it lists but whose inspect failed.
struct FakeEngine {
    answer: Mutex<Option<Vec<ContainerObservation>>>,
    unreadable: Mutex<Vec<String>>,
}

impl FakeEngine {
    fn answering(containers: Vec<ContainerObservation>) -> Arc<FakeEngine> {
        Arc::new(FakeEngine {
            answer: Mutex::new(Some(containers)),
            unreadable: Mutex::new(vec![]),
        })
    }

    fn answer(&self, containers: Option<Vec<ContainerObservation>>) {
        *self.answer.lock().unwrap() = containers;
    }

    fn unreadable(&self, ids: Vec<String>) {
        *self.unreadable.lock().unwrap() = ids;
    }
}

impl EngineReader for FakeEngine {
    fn name(&self) -> &str {
        "fake"
    }

    fn observe<'a>(
        &'a self,
        _request: &'a ObserveRequest,
    ) -> BoxFuture<'a, anyhow::Result<EngineObservation>> {
        let answer = self.answer.lock().unwrap().clone();
        let unreadable = self.unreadable.lock().unwrap().clone();
        Box::pin(async move {
            let containers = answer.ok_or_else(|| anyhow::anyhow!("connection refused"))?;
            Ok(EngineObservation {
                docker_version: Some("27.5.1".into()),
                api_version: Some("1.47".into()),
                host: None,
                containers,
                skipped: vec![],
                unreadable,
            })
        })
    }
}

/// A container of compose project `shop` that breaks no rule.
fn clean(service: &str) -> ContainerObservation {
    let now = OffsetDateTime::now_utc();
    ContainerObservation {
        id: format!("{service}0123456789"),
        name: format!("/shop-{service}-1"),
        labels: BTreeMap::from([
            ("com.docker.compose.project".into(), "shop".into()),
            ("com.docker.compose.service".into(), service.into()),
        ]),
        state: "running".into(),
        health: Some("healthy".into()),
        healthcheck: Some("wget -q --spider http://localhost/".into()),
        restart_policy: "unless-stopped".into(),
        started_at: Some(now - time::Duration::hours(2)),
        image_ref: "shop/web:1.4.2".into(),
        image_id: "sha256:1f2e3d".into(),
        image_created: Some(now - time::Duration::days(12)),
        memory_limit: Some(256 << 20),
        cpu_limit: Some(1.0),
        ..Default::default()
    }
}

async fn inventory(db: &PgPool) -> BTreeMap<String, ServiceSummary> {
    audit_portal::inventory::services::summaries(db, Duration::from_secs(600))
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.key.clone(), s))
        .collect()
}

fn kinds(service: &ServiceSummary) -> Vec<FindingKind> {
    let mut kinds: Vec<FindingKind> = service.findings.iter().map(|f| f.kind).collect();
    kinds.sort_by_key(|k| format!("{k:?}"));
    kinds
}

fn worker(db: &PgPool, engine: &Arc<FakeEngine>) -> Worker {
    let reader: Arc<dyn EngineReader> = engine.clone();
    Worker::with_readers(db.clone(), Arc::new(settings(&[])), vec![reader])
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn each_container_rule_applies_to_what_the_engine_reported(db: PgPool) {
    let engine = FakeEngine::answering(vec![
        clean("web"),
        ContainerObservation {
            healthcheck: None,
            health: None,
            ..clean("nohealth")
        },
        ContainerObservation {
            health: Some("unhealthy".into()),
            failing_streak: 4,
            ..clean("sick")
        },
        ContainerObservation {
            restart_policy: "no".into(),
            ..clean("norestart")
        },
        ContainerObservation {
            privileged: true,
            ..clean("root")
        },
        ContainerObservation {
            memory_limit: None,
            ..clean("nolimit")
        },
        ContainerObservation {
            image_ref: "shop/web:latest".into(),
            ..clean("floating")
        },
    ]);
    let report = worker(&db, &engine).refresh_once().await.unwrap();
    assert_eq!(report.failed_engines, 0, "{:?}", report.errors);
    assert_eq!(report.containers, 7);

    let services = inventory(&db).await;
    let expected = [
        ("shop/web", vec![]),
        ("shop/nohealth", vec![FindingKind::NoHealthcheck]),
        ("shop/sick", vec![FindingKind::Unhealthy]),
        ("shop/norestart", vec![FindingKind::NoRestartPolicy]),
        ("shop/root", vec![FindingKind::Privileged]),
        ("shop/nolimit", vec![FindingKind::NoMemoryLimit]),
        ("shop/floating", vec![FindingKind::ImageLatest]),
    ];
    for (key, want) in expected {
        let service = services
            .get(key)
            .unwrap_or_else(|| panic!("{key} not stored: {:?}", services.keys()));
        assert_eq!(kinds(service), want, "{key}: {:?}", service.findings);
        assert_eq!(service.engine, "fake");
    }
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_container_gone_is_marked_removed_and_comes_back_as_the_same_service(db: PgPool) {
    let engine = FakeEngine::answering(vec![clean("web"), clean("cache")]);
    let mut worker = worker(&db, &engine);
    worker.refresh_once().await.unwrap();

    engine.answer(Some(vec![clean("web")]));
    worker.refresh_once().await.unwrap();
    let services = inventory(&db).await;
    assert!(services["shop/web"].removed_at.is_none());
    assert!(
        services["shop/cache"].removed_at.is_some(),
        "a vanished container is marked removed, not deleted"
    );

    // Re-created (a new container id) under the same compose labels: the same service again.
    engine.answer(Some(vec![
        clean("web"),
        ContainerObservation {
            id: "cafe0123456789".into(),
            ..clean("cache")
        },
    ]));
    worker.refresh_once().await.unwrap();
    let services = inventory(&db).await;
    assert!(services["shop/cache"].removed_at.is_none());
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM services WHERE key = 'shop/cache'")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(ids.len(), 1, "one service row across the re-creation");
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn an_engine_that_cannot_be_read_keeps_its_services_and_says_why(db: PgPool) {
    let engine = FakeEngine::answering(vec![clean("web")]);
    let mut worker = worker(&db, &engine);
    worker.refresh_once().await.unwrap();

    engine.answer(None);
    let report = worker.refresh_once().await.unwrap();
    assert_eq!(report.failed_engines, 1);
    assert!(
        report
            .errors
            .iter()
            .any(|(engine, error)| engine == "fake" && error.contains("connection refused")),
        "{:?}",
        report.errors
    );
    let services = inventory(&db).await;
    assert!(
        services["shop/web"].removed_at.is_none(),
        "an unreadable engine is no proof that its containers went away"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_container_listed_but_unreadable_keeps_its_state_and_is_not_removed(db: PgPool) {
    let engine = FakeEngine::answering(vec![clean("web"), clean("cache")]);
    let mut worker = worker(&db, &engine);
    worker.refresh_once().await.unwrap();

    // The engine still lists the cache container, but its inspect timed out.
    engine.answer(Some(vec![clean("web")]));
    engine.unreadable(vec![clean("cache").id]);
    worker.refresh_once().await.unwrap();
    let services = inventory(&db).await;
    let cache = &services["shop/cache"];
    assert!(cache.removed_at.is_none(), "listed, so not removed");
    assert_eq!(cache.state, "running", "its last known state stays");
}

async fn timeline(db: &PgPool, key: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT ev.kind, ev.detail FROM service_events ev JOIN services s ON s.id = ev.service_id
         WHERE s.key = $1 ORDER BY ev.at, ev.id",
    )
    .bind(key)
    .fetch_all(db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn an_oom_kill_is_one_timeline_entry_per_run_and_stays_a_finding_after_the_restart(
    db: PgPool,
) {
    use audit_portal::docker::observation::{ContainerEvent, ContainerEventKind};
    let engine = FakeEngine::answering(vec![clean("web")]);
    let mut worker = worker(&db, &engine);
    worker.refresh_once().await.unwrap();

    // Between two refreshes: the memory cgroup hit its limit three times around one kill, the
    // container died from SIGKILL, and its restart policy started it again.
    let t = OffsetDateTime::now_utc() - time::Duration::seconds(20);
    let event = |seconds: i64, kind| ContainerEvent {
        at: t + time::Duration::seconds(seconds),
        kind,
    };
    engine.answer(Some(vec![ContainerObservation {
        restart_count: 1,
        events: vec![
            event(0, ContainerEventKind::OomKill),
            event(1, ContainerEventKind::OomKill),
            event(2, ContainerEventKind::OomKill),
            event(3, ContainerEventKind::Killed),
            event(5, ContainerEventKind::Started),
        ],
        ..clean("web")
    }]));
    worker.refresh_once().await.unwrap();
    let happened: Vec<(String, String)> = timeline(&db, "shop/web")
        .await
        .into_iter()
        .filter(|(kind, _)| kind != "appeared")
        .collect();
    let kinds_seen: Vec<&str> = happened.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(
        kinds_seen,
        ["oom kill", "killed", "restarted", "finding opened"],
        "{happened:?}"
    );
    assert_eq!(
        happened[0].1, "ran out of memory (3 times)",
        "one entry per run"
    );
    assert_eq!(happened[1].1, "died from SIGKILL (exit code 137)");
    assert!(happened[3].1.starts_with("OOM-killed"), "{happened:?}");

    // Running again and healthy, with nothing new: the kill stays a finding (for 7 days).
    engine.answer(Some(vec![ContainerObservation {
        restart_count: 1,
        ..clean("web")
    }]));
    worker.refresh_once().await.unwrap();
    let services = inventory(&db).await;
    assert!(
        kinds(&services["shop/web"]).contains(&FindingKind::OomKilled),
        "{:?}",
        services["shop/web"].findings
    );
    assert_eq!(
        timeline(&db, "shop/web").await.len(),
        happened.len() + 1,
        "nothing new: neither another kill nor the finding closed"
    );
}
