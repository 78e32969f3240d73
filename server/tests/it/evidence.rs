//! Evidence instead of typed-in scores: API tokens, backup and restore heartbeats through the
//! real HTTP API, the findings and the Backup/DR score they lead to.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::common::docker::{Fleet, Spec, socket};
use crate::common::{TestApp, count, settings, spawn_app};
use app::model::{FindingKind, Role};
use audit_portal::auth::SessionUser;
use audit_portal::auth::tokens::{self, Scope};
use audit_portal::config::BackupJob;
use audit_portal::worker::Worker;
use serde_json::{Value, json};
use sqlx::PgPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn ago(hours: i64) -> String {
    (OffsetDateTime::now_utc() - time::Duration::hours(hours))
        .format(&Rfc3339)
        .unwrap()
}

async fn beat(app: &TestApp, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = app
        .client
        .post(format!("{}/api/v1/heartbeats", app.url))
        .json(body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A heartbeat for a run that finished `hours_ago` and took `minutes`.
fn run(job: &str, kind: &str, ok: bool, hours_ago: i64, minutes: i64) -> Value {
    let finished = OffsetDateTime::now_utc() - time::Duration::hours(hours_ago);
    let started = finished - time::Duration::minutes(minutes);
    json!({
        "job": job, "kind": kind, "ok": ok,
        "started_at": started.format(&Rfc3339).unwrap(),
        "finished_at": finished.format(&Rfc3339).unwrap(),
        "bytes": 1_048_576, "detail": if ok { "done" } else { "pg_dump: connection refused" }
    })
}

fn with_job(job: &str, covers: &[String]) -> BackupJob {
    BackupJob {
        job: job.into(),
        covers: covers.to_vec(),
        every_hours: 24,
        restore_every_days: 30,
    }
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_token_reports_runs_until_revoked_and_bad_requests_write_nothing(db: PgPool) {
    let mut s = settings(&[]);
    s.evidence.backups.push(with_job("nightly", &[]));
    let app = spawn_app(db.clone(), s).await;
    app.sign_in(Role::Admin).await;

    // An admin creates the token on the settings page; its secret is shown once.
    let response = app
        .post_form(
            "/settings/tokens",
            "/settings/tokens",
            &[("name", "nightly-backup"), ("scope_heartbeat", "on")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    let secret = page
        .split("<code id=\"new-token\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_string();
    assert!(secret.starts_with("apt_"));
    let (_, listing) = app.get_text("/settings/tokens").await;
    assert!(
        listing.contains("nightly-backup") && !listing.contains(&secret),
        "the secret is never shown again"
    );
    let stored: Vec<u8> = sqlx::query_scalar("SELECT secret_hash FROM api_tokens")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stored, tokens::hash(&secret), "only the hash is kept");

    let good = run("nightly", "backup", true, 1, 5);
    let (status, body) = beat(&app, Some(&secret), &good).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(count(&db, "backup_runs").await, 1);
    let actor: String =
        sqlx::query_scalar("SELECT actor_name FROM audit_log WHERE action = 'backup.heartbeat'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(actor, "token nightly-backup");
    let last_used: Option<OffsetDateTime> =
        sqlx::query_scalar("SELECT last_used_at FROM api_tokens")
            .fetch_one(&db)
            .await
            .unwrap();
    assert!(last_used.is_some());

    // Refused, each with its reason, and nothing written.
    let before = count(&db, "backup_runs").await;
    let cases: Vec<(Option<&str>, Value, u16, &str)> = vec![
        (None, good.clone(), 401, "Bearer"),
        (Some("apt_0000"), good.clone(), 401, "unknown token"),
        (
            Some(&secret),
            json!({"job": "nightly"}),
            400,
            "missing field",
        ),
        (
            Some(&secret),
            json!({"job": "mystery", "kind": "backup", "ok": true, "started_at": ago(2), "finished_at": ago(1)}),
            400,
            "unknown job 'mystery'",
        ),
        (
            Some(&secret),
            json!({"job": "nightly", "kind": "full", "ok": true, "started_at": ago(2), "finished_at": ago(1)}),
            400,
            "kind 'full'",
        ),
        (
            Some(&secret),
            json!({"job": "nightly", "kind": "backup", "ok": true, "started_at": ago(-2), "finished_at": ago(-3)}),
            400,
            "in the future",
        ),
        (
            Some(&secret),
            json!({"job": "nightly", "kind": "backup", "ok": true, "started_at": ago(1), "finished_at": ago(2)}),
            400,
            "before started_at",
        ),
        (
            Some(&secret),
            json!({"job": "nightly", "kind": "backup", "ok": true, "started_at": "yesterday", "finished_at": ago(1)}),
            400,
            "not a heartbeat",
        ),
    ];
    for (token, body, expected, says) in cases {
        let (status, answer) = beat(&app, token, &body).await;
        assert_eq!(status, expected, "{body} → {answer}");
        assert!(
            answer["error"].as_str().unwrap_or_default().contains(says),
            "{answer} should say {says}"
        );
    }
    let huge = json!({"job": "nightly", "kind": "backup", "ok": true, "started_at": ago(2), "finished_at": ago(1), "detail": "x".repeat(70_000)});
    let (status, answer) = beat(&app, Some(&secret), &huge).await;
    assert_eq!(status, 413, "{answer}");
    let raw = app
        .client
        .post(format!("{}/api/v1/heartbeats", app.url))
        .bearer_auth(&secret)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(count(&db, "backup_runs").await, before);

    // A read-only token cannot report; an expired one opens nothing.
    let admin = SessionUser::command_line();
    let reader = tokens::create(&db, "grafana", &[Scope::Read], None, &admin)
        .await
        .unwrap();
    let (status, answer) = beat(&app, Some(&reader), &good).await;
    assert_eq!(
        (status, answer["error"].as_str().unwrap()),
        (403, "token 'grafana' lacks the 'heartbeat' scope")
    );
    let old = tokens::create(&db, "old", &[Scope::Heartbeat], Some(1), &admin)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE name = 'old'",
    )
    .execute(&db)
    .await
    .unwrap();
    assert_eq!(beat(&app, Some(&old), &good).await.0, 401);

    // A token never passes for a browser: not on a form, and it gets no session on a page.
    let form = app
        .client
        .post(format!("{}/docs/claim", app.url))
        .header("Origin", &app.url)
        .bearer_auth(&secret)
        .form(&[("service", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 403);
    let anonymous = crate::common::new_client();
    let page = anonymous
        .get(format!("{}/services", app.url))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert!(page.status().is_redirection(), "a token is not a sign-in");
    assert!(
        page.headers().get("set-cookie").is_none(),
        "and it gets no session"
    );

    // Revoked: refused, nothing written.
    let id: i64 = sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = 'nightly-backup'")
        .fetch_one(&db)
        .await
        .unwrap();
    let revoked = app
        .post_form(
            "/settings/tokens",
            &format!("/settings/tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(revoked.status(), 303);
    let (status, answer) = beat(&app, Some(&secret), &good).await;
    assert_eq!(
        (status, answer["error"].as_str().unwrap()),
        (401, "this token was revoked")
    );
    assert_eq!(count(&db, "backup_runs").await, before);

    // Viewers cannot manage tokens.
    let viewer = spawn_app(db.clone(), settings(&[])).await;
    viewer.sign_in(Role::Viewer).await;
    assert_eq!(viewer.get("/settings/tokens").await.status(), 403);
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn heartbeats_make_jobs_on_time_late_failing_and_untested(db: PgPool) {
    let fleet = Fleet::new("b");
    for name in ["ontime", "late", "failing", "untested", "orphan", "web"] {
        let mut spec = Spec::good();
        spec = match name {
            "late" => spec.label("audit.backup=late-job"),
            "orphan" => spec.label("audit.data=true"),
            _ => spec,
        };
        fleet.run(name, &spec);
    }
    for name in ["ontime", "late", "failing", "untested", "orphan", "web"] {
        fleet.wait_health(name, "healthy");
    }
    let key = |s: &str| format!("test/{}", fleet.key(s));
    let engines = format!("test=unix://{}", socket());
    let mut s = settings(&[("AUDIT_ENGINES", &engines)]);
    s.evidence.backups = vec![
        with_job("ontime-job", &[key("ontime")]),
        with_job("failing-job", &[key("failing")]),
        with_job("untested-job", &[key("untested")]),
    ];
    let s = Arc::new(s);
    let mut worker = Worker::new(db.clone(), s.clone());
    worker.refresh_once().await.unwrap();

    let app = spawn_app(db.clone(), (*s).clone()).await;
    let admin = SessionUser::command_line();
    let token = tokens::create(&db, "backups", &[Scope::Heartbeat], None, &admin)
        .await
        .unwrap();
    for body in [
        run("ontime-job", "backup", true, 1, 5),
        run("ontime-job", "restore_test", true, 48, 20),
        run("late-job", "backup", true, 40, 5),
        run("late-job", "restore_test", true, 40, 20),
        run("failing-job", "backup", true, 26, 5),
        run("failing-job", "backup", false, 1, 1),
        run("failing-job", "restore_test", true, 72, 20),
        run("untested-job", "backup", true, 2, 5),
    ] {
        let (status, answer) = beat(&app, Some(&token), &body).await;
        assert_eq!(status, 201, "{body} → {answer}");
    }
    worker.refresh_once().await.unwrap();

    let found: BTreeMap<String, Vec<FindingKind>> =
        audit_portal::inventory::services::summaries(&db, Duration::from_secs(600))
            .await
            .unwrap()
            .into_iter()
            .filter(|s| s.key.starts_with(&format!("{}/", fleet.project)))
            .map(|s| {
                (
                    s.key.rsplit('/').next().unwrap().to_string(),
                    s.findings.iter().map(|f| f.kind).collect(),
                )
            })
            .collect();
    use FindingKind::*;
    let expected: BTreeMap<String, Vec<FindingKind>> = [
        ("ontime", vec![]),
        ("late", vec![BackupLate]),
        ("failing", vec![BackupFailing]),
        ("untested", vec![RestoreUntested]),
        ("orphan", vec![BackupMissing]),
        ("web", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(found, expected);

    // Backup/DR is measured: 1 of the 5 services holding or covering data is protected.
    let (_, _, grade) = audit_portal::grade::live::current(&db, &s.docs)
        .await
        .unwrap();
    let backup = grade
        .categories
        .iter()
        .find(|c| c.name == "Backup/DR")
        .unwrap();
    assert_eq!(backup.effective.to_string(), "20.00");
    assert_eq!(backup.source, app::model::grade::ScoreSource::Evidence);
    assert!(
        backup.evidence[0].starts_with("1 of 5 services"),
        "{:?}",
        backup.evidence
    );
    assert!(
        grade
            .caps_in_force
            .iter()
            .any(|c| c.contains("restore test")),
        "{:?}",
        grade.caps_in_force
    );

    // The page lists the jobs, their runs and what is wrong.
    app.sign_in(Role::Viewer).await;
    let (status, page) = app.get_text("/backups").await;
    assert_eq!(status, 200);
    for needle in [
        "ontime-job",
        "late-job",
        "failing-job",
        "untested-job",
        "pg_dump: connection refused",
        "no successful restore test reported",
        "1 of 5 services holding data",
    ] {
        assert!(page.contains(needle), "/backups lacks {needle}");
    }
    assert!(
        page.contains("orphan"),
        "an uncovered data service is named"
    );
}

/// A stand-in for Prometheus, Alertmanager and Loki on one port, answering in their APIs'
/// shapes (see `evidence::monitoring`): a fresh target, a down one, a stale one, a rule group
/// with an evaluation error, a ready Alertmanager with one alert firing, and logs from the
/// engine "test" but none from "lady".
async fn monitoring_standin() -> (String, tokio::task::JoinHandle<()>) {
    use axum::extract::Query;
    use axum::routing::get;
    let now = OffsetDateTime::now_utc();
    let fresh = (now - time::Duration::seconds(5)).format(&Rfc3339).unwrap();
    let stale = (now - time::Duration::minutes(10))
        .format(&Rfc3339)
        .unwrap();
    let targets = json!({"status": "success", "data": {"activeTargets": [
        {"labels": {"job": "node", "instance": "master:9100"}, "scrapePool": "node",
         "scrapeUrl": "http://master:9100/metrics", "health": "up", "lastError": "",
         "lastScrape": fresh, "lastScrapeDuration": 0.01, "scrapeInterval": "15s", "scrapeTimeout": "10s"},
        {"labels": {"job": "node", "instance": "lady:9100"}, "scrapePool": "node",
         "scrapeUrl": "http://lady:9100/metrics", "health": "down",
         "lastError": "Get \"http://lady:9100/metrics\": context deadline exceeded",
         "lastScrape": fresh, "lastScrapeDuration": 10.0, "scrapeInterval": "15s", "scrapeTimeout": "10s"},
        {"labels": {"job": "cadvisor", "instance": "master:8080"}, "scrapePool": "cadvisor",
         "scrapeUrl": "http://master:8080/metrics", "health": "up", "lastError": "",
         "lastScrape": stale, "lastScrapeDuration": 0.2, "scrapeInterval": "15s", "scrapeTimeout": "10s"}
    ], "droppedTargets": []}});
    let rules = json!({"status": "success", "data": {"groups": [{"name": "host", "file": "/etc/prometheus/rules.yml",
        "rules": [
            {"name": "HostDown", "query": "up == 0", "health": "ok", "lastError": "", "type": "alerting", "state": "firing"},
            {"name": "DiskFull", "query": "node_filesystem_avail_bytes / 0", "health": "err",
             "lastError": "many-to-many matching not allowed", "type": "alerting", "state": "inactive"}
        ], "interval": 30}]}});
    let app = axum::Router::new()
        .route("/api/v1/status/runtimeinfo", get(|| async { axum::Json(json!({"status": "success", "data": {"startTime": "2026-11-30T00:00:00Z", "reloadConfigSuccess": true}})) }))
        .route("/api/v1/targets", get(move || async move { axum::Json(targets) }))
        .route("/api/v1/rules", get(move || async move { axum::Json(rules) }))
        .route("/api/v2/status", get(|| async { axum::Json(json!({"cluster": {"name": "01J", "status": "ready", "peers": []}, "versionInfo": {"version": "0.27.0"}, "uptime": "2026-11-30T00:00:00Z"})) }))
        .route("/api/v2/alerts", get(|| async { axum::Json(json!([
            {"labels": {"alertname": "HostDown", "severity": "critical", "instance": "lady:9100"},
             "annotations": {"summary": "lady is down"}, "startsAt": "2026-12-01T10:00:00Z",
             "endsAt": "2026-12-02T10:00:00Z", "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
             "fingerprint": "abc", "receivers": [{"name": "ntfy"}], "updatedAt": "2026-12-01T10:00:00Z"}
        ])) }))
        .route("/loki/api/v1/query", get(|q: Query<BTreeMap<String, String>>| async move {
            let query = q.0.get("query").cloned().unwrap_or_default();
            let result = if query.contains("host=\"test\"") {
                json!([{"metric": {}, "value": [1733130000.0, "42"]}])
            } else {
                json!([])
            };
            axum::Json(json!({"status": "success", "data": {"resultType": "vector", "result": result}}))
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn the_monitoring_stack_is_checked_and_scored(db: PgPool) {
    let (url, server) = monitoring_standin().await;
    let s = settings(&[
        (
            "AUDIT_ENGINES",
            "test=unix:///nonexistent/a.sock,lady=unix:///nonexistent/b.sock",
        ),
        ("AUDIT_PROMETHEUS_URL", &url),
        ("AUDIT_ALERTMANAGER_URL", &url),
        ("AUDIT_LOKI_URL", &url),
        ("AUDIT_CALL_TIMEOUT", "2"),
    ]);
    audit_portal::evidence::publish(&db, &s).await.unwrap();
    let (sources, checks) = audit_portal::evidence::queries::monitoring(&db)
        .await
        .unwrap();
    let results: BTreeMap<String, bool> = checks.iter().map(|c| (c.key.clone(), c.ok)).collect();
    let expected: BTreeMap<String, bool> = [
        ("prometheus/reachable", true),
        ("prometheus/target/node/master:9100", true),
        ("prometheus/target/node/lady:9100", false),
        ("prometheus/target/cadvisor/master:8080", false),
        ("prometheus/rules/host", false),
        ("alertmanager/cluster", true),
        ("loki/logs/test", true),
        ("loki/logs/lady", false),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(results, expected);
    let fact = |key: &str| checks.iter().find(|c| c.key == key).unwrap().fact.clone();
    assert!(fact("prometheus/target/node/lady:9100").contains("context deadline exceeded"));
    assert!(fact("prometheus/target/cadvisor/master:8080").contains("stale"));
    assert!(fact("prometheus/rules/host").contains("DiskFull: many-to-many"));
    let alerts: Vec<&str> = sources
        .iter()
        .flat_map(|s| s.alerts.iter().map(|a| a.name.as_str()))
        .collect();
    assert_eq!(alerts, ["HostDown"], "firing alerts are shown, not scored");

    let (_, _, grade) = audit_portal::grade::live::current(&db, &s.docs)
        .await
        .unwrap();
    let monitoring = grade
        .categories
        .iter()
        .find(|c| c.name == "Monitoring")
        .unwrap();
    assert_eq!(monitoring.effective.to_string(), "50.00");
    assert_eq!(monitoring.source, app::model::grade::ScoreSource::Evidence);

    // Prometheus and friends gone: failing checks with since when, not a crash.
    server.abort();
    let _ = server.await;
    audit_portal::evidence::publish(&db, &s).await.unwrap();
    let (sources, checks) = audit_portal::evidence::queries::monitoring(&db)
        .await
        .unwrap();
    assert!(
        sources
            .iter()
            .all(|s| !s.reachable && s.failing_since.is_some())
    );
    let reachable = checks
        .iter()
        .find(|c| c.key == "prometheus/reachable")
        .unwrap();
    assert!(
        !reachable.ok && reachable.fact.contains("cannot connect"),
        "{reachable:?}"
    );
    let app = spawn_app(db.clone(), s.clone()).await;
    app.sign_in(Role::Viewer).await;
    let (status, page) = app.get_text("/monitoring").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("unreachable: cannot connect") && page.contains("since"),
        "{page}"
    );
    let (_, grades) = app.get_text("/grades").await;
    assert!(
        grades.contains("monitoring checks passing"),
        "the formula is on /grades"
    );
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[tokio::test]
async fn the_infrastructure_repository_is_reported_exactly_and_never_written() {
    let root = std::env::temp_dir().join(format!("audit-infra-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (repo, upstream) = (root.join("infra"), root.join("upstream.git"));
    std::fs::create_dir_all(repo.join("monitoring")).unwrap();
    std::fs::create_dir_all(&upstream).unwrap();
    git(&upstream, &["init", "--bare", "-q", "-b", "main"]);
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("monitoring/compose.yml"), "services: {}\n").unwrap();
    std::fs::write(repo.join("README.md"), "infra\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "monitoring stack"]);
    git(
        &repo,
        &["remote", "add", "origin", upstream.to_str().unwrap()],
    );
    git(&repo, &["push", "-q", "-u", "origin", "main"]);
    std::fs::write(repo.join("monitoring/alerts.yml"), "groups: []\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "alert rules"]);
    std::fs::write(repo.join("README.md"), "infra, edited on the host\n").unwrap();
    std::fs::write(repo.join("notes.txt"), "todo\n").unwrap();
    let index_before = std::fs::read(repo.join(".git/index")).unwrap();

    let facts = audit_portal::evidence::repo::inspect(
        &repo,
        &[
            "/opt/infra/monitoring/compose.yml".to_string(),
            "/srv/elsewhere/compose.yml".to_string(),
        ],
    )
    .await;
    assert_eq!(facts.error, None);
    assert_eq!(facts.branch.as_deref(), Some("main"));
    assert_eq!(facts.upstream.as_deref(), Some("origin/main"));
    assert_eq!(facts.unpushed, Some(1));
    assert_eq!(facts.uncommitted, [" M README.md", "?? notes.txt"]);
    assert_eq!(facts.last_commit_subject.as_deref(), Some("alert rules"));
    assert_eq!(facts.compose_tracked, ["/opt/infra/monitoring/compose.yml"]);
    assert_eq!(facts.compose_untracked, ["/srv/elsewhere/compose.yml"]);
    let (score, lines) = audit_portal::evidence::repo::score(&facts);
    assert_eq!(
        score, 1667,
        "mean of 0 (uncommitted), 0 (unpushed) and 1/2 (compose) {lines:?}"
    );
    assert_eq!(
        std::fs::read(repo.join(".git/index")).unwrap(),
        index_before,
        "the index is untouched"
    );

    let missing = audit_portal::evidence::repo::inspect(&root.join("nothing"), &[]).await;
    assert!(
        missing
            .error
            .unwrap()
            .contains("not a readable git repository")
    );
    std::fs::remove_dir_all(&root).ok();
}
