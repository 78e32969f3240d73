//! Capacity on the private Docker engine: memory history drives right-sizing (a fill into a
//! tmpfs makes the peak), a spike that passes does not flap the finding, a baseline then a heavier
//! load make a performance regression, shared internal networks, compose's depends_on, an
//! environment URL and a label make dependency edges, the host's memory and the sum of limits are
//! on /capacity, and an image updated under the same tag shows on /versions.

use std::sync::Arc;

use crate::common::docker::{Fleet, Spec, docker, socket, wait_for_file_size};
use crate::common::{settings, spawn_app};
use app::model::{Finding, FindingKind, Role};
use audit_portal::worker::Worker;
use sqlx::PgPool;
use sqlx::types::Json;

const MIB: i64 = 1024 * 1024;

fn engine_env() -> String {
    format!("test=unix://{}", socket())
}

async fn findings(db: &PgPool, key: &str) -> Vec<Finding> {
    let found: Json<Vec<Finding>> =
        sqlx::query_scalar("SELECT findings FROM services WHERE key = $1")
            .bind(key)
            .fetch_one(db)
            .await
            .unwrap();
    found.0
}

async fn kinds(db: &PgPool, key: &str) -> Vec<FindingKind> {
    findings(db, key)
        .await
        .into_iter()
        .map(|f| f.kind)
        .collect()
}

/// The timeline's finding events of a service: (kind, detail).
async fn finding_events(db: &PgPool, key: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT e.kind, e.detail FROM service_events e JOIN services s ON s.id = e.service_id
         WHERE s.key = $1 AND e.kind LIKE 'finding%' ORDER BY e.id",
    )
    .bind(key)
    .fetch_all(db)
    .await
    .unwrap()
}

fn exec(container: &str, script: &str) {
    docker(&["exec", container, "sh", "-c", script]);
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn memory_history_drives_right_sizing_and_a_passing_spike_does_not_flap(db: PgPool) {
    let fleet = Fleet::new("cap");
    // 256 MiB limit with a tmpfs to fill: tmpfs pages are charged to the container's memory.
    fleet.run(
        "filler",
        &Spec::good()
            .set("--memory", "256m")
            .set("--memory-swap", "256m")
            .add("--tmpfs", Some("/fill")),
    );
    fleet.run("roomy", &Spec::good().set("--memory", "2g"));
    fleet.wait_health("filler", "healthy");
    let s = settings(&[
        ("AUDIT_ENGINES", &engine_env()),
        ("AUDIT_CAPACITY_MIN_SAMPLES", "3"),
        ("AUDIT_CAPACITY_HEADROOM", "1.5"),
    ]);
    let mut worker = Worker::new(db.clone(), Arc::new(s.clone()));
    let (filler, roomy) = (fleet.key("filler"), fleet.key("roomy"));

    // Two samples are a few minutes of data: no memory finding either way.
    for _ in 0..2 {
        worker.refresh_once().await.unwrap();
    }
    assert!(
        !kinds(&db, &roomy)
            .await
            .contains(&FindingKind::MemoryOversized)
    );
    // The third makes enough history: 2 GiB for a peak of a few MiB is oversized.
    worker.refresh_once().await.unwrap();
    let oversized = findings(&db, &roomy).await;
    let finding = oversized
        .iter()
        .find(|f| f.kind == FindingKind::MemoryOversized)
        .expect("roomy is oversized after three samples");
    assert!(
        finding.fact.contains("of its 2 GiB limit") && finding.fact.contains("over 3 samples"),
        "{}",
        finding.fact
    );
    assert!(
        finding
            .fix
            .contains("Lower the limit to 16 MiB (peak × 1.5)"),
        "{}",
        finding.fix
    );
    assert!(
        !kinds(&db, &filler)
            .await
            .contains(&FindingKind::MemoryNearLimit)
    );

    // A spike: 245 MB (over 91% of 256 MiB) into the tmpfs, seen by one refresh.
    exec(
        &fleet.container("filler"),
        "head -c 245000000 /dev/zero > /fill/blob",
    );
    wait_for_file_size(&fleet.container("filler"), "/fill/blob", 245_000_000);
    worker.refresh_once().await.unwrap();
    let near = findings(&db, &filler).await;
    let finding = near
        .iter()
        .find(|f| f.kind == FindingKind::MemoryNearLimit)
        .unwrap_or_else(|| panic!("filler near its limit after the spike: {near:?}"));
    assert!(
        finding.fact.contains("of its 256 MiB limit"),
        "{}",
        finding.fact
    );
    assert!(
        finding.fix.contains("Raise the limit to 384 MiB"),
        "{}",
        finding.fix
    );

    // The spike passes; the 7-day peak holds the finding: no resolution, no second opening.
    exec(&fleet.container("filler"), "rm /fill/blob");
    for _ in 0..3 {
        worker.refresh_once().await.unwrap();
    }
    assert!(
        kinds(&db, &filler)
            .await
            .contains(&FindingKind::MemoryNearLimit)
    );
    let events = finding_events(&db, &filler).await;
    let memory_events: Vec<&(String, String)> = events
        .iter()
        .filter(|(_, d)| d.starts_with(FindingKind::MemoryNearLimit.title()))
        .collect();
    assert_eq!(memory_events.len(), 1, "{events:?}");
    assert_eq!(memory_events[0].0, "finding opened");

    // The history behind it: the peak and every sample, hour by hour.
    let (peak, samples): (Option<i64>, i64) = sqlx::query_as(
        "SELECT max(h.memory_max), sum(h.memory_samples)::int8 FROM service_hourly h
         JOIN services s ON s.id = h.service_id WHERE s.key = $1",
    )
    .bind(&filler)
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(
        peak.unwrap() >= 245_000_000 && peak.unwrap() < 256 * MIB,
        "{peak:?}"
    );
    assert_eq!(samples, 7);

    // The page, the Markdown list and the service's resource charts say the same.
    let app = spawn_app(db.clone(), s).await;
    app.sign_in(Role::Viewer).await;
    let (status, page) = app.get_text("/capacity").await;
    assert_eq!(status, 200);
    assert!(page.contains("Right-sizing"), "{page}");
    assert!(
        page.contains("384.0 MiB") && page.contains("16.0 MiB"),
        "{page}"
    );
    let (status, md) = app.get_text("/capacity/RIGHT_SIZING.md").await;
    assert_eq!(status, 200);
    assert!(md.contains("| test | filler | 256.0 MiB |"), "{md}");
    assert!(md.contains("| 384.0 MiB | takes 128.0 MiB |"), "{md}");
    assert!(md.contains("| 16.0 MiB | 2.0 GiB |"), "{md}");
    let (status, service) = app
        .get_text(&format!("/services/test/{}", filler.replace('/', "%2F")))
        .await;
    assert_eq!(status, 200, "{service}");
    assert!(
        service.contains("Memory per hour, 7 days (MiB)"),
        "{service}"
    );
    assert!(service.contains("CPU per hour, 7 days"), "{service}");
    assert!(
        service.contains(">24 hours<") && service.contains(">30 days<"),
        "{service}"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_baseline_then_a_heavier_load_is_a_performance_regression(db: PgPool) {
    let fleet = Fleet::new("cab");
    fleet.run(
        "steady",
        &Spec::good()
            .set("--memory", "256m")
            .add("--tmpfs", Some("/fill")),
    );
    fleet.wait_health("steady", "healthy");
    let s = settings(&[
        ("AUDIT_ENGINES", &engine_env()),
        ("AUDIT_CAPACITY_MIN_SAMPLES", "2"),
        ("AUDIT_CAPACITY_REGRESSION_PERCENT", "50"),
    ]);
    let mut worker = Worker::new(db.clone(), Arc::new(s.clone()));
    let steady = fleet.key("steady");
    for _ in 0..3 {
        worker.refresh_once().await.unwrap();
    }
    // The quiet hours become two days old, as if the baseline's week had passed: the baseline
    // (7 days) still covers them, the last day no longer does.
    sqlx::query("UPDATE service_hourly SET hour = hour - interval '2 days'")
        .execute(&db)
        .await
        .unwrap();
    let quiet_peak: i64 = sqlx::query_scalar(
        "SELECT max(h.memory_max) FROM service_hourly h JOIN services s ON s.id = h.service_id WHERE s.key = $1",
    )
    .bind(&steady)
    .fetch_one(&db)
    .await
    .unwrap();

    let app = spawn_app(db.clone(), s).await;
    // A viewer may not save one; a bad label changes nothing.
    app.sign_in(Role::Viewer).await;
    let refused = app
        .post_form(
            "/capacity",
            "/capacity/baselines",
            &[("label", "quiet"), ("window_days", "7")],
        )
        .await;
    assert_eq!(refused.status(), 403);
    app.sign_in(Role::Admin).await;
    let bad = app
        .post_form(
            "/capacity",
            "/capacity/baselines",
            &[("label", "quiet"), ("window_days", "90")],
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("not a number of days from 1 to 30")
    );
    assert_eq!(crate::common::count(&db, "capacity_baselines").await, 0);
    let saved = app
        .post_form(
            "/capacity",
            "/capacity/baselines",
            &[("label", "quiet week"), ("window_days", "7")],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let (id, memory_p95): (i64, Option<i64>) = sqlx::query_as(
        "SELECT b.id, x.memory_p95 FROM capacity_baselines b
         JOIN capacity_baseline_services x ON x.baseline_id = b.id JOIN services s ON s.id = x.service_id
         WHERE s.key = $1",
    )
    .bind(&steady)
    .fetch_one(&db)
    .await
    .unwrap();
    // One quiet hour: its p95 is that hour's peak.
    assert_eq!(memory_p95, Some(quiet_peak));
    let recorded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'capacity.baseline' AND target = $1",
    )
    .bind(format!("baseline #{id}"))
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(recorded, 1);
    // A baseline is a record: changing it is refused.
    assert!(
        sqlx::query("UPDATE capacity_baselines SET label = 'x'")
            .execute(&db)
            .await
            .is_err()
    );

    // Heavier: 100 MB more memory, for the last day's samples.
    exec(
        &fleet.container("steady"),
        "head -c 100000000 /dev/zero > /fill/blob",
    );
    wait_for_file_size(&fleet.container("steady"), "/fill/blob", 100_000_000);
    worker.refresh_once().await.unwrap();
    assert!(
        !kinds(&db, &steady)
            .await
            .contains(&FindingKind::PerformanceRegression),
        "one sample is too few"
    );
    worker.refresh_once().await.unwrap();
    let regressed = findings(&db, &steady).await;
    let finding = regressed
        .iter()
        .find(|f| f.kind == FindingKind::PerformanceRegression)
        .unwrap_or_else(|| panic!("a regression after the heavier load: {regressed:?}"));
    assert!(
        finding.fact.contains("memory p95") && finding.fact.contains("'quiet week'"),
        "{}",
        finding.fact
    );

    let (status, page) = app.get_text(&format!("/capacity?baseline={id}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Now against &#x27;quiet week&#x27;")
            || page.contains("Now against 'quiet week'"),
        "{page}"
    );
    assert!(page.contains("class=\"regressed\""), "{page}");
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn dependencies_host_capacity_and_image_versions(db: PgPool) {
    let fleet = Fleet::new("cad");
    let network = format!("{}-backend", fleet.project);
    docker(&["network", "create", "--internal", &network]);
    let versioned = format!("audit-test/capver-{}", fleet.project);
    docker(&[
        "tag",
        crate::common::docker::IMAGE,
        &format!("{versioned}:1"),
    ]);
    docker(&[
        "tag",
        crate::common::docker::IMAGE,
        &format!("{versioned}:latest"),
    ]);

    // db and app share the internal network; app names db in compose's depends_on and in a URL
    // whose password must never be stored; web names app in a label; edge runs on `latest`.
    fleet.create("db", &Spec::good().set("--memory", "128m"));
    fleet.create(
        "app",
        &Spec::good()
            .set("--memory", "96m")
            .label("com.docker.compose.depends_on=db:service_started:false")
            .add(
                "-e",
                Some("DATABASE_URL=postgres://shop:pw-never-stored@db:5432/shop"),
            ),
    );
    for service in ["db", "app"] {
        let c = fleet.container(service);
        docker(&["network", "disconnect", "none", &c]);
        docker(&["network", "connect", &network, &c]);
        docker(&["start", &c]);
    }
    fleet.run(
        "web",
        &Spec::good()
            .label("audit.depends_on=app")
            .image(&format!("{versioned}:1")),
    );
    fleet.run("edge", &Spec::good().without("--memory").image(&versioned));
    fleet.wait_health("app", "healthy");
    fleet.wait_health("web", "healthy");
    fleet.wait_health("edge", "healthy");

    let s = settings(&[("AUDIT_ENGINES", &engine_env())]);
    let mut worker = Worker::new(db.clone(), Arc::new(s.clone()));
    worker.refresh_once().await.unwrap();

    let edges: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT f.key, t.key, d.via FROM service_dependencies d
         JOIN services f ON f.id = d.from_service JOIN services t ON t.id = d.to_service
         WHERE f.compose_project = $1 ORDER BY f.key, t.key",
    )
    .bind(&fleet.project)
    .fetch_all(&db)
    .await
    .unwrap();
    let net = format!("network:{network}");
    assert_eq!(
        edges,
        vec![
            (
                fleet.key("app"),
                fleet.key("db"),
                vec!["compose".into(), "env".into(), net.clone()]
            ),
            (fleet.key("db"), fleet.key("app"), vec![net.clone()]),
            (fleet.key("web"), fleet.key("app"), vec!["label".into()]),
        ]
    );
    // The environment's values are not stored anywhere.
    let dump: String = sqlx::query_scalar("SELECT string_agg(facts::text, ' ') FROM services")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(!dump.contains("pw-never-stored"));

    let app = spawn_app(db.clone(), s).await;
    app.sign_in(Role::Viewer).await;
    let db_page = format!("/services/test/{}", fleet.key("db").replace('/', "%2F"));
    let (status, page) = app.get_text(&db_page).await;
    assert_eq!(status, 200);
    // app needs db (compose, env); the network edge back does not count as needing.
    assert!(
        page.contains("If db stops, 1 running service depends on it."),
        "{page}"
    );
    assert!(page.contains("class=\"depmap\""), "{page}");
    let (_, map) = app.get_text("/dependencies").await;
    assert!(
        map.contains("Dependency map of test") && map.contains("dep-node ok"),
        "{map}"
    );
    assert!(map.contains(">label<"), "{map}");

    // The host's memory and the running containers' limits, as the engine reports them.
    let host_memory: i64 = docker(&["info", "--format", "{{.MemTotal}}"])
        .parse()
        .unwrap();
    let running = docker(&["ps", "-q"]);
    let mut limits = 0i64;
    for id in running.split_whitespace() {
        limits += docker(&["inspect", "-f", "{{.HostConfig.Memory}}", id])
            .parse::<i64>()
            .unwrap();
    }
    let stored: (Option<i64>, i64) = sqlx::query_as(
        "SELECT e.host_memory_bytes,
                (SELECT coalesce(sum((s.facts->>'memory_limit_bytes')::int8), 0)::int8 FROM services s
                 WHERE s.engine_id = e.id AND s.removed_at IS NULL AND s.state = 'running')
         FROM engines e WHERE e.name = 'test'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(stored, (Some(host_memory), limits));
    let (status, capacity) = app.get_text("/capacity").await;
    assert_eq!(status, 200);
    let fmt = app::components::format::bytes;
    assert!(
        capacity.contains(&format!("{} memory", fmt(host_memory))),
        "{capacity}"
    );
    assert!(
        capacity.contains(&format!("{} (", fmt(limits))),
        "{capacity}"
    );
    assert!(
        capacity.contains("Upgrade trigger (used above 75%)"),
        "{capacity}"
    );
    let (_, report) = app.get_text("/capacity/CAPACITY_REPORT.md").await;
    assert!(
        report.contains(&format!("- Sum of memory limits: {}", fmt(limits))),
        "{report}"
    );

    // The same tag, a new image: the reference was updated.
    let old_id = docker(&[
        "image",
        "inspect",
        "-f",
        "{{.Id}}",
        &format!("{versioned}:1"),
    ]);
    docker(&["commit", &fleet.container("web"), &format!("{versioned}:1")]);
    docker(&["rm", "-f", &fleet.container("web")]);
    fleet.run(
        "web",
        &Spec::good()
            .label("audit.depends_on=app")
            .image(&format!("{versioned}:1")),
    );
    worker.refresh_once().await.unwrap();
    let (status, versions) = app.get_text("/versions?sort=updated").await;
    assert_eq!(status, 200);
    let short: String = old_id
        .trim_start_matches("sha256:")
        .chars()
        .take(12)
        .collect();
    assert!(
        versions.contains(&format!("from <code>{short}</code>")),
        "{versions}"
    );
    assert!(versions.contains("class=\"on-latest\""), "{versions}");
    let (_, csv) = app.get_text("/versions.csv").await;
    let line = csv
        .lines()
        .find(|l| l.contains(&format!("{versioned}:1")))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(
        line.contains(",1,sha256:") && line.contains(&old_id),
        "{line}"
    );
    assert!(
        csv.lines()
            .any(|l| l.contains(&format!("{versioned},latest,")) && l.contains(",true,")),
        "{csv}"
    );

    drop(fleet);
    docker(&["network", "rm", &network]);
}
