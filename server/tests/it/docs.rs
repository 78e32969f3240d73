//! Documentation coverage end to end: a docs folder with passing, failing, stale, orphan,
//! malformed and script-injecting docs against a known inventory, then the editors' tracker.

use std::path::Path;

use crate::common::{settings, spawn_app};
use app::model::Role;
use serde_json::json;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

const SECTIONS: &str = "## Overview\nWhat it is.\n\n## Configuration\nWhere it lives.\n\n## Verification\n\n```sh\ncurl -f http://127.0.0.1/health\n```\n\n## Troubleshooting\nLogs.\n\n## Backup and restore\nNightly.\n";

fn doc(front: &str, body: &str) -> String {
    format!("---\n{front}---\n{body}")
}

fn write_docs(dir: &Path) {
    let today = OffsetDateTime::now_utc().date();
    let old = today - Duration::days(30);
    std::fs::create_dir_all(dir.join("services")).unwrap();
    std::fs::write(dir.join("services/runbook.md"), "# Runbook\n").unwrap();
    std::fs::write(dir.join("README.md"), "# The docs repository\n").unwrap();
    let w =
        |name: &str, text: String| std::fs::write(dir.join("services").join(name), text).unwrap();
    w(
        "good.md",
        doc(
            &format!("service: good\nowner: ops\nlast_verified: {today}\n"),
            &format!("# Good\n\nSee [runbook](runbook.md).\n\n{SECTIONS}"),
        ),
    );
    w(
        "failing.md",
        doc(
            &format!("service: failing\nlast_verified: {today}\n"),
            "# Failing\n\n## Overview\n\n## Configuration\n\n## Verification\nRun something.\n\nSee [missing](nowhere.md) and [escape](../../etc/passwd).\n",
        ),
    );
    w(
        "stale.md",
        doc(
            &format!("service: stale\nowner: ops\nlast_verified: {old}\n"),
            &format!("# Stale\n{SECTIONS}"),
        ),
    );
    w(
        "ghost.md",
        doc(
            &format!("service: ghost\nowner: ops\nlast_verified: {today}\n"),
            &format!("# Ghost\n{SECTIONS}"),
        ),
    );
    w(
        "evil.md",
        doc(
            &format!("service: evil\nowner: ops\nlast_verified: {today}\n"),
            &format!(
                "# Evil\n\n<script>alert(1)</script>\n\n</textarea><script>alert(2)</script>\n\n<img src=x onerror=alert(3)>\n\n{SECTIONS}"
            ),
        ),
    );
    w(
        "broken.md",
        "---\nservice grafana\n---\n# Broken\n".to_string(),
    );
    std::fs::write(dir.join("services/latin1.md"), b"# Caf\xe9\n").unwrap();
    w("huge.md", format!("# Huge\n{}", "x".repeat(5000)));
}

async fn seed_inventory(db: &PgPool) {
    let engine: i64 = sqlx::query_scalar(
        "INSERT INTO engines (name, endpoint, reachable, last_success_at) VALUES ('master', 'unix:///x', true, now()) RETURNING id",
    )
    .fetch_one(db)
    .await
    .unwrap();
    let finding = |kind: &str, severity: &str| json!({ "kind": kind, "severity": severity, "fact": "f", "fix": "x" });
    let services = [
        ("good", "running", json!([]), 0, 0),
        ("failing", "running", json!([]), 0, 0),
        ("stale", "running", json!([]), 0, 0),
        ("evil", "running", json!([]), 0, 0),
        (
            "undoc-a",
            "running",
            json!([
                finding("privileged", "high"),
                finding("no_cpu_limit", "low")
            ]),
            1,
            0,
        ),
        ("undoc-b", "running", json!([]), 2, 0),
        ("undoc-c", "running", json!([]), 0, 5),
        (
            "stopped",
            "exited",
            json!([finding("no_cpu_limit", "low")]),
            0,
            0,
        ),
    ];
    for (name, state, findings, exposures, restarts) in services {
        let ports: Vec<_> = (0..exposures).map(|i| json!({ "host_ip": "127.0.0.1", "host_port": format!("{i}"), "container_port": "80/tcp" })).collect();
        let facts = json!({ "container_name": format!("p-{name}"), "restart_count": restarts, "ports": ports, "routes": [],
                            "log_errors": 0, "log_fatals": 0 });
        sqlx::query(
            "INSERT INTO services (engine_id, key, compose_project, compose_service, display_name, container_id, state,
                                   image_ref, facts, findings, first_seen, last_seen)
             VALUES ($1, $2, 'p', $3, $3, $3, $4, 'img:1', $5, $6, now(), now())",
        )
        .bind(engine)
        .bind(format!("p/{name}"))
        .bind(name)
        .bind(state)
        .bind(facts)
        .bind(findings)
        .execute(db)
        .await
        .unwrap();
    }
}

fn docs_settings(dir: &Path) -> audit_portal::config::Settings {
    settings(&[
        ("AUDIT_DOCS_DIR", dir.to_str().unwrap()),
        ("AUDIT_DOCS_MAX_BYTES", "4096"),
    ])
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn coverage_figures_and_reasons_from_a_real_docs_folder(db: PgPool) {
    let dir = std::env::temp_dir().join(format!(
        "audit-docs-{}-{}",
        std::process::id(),
        OffsetDateTime::now_utc().nanosecond()
    ));
    write_docs(&dir);
    seed_inventory(&db).await;
    let s = docs_settings(&dir);
    let scanned = audit_portal::docs::live::rescan(&db, &s.docs)
        .await
        .unwrap();
    assert_eq!(
        scanned, 6,
        "six readable docs (runbook.md included), three skipped"
    );

    let report = audit_portal::docs::live::current_report(&db, &s.docs)
        .await
        .unwrap();
    let o = &report.overall;
    assert_eq!(
        (o.services, o.documented, o.passing, o.fresh),
        (7, 4, 2, 3),
        "{o:?}"
    );

    let undocumented: Vec<(&str, &str)> = report
        .undocumented
        .iter()
        .map(|u| (u.key.as_str(), u.reason.as_str()))
        .collect();
    assert_eq!(
        undocumented,
        [
            (
                "p/undoc-a",
                "2 finding(s), 1 high; 1 route(s) or published port(s)"
            ),
            ("p/undoc-b", "0 finding(s); 2 route(s) or published port(s)"),
            (
                "p/undoc-c",
                "0 finding(s); 0 route(s) or published port(s); 5 restart(s), 0 log error(s)"
            ),
        ]
    );
    let failing = report
        .docs
        .iter()
        .find(|d| d.path == "services/failing.md")
        .unwrap();
    let reasons: Vec<(&str, &str)> = failing
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| (c.name.as_str(), c.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "Template sections",
                "missing: Troubleshooting, Backup and restore"
            ),
            (
                "Verification commands",
                "no fenced command block under a 'Verification' heading"
            ),
            ("Owner", "no owner in the front matter"),
            ("Relative links", "broken: nowhere.md, ../../etc/passwd"),
        ]
    );
    let stale = report
        .docs
        .iter()
        .find(|d| d.path == "services/stale.md")
        .unwrap();
    assert!(!stale.fresh);
    assert!(
        stale
            .checks
            .iter()
            .any(|c| c.name == "Fresh" && c.reason.contains("30 days ago"))
    );
    let orphans: Vec<&str> = report.orphans.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        orphans,
        ["services/ghost.md", "services/runbook.md"],
        "docs with no running service"
    );
    let problems: Vec<(&str, &str)> = report
        .problems
        .iter()
        .map(|(p, r)| (p.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        problems,
        [
            (
                "services/broken.md",
                "front matter line 1: expected 'key: value', found 'service grafana'"
            ),
            (
                "services/huge.md",
                "5007 bytes, larger than the 4096 byte limit"
            ),
            ("services/latin1.md", "not UTF-8 (invalid byte at offset 5)"),
        ]
    );
    let snapshots: i64 = sqlx::query_scalar("SELECT count(*) FROM coverage_snapshots")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(snapshots, 1);
    audit_portal::docs::live::rescan(&db, &s.docs)
        .await
        .unwrap();
    let snapshots: i64 = sqlx::query_scalar("SELECT count(*) FROM coverage_snapshots")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(snapshots, 1, "no new snapshot while nothing changes");

    // The pages.
    let app = spawn_app(db.clone(), s).await;
    app.sign_in(Role::Viewer).await;
    let (status, page) = app.get_text("/docs").await;
    assert_eq!(status, 200);
    for text in [
        "57.1%",
        "4 of 7 running services",
        "<svg role=\"img\" aria-label=\"Documentation coverage\"",
        "target (50%)",
        "not UTF-8",
    ] {
        assert!(page.contains(text), "/docs lacks {text}");
    }
    assert!(
        !page.contains("action=\"/docs/claim\""),
        "a viewer sees no claim form"
    );
    let (status, evil) = app.get_text("/docs/evil").await;
    assert_eq!(status, 200);
    assert!(
        evil.contains("<h3 id=\"doc-verification\">"),
        "heading anchors"
    );
    for bad in ["<script>alert", "onerror", "</textarea><script>"] {
        assert!(!evil.contains(bad), "the doc injected {bad}");
    }
    let (_, services) = app.get_text("/services").await;
    assert!(
        services.contains("href=\"/docs/good\""),
        "the Services table links the doc"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn editors_claim_and_attest_viewers_cannot(db: PgPool) {
    let dir = std::env::temp_dir().join(format!(
        "audit-docs-t-{}-{}",
        std::process::id(),
        OffsetDateTime::now_utc().nanosecond()
    ));
    write_docs(&dir);
    seed_inventory(&db).await;
    let s = docs_settings(&dir);
    audit_portal::docs::live::rescan(&db, &s.docs)
        .await
        .unwrap();

    let viewer = spawn_app(db.clone(), s.clone()).await;
    viewer.sign_in(Role::Viewer).await;
    let refused = viewer
        .post_form(
            "/docs",
            "/docs/claim",
            &[("engine", "master"), ("key", "p/undoc-a")],
        )
        .await;
    assert_eq!(refused.status(), 403);
    let claims: i64 = sqlx::query_scalar("SELECT count(*) FROM doc_claims")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(claims, 0);

    let editor = spawn_app(db.clone(), s.clone()).await;
    editor.sign_in(Role::Editor).await;
    let bad = editor
        .post_form(
            "/docs",
            "/docs/claim",
            &[
                ("engine", "master"),
                ("key", "p/undoc-a"),
                ("due", "next week"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("is not a date (YYYY-MM-DD)"),
        "the form says why"
    );
    let past = editor
        .post_form(
            "/docs",
            "/docs/claim",
            &[
                ("engine", "master"),
                ("key", "p/undoc-a"),
                ("due", "2020-01-01"),
            ],
        )
        .await;
    assert_eq!(past.status(), 400);
    assert!(past.text().await.unwrap().contains("is in the past"));
    let due = (OffsetDateTime::now_utc().date() + Duration::days(7)).to_string();
    let ok = editor
        .post_form(
            "/docs",
            "/docs/claim",
            &[
                ("engine", "master"),
                ("key", "p/undoc-a"),
                ("due", &due),
                ("note", "<b>on it</b>"),
            ],
        )
        .await;
    assert_eq!(ok.status(), 303);
    let (_, page) = editor.get_text("/docs").await;
    assert!(
        page.contains("Claimed by <strong>Demo editor</strong>"),
        "the claim shows"
    );
    let again = editor
        .post_form(
            "/docs",
            "/docs/claim",
            &[("engine", "master"), ("key", "p/undoc-a")],
        )
        .await;
    assert_eq!(again.status(), 400, "one open claim per service");

    // An attestation makes the stale doc fresh, which moves the figures and adds a snapshot.
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM coverage_snapshots")
        .fetch_one(&db)
        .await
        .unwrap();
    let empty = editor
        .post_form(
            "/docs",
            "/docs/verify",
            &[("path", "services/stale.md"), ("note", "  ")],
        )
        .await;
    assert_eq!(empty.status(), 400, "an attestation says what was run");
    let attested = editor
        .post_form(
            "/docs",
            "/docs/verify",
            &[("path", "services/stale.md"), ("note", "ran the curl, 200")],
        )
        .await;
    assert_eq!(attested.status(), 303);
    let report = audit_portal::docs::live::current_report(&db, &s.docs)
        .await
        .unwrap();
    assert_eq!((report.overall.passing, report.overall.fresh), (3, 4));
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM coverage_snapshots")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(after, before + 1);

    let trail: Vec<String> = sqlx::query_scalar(
        "SELECT action || ':' || outcome FROM audit_log WHERE action LIKE 'docs.%' ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        trail,
        ["docs.claim:refused", "docs.claim:done", "docs.verify:done"]
    );
    std::fs::remove_dir_all(&dir).ok();
}
