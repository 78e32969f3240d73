//! The Docker inventory against the private engine of `scripts/test`: a fleet showing every
//! finding, state changes across refreshes, a dead engine, and secrets kept out.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::common::docker::{
    Fleet, IMAGE, Spec, StallingProxy, docker, socket, wait_for, wait_for_file_size,
    wait_for_oom_kill,
};
use crate::common::{settings, spawn_app};
use app::model::Role;
use app::model::{FindingKind, ServiceSummary};
use audit_portal::worker::{Worker, stale_after};
use sqlx::PgPool;

fn engine_env(extra: &str) -> String {
    format!("test=unix://{}{extra}", socket())
}

async fn summaries(db: &PgPool) -> Vec<ServiceSummary> {
    audit_portal::inventory::services::summaries(db, Duration::from_secs(600))
        .await
        .unwrap()
}

async fn summary(db: &PgPool, key: &str) -> ServiceSummary {
    summaries(db)
        .await
        .into_iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("service {key} not in the inventory"))
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn every_finding_on_a_real_fleet(db: PgPool) {
    let fleet = Fleet::new("f");
    let good = Spec::good;
    let sock_mount = format!("{}:/var/run/docker.sock:ro", socket());
    let image_id = docker(&["image", "inspect", "-f", "{{.Id}}", IMAGE]);

    let clean = good()
        .label("homepage.name=Clean <script>alert(1)</script>")
        .label("traefik.http.routers.clean.rule=Host(`clean.quietly.online`)")
        .label("traefik.http.routers.clean.middlewares=authelia@docker")
        .label("traefik.http.routers.clean.tls=true")
        .add("-p", Some("0.0.0.0:443:443"));
    fleet.run("clean", &clean);
    fleet.run(
        "nohealth",
        &good().without("--health-cmd").without("--health-interval"),
    );
    fleet.run(
        "sick",
        &good()
            .set("--health-cmd", "false")
            .set("--health-retries", "1"),
    );
    fleet.run("norestart", &good().set("--restart", "no"));
    fleet.run(
        "crashloop",
        &good()
            .set("--restart", "always")
            .cmd(&["sh", "-c", "exit 1"]),
    );
    let oom = good()
        .set("--restart", "no")
        .set("--memory", "8m")
        .set("--memory-swap", "8m")
        .cmd(&[
            "sh",
            "-c",
            "x=$(head -c 30000000 /dev/zero | tr '\\0' a); sleep 100000",
        ]);
    fleet.run("oom", &oom);
    fleet.run("nolimits", &good().without("--memory").without("--cpus"));
    let public = good()
        .add("-p", Some("0.0.0.0:8080:80"))
        .add("-p", Some("127.0.0.1:9090:9090"));
    fleet.run("public", &public);
    fleet.create("privileged", &good().add("--privileged", None));
    fleet.run("socket", &good().add("-v", Some(&sock_mount)));
    fleet.run("latest", &good().image("audit-test/busybox:latest"));
    fleet.run("untagged", &good().image(&image_id));
    fleet.run("old", &good().image("audit-test/old:2020"));
    let noauth = good()
        .label("traefik.http.routers.noauth.rule=Host(`open.quietly.online`)")
        .label("traefik.http.routers.noauth.tls=true");
    fleet.run("noauth", &noauth);
    let notls = good()
        .label("traefik.http.routers.notls.rule=Host(`plain.quietly.online`)")
        .label("traefik.http.routers.notls.middlewares=authelia@docker");
    fleet.run("notls", &notls);
    let noisy = "while true; do echo 'ERROR: upstream timed out'; sleep 0.1; done";
    fleet.run("noisy", &good().cmd(&["sh", "-c", noisy]));
    // 93% of its limit, with room left for the health check's own process (runc's init is
    // charged to the container's memory too; a tighter fill made the check itself fail).
    let hungry = good()
        .set("--memory", "200m")
        .set("--memory-swap", "200m")
        .add("--tmpfs", Some("/fill"))
        .cmd(&[
            "sh",
            "-c",
            "head -c 195000000 /dev/zero > /fill/blob; while true; do sleep 5; done",
        ]);
    fleet.run("hungry", &hungry);
    fleet.run("oversized", &good().set("--memory", "2g"));
    fleet.run("excluded", &good().label("audit.exclude=true"));

    fleet.wait_health("sick", "unhealthy");
    wait_for_oom_kill(&fleet.container("oom"));
    wait_for(
        &fleet.container("crashloop"),
        "{{.RestartCount}}",
        |s| s.parse::<i64>().unwrap_or(0) >= 3,
        "3 restarts",
    );
    fleet.wait_health("clean", "healthy");
    fleet.wait_health("hungry", "healthy");
    // Its memory use is near the limit once the fill is complete, not when it turns healthy.
    wait_for_file_size(&fleet.container("hungry"), "/fill/blob", 195_000_000);
    // Enough error lines to pass the threshold of 15, whatever the machine's speed.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while docker(&["logs", &fleet.container("noisy")]).lines().count() < 40 {
        assert!(std::time::Instant::now() < deadline, "noisy did not log");
        std::thread::sleep(Duration::from_millis(200));
    }

    // One sample is enough history here: the memory findings' judgement on history has tests of
    // its own (tests/capacity.rs).
    let settings = settings(&[
        ("AUDIT_ENGINES", &engine_env("")),
        ("AUDIT_LOG_ERROR_THRESHOLD", "15"),
        ("AUDIT_CAPACITY_MIN_SAMPLES", "1"),
    ]);
    let mut worker = Worker::new(db.clone(), Arc::new(settings.clone()));
    let report = worker.refresh_once().await.unwrap();
    assert_eq!(report.failed_engines, 0, "{:?}", report.errors);

    let mine: BTreeMap<String, Vec<FindingKind>> = summaries(&db)
        .await
        .into_iter()
        .filter(|s| s.key.starts_with(&format!("{}/", fleet.project)))
        .map(|s| {
            let mut kinds: Vec<FindingKind> = s.findings.iter().map(|f| f.kind).collect();
            kinds.sort();
            (
                s.key
                    .trim_start_matches(&format!("{}/", fleet.project))
                    .to_string(),
                kinds,
            )
        })
        .collect();
    use FindingKind::*;
    let expected: BTreeMap<String, Vec<FindingKind>> = [
        ("clean", vec![]),
        ("nohealth", vec![NoHealthcheck]),
        ("sick", vec![Unhealthy]),
        ("norestart", vec![NoRestartPolicy]),
        ("crashloop", vec![RestartLoop]),
        ("oom", vec![NoRestartPolicy, OomKilled]),
        ("nolimits", vec![NoMemoryLimit, NoCpuLimit]),
        ("public", vec![PublicPort]),
        ("privileged", vec![Privileged]),
        ("socket", vec![DockerSocket]),
        ("latest", vec![ImageLatest]),
        ("untagged", vec![ImageUntagged]),
        ("old", vec![ImageOld]),
        ("noauth", vec![RouteWithoutAuth]),
        ("notls", vec![RouteWithoutTls]),
        ("noisy", vec![LogErrors]),
        ("hungry", vec![MemoryNearLimit]),
        ("oversized", vec![MemoryOversized]),
    ]
    .into_iter()
    .map(|(k, mut v)| {
        v.sort();
        (k.to_string(), v)
    })
    .collect();
    assert_eq!(mine, expected);

    // The pages show the same: a filter by finding, the service page with fact and fix, downloads.
    let app = spawn_app(db.clone(), settings).await;
    app.sign_in(Role::Viewer).await;
    let (status, page) = app
        .get_text(&format!(
            "/services?finding=public_port&q={}",
            fleet.project
        ))
        .await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("/services/test/{}%2Fpublic", fleet.project)),
        "the public service is listed"
    );
    assert!(
        !page.contains(&format!("{}%2Fclean", fleet.project)),
        "the clean one is filtered out"
    );
    let (status, detail) = app
        .get_text(&format!("/services/test/{}/public", fleet.project))
        .await;
    assert_eq!(status, 200);
    assert!(
        detail.contains("port 80/tcp is published on 0.0.0.0:8080 (all interfaces)"),
        "the fact"
    );
    assert!(detail.contains("Publish on 127.0.0.1 only"), "the fix");
    let (_, clean) = app
        .get_text(&format!("/services/test/{}/clean", fleet.project))
        .await;
    assert!(
        clean.contains("Clean &lt;script&gt;alert(1)&lt;/script&gt;"),
        "labels are escaped"
    );
    assert!(
        !clean.contains("<script>alert(1)"),
        "no label reaches the page as markup"
    );
    let (_, csv) = app.get_text("/services.csv").await;
    assert!(csv.starts_with("engine,service,name,"));
    assert!(csv.contains(&format!("test,{}/oom,", fleet.project)));
    let json: serde_json::Value = app.get("/api/v1/services").await.json().await.unwrap();
    let items = json["items"].as_array().expect("a page of services");
    assert!(
        items
            .iter()
            .any(|s| s["key"] == fleet.key("sick").as_str() && s["health"] == "unhealthy"),
        "{json}"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn stops_removals_and_health_changes_show_after_the_next_refresh(db: PgPool) {
    let fleet = Fleet::new("c");
    // Healthy until a file named /down appears.
    let toggled = Spec::good()
        .set("--health-cmd", "test ! -e /down")
        .set("--health-retries", "1");
    for name in ["stopper", "goner", "wobbly"] {
        fleet.run(name, &toggled);
    }
    for name in ["stopper", "goner", "wobbly"] {
        fleet.wait_health(name, "healthy");
    }
    let settings = Arc::new(settings(&[("AUDIT_ENGINES", &engine_env(""))]));
    let mut worker = Worker::new(db.clone(), settings);
    worker.refresh_once().await.unwrap();
    let goner_before = summary(&db, &fleet.key("goner")).await;
    assert_eq!(goner_before.status_label(), "healthy");

    docker(&["stop", "-t", "1", &fleet.container("stopper")]);
    docker(&["rm", "-f", &fleet.container("goner")]);
    docker(&["exec", &fleet.container("wobbly"), "touch", "/down"]);
    fleet.wait_health("wobbly", "unhealthy");
    worker.refresh_once().await.unwrap();

    let stopper = summary(&db, &fleet.key("stopper")).await;
    assert_eq!(stopper.state, "exited");
    let goner = summary(&db, &fleet.key("goner")).await;
    assert!(
        goner.removed_at.is_some(),
        "a vanished container is marked removed, not deleted"
    );
    let wobbly = summary(&db, &fleet.key("wobbly")).await;
    assert_eq!(wobbly.health.as_deref(), Some("unhealthy"));
    assert!(
        wobbly
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Unhealthy)
    );

    // Re-created under the same compose labels, it is the same service again.
    fleet.run("goner", &toggled);
    fleet.wait_health("goner", "healthy");
    worker.refresh_once().await.unwrap();
    let back = summary(&db, &fleet.key("goner")).await;
    assert!(back.removed_at.is_none());
    let timeline: Vec<(String, String)> = sqlx::query_as(
        "SELECT ev.kind, ev.detail FROM service_events ev JOIN services s ON s.id = ev.service_id
         WHERE s.key = $1 ORDER BY ev.id",
    )
    .bind(fleet.key("goner"))
    .fetch_all(&db)
    .await
    .unwrap();
    let kinds: Vec<&str> = timeline.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        ["appeared", "removed", "reappeared", "recreated"],
        "{timeline:?}"
    );
    let services_named_goner: i64 =
        sqlx::query_scalar("SELECT count(*) FROM services WHERE key = $1")
            .bind(fleet.key("goner"))
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(services_named_goner, 1, "identity survives re-creation");

    let wobbly_events: Vec<String> = sqlx::query_scalar(
        "SELECT ev.detail FROM service_events ev JOIN services s ON s.id = ev.service_id WHERE s.key = $1 AND ev.kind = 'state'",
    )
    .bind(fleet.key("wobbly"))
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(wobbly_events, ["running (healthy) → running (unhealthy)"]);
    // Availability counts the refreshes that saw it up: 1 of the 3 for wobbly.
    let wobbly = summary(&db, &fleet.key("wobbly")).await;
    let availability = wobbly.availability_24h.unwrap();
    assert!((availability - 1.0 / 3.0).abs() < 1e-9, "{availability}");
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_dead_engine_goes_stale_and_the_other_keeps_refreshing(db: PgPool) {
    let fleet = Fleet::new("d");
    fleet.run("steady", &Spec::good());
    // First both engines answer (the same private engine under two names).
    let both = settings(&[(
        "AUDIT_ENGINES",
        &format!("live=unix://{0},lady=unix://{0}", socket()),
    )]);
    Worker::new(db.clone(), Arc::new(both))
        .refresh_once()
        .await
        .unwrap();
    let events_before: i64 = sqlx::query_scalar("SELECT count(*) FROM service_events")
        .fetch_one(&db)
        .await
        .unwrap();

    // Then "lady" points at a socket with nothing behind it.
    let dir = std::env::temp_dir().join(format!("audit-dead-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dead = dir.join("docker.sock");
    drop(std::os::unix::net::UnixListener::bind(&dead).unwrap());
    let split = settings(&[(
        "AUDIT_ENGINES",
        &format!("live=unix://{},lady=unix://{}", socket(), dead.display()),
    )]);
    let split = Arc::new(split);
    let mut worker = Worker::new(db.clone(), split.clone());
    let report = worker.refresh_once().await.unwrap();
    assert_eq!(report.failed_engines, 1);
    assert_eq!(report.errors[0].0, "lady");

    let engines = audit_portal::inventory::engines::statuses(&db, stale_after(&split))
        .await
        .unwrap();
    let lady = engines.iter().find(|e| e.name == "lady").unwrap();
    let live = engines.iter().find(|e| e.name == "live").unwrap();
    assert!(!lady.reachable && lady.stale);
    assert!(
        lady.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("attempts"),
        "{:?}",
        lady.last_error
    );
    assert!(live.reachable && !live.stale);

    let rows = summaries(&db).await;
    let on = |engine: &str| {
        rows.iter()
            .find(|s| s.engine == engine && s.key == fleet.key("steady"))
            .unwrap()
            .clone()
    };
    assert!(on("lady").stale, "services of a dead engine are stale");
    assert!(on("lady").removed_at.is_none(), "and not removed");
    assert!(!on("live").stale);
    let events_after: i64 = sqlx::query_scalar("SELECT count(*) FROM service_events")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(events_after >= events_before, "no history is lost");

    let app = spawn_app(db.clone(), (*split).clone()).await;
    app.sign_in(Role::Viewer).await;
    let (_, page) = app.get_text("/engines").await;
    assert!(
        page.contains("down") && page.contains("failed after 3 attempts"),
        "the engine page shows the error"
    );
    let (_, services) = app.get_text("/services?engine=lady").await;
    assert!(
        services.contains("last seen"),
        "stale rows say when they were last seen"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn environment_values_are_never_stored_or_shown(db: PgPool) {
    let fleet = Fleet::new("s");
    let vault = Spec::good()
        .add("-e", Some("DB_PASSWORD=s3cr3t-value-91"))
        .add("-e", Some("API_TOKEN=tok-abc-77"));
    fleet.run("vault", &vault);
    let settings = settings(&[("AUDIT_ENGINES", &engine_env(""))]);
    Worker::new(db.clone(), Arc::new(settings.clone()))
        .refresh_once()
        .await
        .unwrap();

    let leaks: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM services WHERE facts::text ~ 's3cr3t|tok-abc')
              + (SELECT count(*) FROM service_events WHERE detail ~ 's3cr3t|tok-abc')",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(leaks, 0);
    let names: serde_json::Value =
        sqlx::query_scalar("SELECT facts->'env_names' FROM services WHERE key = $1")
            .bind(fleet.key("vault"))
            .fetch_one(&db)
            .await
            .unwrap();
    assert!(
        names.as_array().unwrap().iter().any(|n| n == "DB_PASSWORD"),
        "names are kept: {names}"
    );
    let app = spawn_app(db, settings).await;
    app.sign_in(Role::Viewer).await;
    let (_, page) = app
        .get_text(&format!("/services/test/{}/vault", fleet.project))
        .await;
    assert!(page.contains("DB_PASSWORD") && !page.contains("s3cr3t"));
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn refresh_now_is_for_admins_and_is_audited(db: PgPool) {
    let mut listener = sqlx::postgres::PgListener::connect_with(&db).await.unwrap();
    listener
        .listen(audit_portal::inventory::engines::REFRESH_CHANNEL)
        .await
        .unwrap();

    let viewer = spawn_app(db.clone(), settings(&[])).await;
    viewer.sign_in(Role::Viewer).await;
    let (_, page) = viewer.get_text("/services").await;
    assert!(!page.contains("Refresh now"), "a viewer sees no button");
    let refused = viewer
        .post_form("/services", "/services/refresh", &[])
        .await;
    assert_eq!(
        refused.status(),
        403,
        "and the server refuses the POST anyway"
    );
    let notified = tokio::time::timeout(Duration::from_millis(300), listener.recv()).await;
    assert!(notified.is_err(), "no refresh was requested");

    let admin = spawn_app(db.clone(), settings(&[])).await;
    admin.sign_in(Role::Admin).await;
    let (_, page) = admin.get_text("/services").await;
    assert!(page.contains("Refresh now"));
    let ok = admin.post_form("/services", "/services/refresh", &[]).await;
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()["location"], "/services?refreshed=1");
    tokio::time::timeout(Duration::from_secs(2), listener.recv())
        .await
        .expect("notified")
        .unwrap();

    let trail: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT actor_subject, action, outcome FROM audit_log WHERE action = 'inventory.refresh' ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        trail,
        [
            (
                "demo-viewer".to_string(),
                "inventory.refresh".to_string(),
                "refused".to_string()
            ),
            (
                "demo-admin".to_string(),
                "inventory.refresh".to_string(),
                "done".to_string()
            ),
        ]
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn secrets_in_labels_health_checks_and_logs_reach_no_page_export_or_log(db: PgPool) {
    let log = LogCapture::default();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_writer(log.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish(),
    );
    let fleet = Fleet::new("leak");
    let talker = "while true; do echo 'ERROR login failed password=log-LEAK-7777 token=log-LEAK-8888'; sleep 0.3; done";
    let vault = Spec::good()
        .label("homepage.widget.key=wk-LEAK-1111")
        .label("traefik.http.middlewares.basic.basicauth.users=admin:$apr1$LEAK2222$abcdefghijk")
        .label("com.example.db-password=pw-LEAK-3333")
        .label("homepage.description=mirror at https://svc:LEAK-4444@mirror.quietly.online")
        .label("traefik.http.routers.vault.rule=Host(`vault.quietly.online`)")
        .label("traefik.http.routers.vault.middlewares=basic")
        .set(
            "--health-cmd",
            "wget -q -O- http://probe:hc-LEAK-5555@127.0.0.1:1/ || curl -fsu admin:hc-LEAK-6666 http://localhost || true",
        )
        .cmd(&["sh", "-c", talker]);
    fleet.run("vault", &vault);
    fleet.wait_health("vault", "healthy");
    let settings = settings(&[("AUDIT_ENGINES", &engine_env(""))]);
    let mut worker = Worker::new(db.clone(), Arc::new(settings.clone()));
    worker.refresh_once().await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    worker.refresh_once().await.unwrap();

    let vault = summary(&db, &fleet.key("vault")).await;
    assert_eq!(vault.state, "running");
    let stored: String = sqlx::query_scalar(
        "SELECT facts::text || findings::text || coalesce((SELECT string_agg(detail, ' ') FROM service_events ev WHERE ev.service_id = s.id), '')
         FROM services s WHERE key = $1",
    )
    .bind(fleet.key("vault"))
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(
        stored.contains("homepage.widget.key") && stored.contains("•••"),
        "keys are kept, values shown as •••: {stored}"
    );
    assert!(
        stored.contains("password=•••"),
        "the log sample is kept, redacted: {stored}"
    );
    let app = spawn_app(db.clone(), settings).await;
    app.sign_in(Role::Viewer).await;
    let mut seen = vec![("database".to_string(), stored)];
    for path in [
        "/".to_string(),
        "/services".into(),
        format!("/services/test/{}", fleet.key("vault")),
        "/services.csv".into(),
        "/api/v1/services".into(),
        "/api/v1/findings".into(),
        "/engines".into(),
        "/grades".into(),
        "/grades/history.csv".into(),
        "/docs".into(),
    ] {
        let (status, body) = app.get_text(&path).await;
        assert_eq!(status, 200, "{path}");
        seen.push((path, body));
    }
    seen.push(("the portal's log".into(), log.text()));
    for (place, text) in &seen {
        assert!(!text.contains("LEAK"), "a secret reached {place}: {text}");
    }
    let (_, detail) = app
        .get_text(&format!("/services/test/{}", fleet.key("vault")))
        .await;
    assert!(detail.contains("homepage.widget.key") && detail.contains("curl -fsu admin:•••"));
}

/// Everything the portal logs while it is installed as the thread's subscriber.
#[derive(Clone, Default)]
struct LogCapture(Arc<std::sync::Mutex<Vec<u8>>>);

impl LogCapture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_container_whose_inspect_times_out_keeps_its_state_and_is_not_removed(db: PgPool) {
    let fleet = Fleet::new("slow");
    fleet.run("steady", &Spec::good());
    let slow_id = fleet.run("slow", &Spec::good());
    fleet.wait_health("slow", "healthy");
    let proxy = StallingProxy::start(&fleet.project).await;
    let settings = settings(&[
        (
            "AUDIT_ENGINES",
            &format!("test=unix://{}", proxy.socket.display()),
        ),
        ("AUDIT_CALL_TIMEOUT", "2"),
    ]);
    let mut worker = Worker::new(db.clone(), Arc::new(settings.clone()));
    worker.refresh_once().await.unwrap();
    let before = summary(&db, &fleet.key("slow")).await;
    assert!(!before.stale && before.removed_at.is_none());

    // The engine stops answering the inspect of one container: a timeout, not a removal.
    proxy.stall(Some(&format!("/containers/{slow_id}/json")));
    let report = worker.refresh_once().await.unwrap();
    assert_eq!(report.failed_engines, 0, "the engine itself answered");
    let slow = summary(&db, &fleet.key("slow")).await;
    assert!(slow.removed_at.is_none(), "not marked removed");
    assert!(slow.stale, "kept at its last known state, marked stale");
    assert_eq!(slow.state, before.state);
    let steady = summary(&db, &fleet.key("steady")).await;
    assert!(!steady.stale, "the others are read as usual");
    // Counted for this fleet only: a refresh sees every container on the engine.
    let removals: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM service_events ev JOIN services s ON s.id = ev.service_id
         WHERE s.compose_project = $1 AND ev.kind IN ('removed', 'reappeared')",
    )
    .bind(&fleet.project)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(removals, 0, "no false removed/reappeared events");

    proxy.stall(None);
    worker.refresh_once().await.unwrap();
    assert!(!summary(&db, &fleet.key("slow")).await.stale);
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn an_oom_kill_shows_after_docker_restarted_the_container(db: PgPool) {
    let fleet = Fleet::new("phoenix");
    // Idles a moment (so a refresh sees it running), then runs out of memory once; after the
    // restart its marker file says "done" and it idles. If only a child was killed, it exits so
    // the restart policy runs the allocation again.
    let script = "sleep 3; if [ ! -f /oomed ]; then touch /oomed; x=$(head -c 30000000 /dev/zero | tr '\\0' a); rm /oomed; exit 1; fi; while true; do sleep 5; done";
    let spec = Spec::good()
        .set("--restart", "always")
        .set("--memory", "8m")
        .set("--memory-swap", "8m")
        .cmd(&["sh", "-c", script]);
    fleet.run("phoenix", &spec);
    let settings = settings(&[("AUDIT_ENGINES", &engine_env(""))]);
    let mut worker = Worker::new(db.clone(), Arc::new(settings.clone()));
    worker.refresh_once().await.unwrap();
    let before = summary(&db, &fleet.key("phoenix")).await;
    assert!(
        !before
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::OomKilled),
        "not killed yet"
    );
    // Docker restarts it before the next refresh. Newer engines clear `OOMKilled` on that start
    // (this one, 20.10, keeps it), so the kill is proved from the event stream: the finding
    // names the kill's time, which only the `oom` event carries.
    wait_for(
        &fleet.container("phoenix"),
        "{{.RestartCount}} {{.State.Running}}",
        |s| {
            let parts: Vec<&str> = s.split_whitespace().collect();
            parts.len() == 2 && parts[0].parse::<i64>().unwrap_or(0) >= 1 && parts[1] == "true"
        },
        "a restart after the OOM kill",
    );
    // The engine sets the state a moment before it publishes the `start` event: refresh until
    // the restart is on the timeline (the fact asserted below), within a deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        worker.refresh_once().await.unwrap();
        let kinds = timeline_kinds(&db, &fleet.key("phoenix")).await;
        if kinds.iter().any(|k| k == "restarted") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no restart on the timeline: {kinds:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let after = summary(&db, &fleet.key("phoenix")).await;
    let kill = after
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::OomKilled)
        .unwrap_or_else(|| panic!("{:?}", after.findings));
    assert!(
        kill.fact.contains("out of memory at 20"),
        "the kill's time from the event: {}",
        kill.fact
    );
    let timeline = timeline_kinds(&db, &fleet.key("phoenix")).await;
    assert!(
        timeline.iter().any(|k| k == "oom kill") && timeline.iter().any(|k| k == "restarted"),
        "{timeline:?}"
    );
    // A later refresh still shows it, and does not record the kill twice.
    worker.refresh_once().await.unwrap();
    let later = summary(&db, &fleet.key("phoenix")).await;
    assert!(
        later
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::OomKilled)
    );
    assert!(oom_kills(&db, &fleet.key("phoenix")).await >= 1);
    worker.refresh_once().await.unwrap();
    // Each event is recorded once: no two entries of one kind at the same instant.
    let repeated: i64 = sqlx::query_scalar(
        "SELECT count(*) - count(DISTINCT (ev.kind, ev.at)) FROM service_events ev
         JOIN services s ON s.id = ev.service_id
         WHERE s.key = $1 AND ev.kind IN ('oom kill', 'killed', 'restarted')",
    )
    .bind(fleet.key("phoenix"))
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(repeated, 0, "no event recorded twice");
}

async fn oom_kills(db: &PgPool, key: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM service_events ev JOIN services s ON s.id = ev.service_id
         WHERE s.key = $1 AND ev.kind = 'oom kill'",
    )
    .bind(key)
    .fetch_one(db)
    .await
    .unwrap()
}

async fn timeline_kinds(db: &PgPool, key: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT ev.kind FROM service_events ev JOIN services s ON s.id = ev.service_id
         WHERE s.key = $1 ORDER BY ev.at, ev.id",
    )
    .bind(key)
    .fetch_all(db)
    .await
    .unwrap()
}
