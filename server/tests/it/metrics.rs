//! `/metrics` and `/api/v1/summary` on a real inventory: the scraped figures are parsed with a
//! Prometheus text parser and compared with what the database holds; strangers are refused.

use std::collections::HashMap;
use std::sync::Arc;

use crate::common::docker::{Fleet, Spec, socket};
use crate::common::{settings, spawn_app};
use audit_portal::auth::session::SessionUser;
use audit_portal::auth::tokens::{self, Scope};
use audit_portal::grade::live;
use audit_portal::worker::Worker;
use prometheus_parse::{Sample, Scrape, Value};
use sqlx::PgPool;

async fn scrape(app: &crate::common::TestApp, token: Option<&str>, relayed: bool) -> (u16, String) {
    // The figures come from the read model: first let the portal hear of this test's writes.
    app.caught_up().await;
    let mut request = app.client.get(format!("{}/metrics", app.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if relayed {
        request = request.header("X-Forwarded-For", "203.0.113.7");
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn parse(text: &str) -> Vec<Sample> {
    Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("the exposition parses")
        .samples
}

/// The value of the one sample named `metric` whose labels include all of `labels`.
fn value(samples: &[Sample], metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.metric == metric
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(k).map(|x| x == *v).unwrap_or(false))
        })
        .map(|s| match &s.value {
            Value::Gauge(v) | Value::Counter(v) | Value::Untyped(v) => *v,
            other => panic!("{metric}: unexpected value {other:?}"),
        })
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn metrics_match_the_database_and_strangers_need_a_read_token(db: PgPool) {
    let fleet = Fleet::new("m");
    fleet.run("steady", &Spec::good());
    fleet.run("loose", &Spec::good().set("--restart", "no"));
    fleet.wait_health("loose", "healthy");
    let engines = format!("test=unix://{}", socket());
    let mut worker = Worker::new(
        db.clone(),
        Arc::new(settings(&[("AUDIT_ENGINES", &engines)])),
    );
    worker.refresh_once().await.unwrap();

    // Scrapers are allowed from 10.0.0.0/8 only: this test's 127.0.0.1 is a stranger.
    let app = spawn_app(
        db.clone(),
        settings(&[
            ("AUDIT_ENGINES", &engines),
            ("AUDIT_METRICS_ALLOW", "10.0.0.0/8"),
        ]),
    )
    .await;
    let (status, body) = scrape(&app, None, false).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        !body.contains("audit_grade"),
        "nothing leaks with a refusal"
    );
    let admin = SessionUser::command_line();
    let heartbeat = tokens::create(&db, "backups", &[Scope::Heartbeat], None, &admin)
        .await
        .unwrap();
    assert_eq!(scrape(&app, Some(&heartbeat), false).await.0, 403);
    let reader = tokens::create(&db, "prometheus", &[Scope::Read], None, &admin)
        .await
        .unwrap();
    // A probed route and a backup run, as the prober and the heartbeat API would have left them
    // (their own tests cover how they get there).
    sqlx::raw_sql(
        "INSERT INTO routes (router, url, host, source, tls, auth_expected, updated_at)
         VALUES ('web@docker', 'https://web.quietly.online/', 'web.quietly.online', 'labels', true, false, now());
         INSERT INTO probe_results (url, probed_at, ok, status, latency_ms, cert_not_after)
         VALUES ('https://web.quietly.online/', now(), true, 200, 42, '2027-01-15T00:00:00Z');
         INSERT INTO backup_runs (job, kind, ok, started_at, finished_at, reported_by)
         VALUES ('nightly', 'backup', true, '2026-12-01T02:00:00Z', '2026-12-01T02:30:00Z', 'backups')",
    )
    .execute(&db)
    .await
    .unwrap();
    let (status, text) = scrape(&app, Some(&reader), false).await;
    assert_eq!(status, 200, "{text}");
    let samples = parse(&text);

    // The grade, per category and as a whole, is the one the grade page computes.
    let s = settings(&[]);
    let (_, _, grade) = live::current(&db, &s.docs).await.unwrap();
    assert_eq!(
        value(&samples, "audit_grade_points", &[]),
        Some(grade.total.hundredths_truncated() as f64 / 100.0)
    );
    for c in &grade.categories {
        assert_eq!(
            value(
                &samples,
                "audit_grade_category_points",
                &[("category", &c.name)]
            ),
            Some(f64::from(c.effective.hundredths()) / 100.0),
            "{}",
            c.name
        );
    }
    assert_eq!(
        value(&samples, "audit_grade_letter", &[("letter", &grade.letter)]),
        Some(1.0)
    );

    // Findings by kind and severity, as the database counts them.
    let findings: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT f->>'kind', f->>'severity', count(*)
         FROM services s CROSS JOIN LATERAL jsonb_array_elements(s.findings) f
         WHERE s.removed_at IS NULL GROUP BY 1, 2",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert!(
        findings
            .iter()
            .any(|(kind, _, _)| kind == "no_restart_policy"),
        "the fleet has a finding to count: {findings:?}"
    );
    let scraped_findings: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.metric == "audit_findings")
        .collect();
    assert_eq!(scraped_findings.len(), findings.len());
    for (kind, severity, n) in &findings {
        assert_eq!(
            value(
                &samples,
                "audit_findings",
                &[("kind", kind), ("severity", severity)]
            ),
            Some(*n as f64),
            "{kind}/{severity}"
        );
    }

    // Services by state and health on the engine add up to what the inventory holds.
    let current: i64 = sqlx::query_scalar("SELECT count(*) FROM services WHERE removed_at IS NULL")
        .fetch_one(&db)
        .await
        .unwrap();
    let scraped: f64 = samples
        .iter()
        .filter(|s| s.metric == "audit_services")
        .map(|s| match s.value {
            Value::Gauge(v) | Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum();
    assert_eq!(scraped, current as f64);
    assert!(
        value(
            &samples,
            "audit_services",
            &[
                ("engine", "test"),
                ("state", "running"),
                ("health", "healthy")
            ]
        )
        .unwrap_or(0.0)
            >= 2.0
    );
    assert_eq!(
        value(&samples, "audit_engine_up", &[("engine", "test")]),
        Some(1.0)
    );
    let age = value(
        &samples,
        "audit_engine_last_success_age_seconds",
        &[("engine", "test")],
    )
    .unwrap();
    assert!((0.0..120.0).contains(&age), "refreshed moments ago: {age}");

    // This process ran the refresh: its duration histogram has the observation.
    let histogram = samples
        .iter()
        .find(|s| {
            s.metric == "audit_engine_refresh_duration_seconds"
                && s.labels.get("engine") == Some("test")
        })
        .expect("a refresh duration histogram");
    match &histogram.value {
        Value::Histogram(buckets) => {
            let total = buckets.last().unwrap().count;
            assert!(total >= 1.0, "{buckets:?}");
        }
        other => panic!("not a histogram: {other:?}"),
    }

    let web = [("url", "https://web.quietly.online/")];
    assert_eq!(value(&samples, "audit_route_up", &web), Some(1.0));
    assert_eq!(
        value(&samples, "audit_route_latency_seconds", &web),
        Some(0.042)
    );
    assert_eq!(
        value(
            &samples,
            "audit_route_certificate_expiry_timestamp_seconds",
            &web
        ),
        Some(1_799_971_200.0)
    );
    assert_eq!(
        value(
            &samples,
            "audit_backup_last_success_timestamp_seconds",
            &[("job", "nightly"), ("kind", "backup")]
        ),
        Some(1_796_092_200.0)
    );
    // The figures are kept per state of the data, and a write starts a new one: the next
    // scrape reports a run recorded after this one.
    sqlx::query(
        "INSERT INTO backup_runs (job, kind, ok, started_at, finished_at, reported_by)
         VALUES ('nightly', 'backup', true, '2026-12-02T02:00:00Z', '2026-12-02T02:30:00Z', 'backups')",
    )
    .execute(&db)
    .await
    .unwrap();
    let after_the_run = parse(&scrape(&app, Some(&reader), false).await.1);
    assert_eq!(
        value(
            &after_the_run,
            "audit_backup_last_success_timestamp_seconds",
            &[("job", "nightly"), ("kind", "backup")]
        ),
        Some(1_796_178_600.0)
    );

    // The alert rules and the dashboard shipped in deploy/ name only metrics the portal exposes.
    let declared: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let name = regex::Regex::new(r"\baudit_[a-z_]+").unwrap();
    for file in ["prometheus/alerts.yml", "grafana/audit-portal.json"] {
        let path = format!("{}/../deploy/{file}", env!("CARGO_MANIFEST_DIR"));
        let shipped = std::fs::read_to_string(&path).unwrap();
        let used: Vec<&str> = name.find_iter(&shipped).map(|m| m.as_str()).collect();
        assert!(used.len() >= 5, "{file} uses the portal's metrics");
        for metric in used {
            let family = ["_bucket", "_count", "_sum", "_total"]
                .iter()
                .find_map(|suffix| metric.strip_suffix(suffix))
                .unwrap_or(metric);
            assert!(
                declared.contains(&family),
                "{file} names {metric}, which /metrics does not expose"
            );
        }
    }

    // Requests are counted by route template, never by raw path.
    let (_, text) = scrape(&app, Some(&reader), false).await;
    let samples = parse(&text);
    let by_route: HashMap<String, f64> = samples
        .iter()
        .filter(|s| s.metric.starts_with("audit_http_requests"))
        .filter_map(|s| match s.value {
            Value::Counter(v) | Value::Untyped(v) => Some((
                format!(
                    "{} {}",
                    s.labels.get("route").unwrap_or("?"),
                    s.labels.get("status").unwrap_or("?")
                ),
                v,
            )),
            _ => None,
        })
        .collect();
    assert!(
        by_route.get("/metrics 200").copied().unwrap_or(0.0) >= 1.0,
        "{by_route:?}"
    );
    assert!(by_route.contains_key("/metrics 401"), "{by_route:?}");

    // From an allowed network (loopback, the default), no token is needed: unless a proxy
    // relayed the request, since then the peer address is the proxy's, not the scraper's. (Signed
    // in through a provider, as deployed: the demo sign-in refuses proxied requests altogether.
    // The provider is never contacted here.)
    let open = spawn_app(
        db.clone(),
        settings(&[
            ("AUDIT_ENGINES", &engines),
            ("AUDIT_OIDC_ISSUER", "http://127.0.0.1:9"),
            ("AUDIT_OIDC_CLIENT_ID", "audit-portal"),
            ("AUDIT_OIDC_CLIENT_SECRET", "not-used"),
        ]),
    )
    .await;
    assert_eq!(scrape(&open, None, false).await.0, 200);
    assert_eq!(scrape(&open, None, true).await.0, 401);
    assert_eq!(scrape(&open, Some(&reader), true).await.0, 200);
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn the_summary_widget_reads_the_headline_figures_with_a_read_token(db: PgPool) {
    let fleet = Fleet::new("sm");
    fleet.run("loose", &Spec::good().set("--restart", "no"));
    fleet.wait_health("loose", "healthy");
    let engines = format!("test=unix://{}", socket());
    let s = settings(&[("AUDIT_ENGINES", &engines)]);
    Worker::new(db.clone(), Arc::new(s.clone()))
        .refresh_once()
        .await
        .unwrap();
    let app = spawn_app(db.clone(), s.clone()).await;
    let url = format!("{}/api/v1/summary", app.url);
    let refused = app.client.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let admin = SessionUser::command_line();
    let reader = tokens::create(&db, "homepage", &[Scope::Read], None, &admin)
        .await
        .unwrap();
    app.caught_up().await;
    let answer: serde_json::Value = app
        .client
        .get(&url)
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, _, grade) = live::current(&db, &s.docs).await.unwrap();
    assert_eq!(
        answer["grade"].as_f64(),
        Some(grade.total.hundredths_truncated() as f64 / 100.0)
    );
    assert_eq!(answer["letter"], grade.letter.as_str());
    let (findings, high): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE f->>'severity' = 'high')
         FROM services s CROSS JOIN LATERAL jsonb_array_elements(s.findings) f
         WHERE s.removed_at IS NULL",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(findings >= 1, "the fleet has findings");
    assert_eq!(answer["findings"], findings);
    assert_eq!(answer["high_findings"], high);
    let services: i64 =
        sqlx::query_scalar("SELECT count(*) FROM services WHERE removed_at IS NULL")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(answer["services"], services);
    assert_eq!(answer["engines"], 1);
    assert_eq!(answer["engines_up"], 1);
    assert_eq!(answer["coverage_target_percent"], 50.0);
}
