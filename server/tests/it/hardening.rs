//! The refusals that keep the portal safe on a shared machine and behind a proxy: foreign `Host`
//! names, the demo sign-in reached through anything but loopback, return paths that leave the
//! portal, oversized or token-less bodies, sessions for anonymous visitors, cached pages.

use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{csrf_token, settings, spawn_app};
use app::model::Role;
use sqlx::PgPool;

/// Sends `request` as written (so `Host` and lengths are exactly what a hostile client sends)
/// and returns the status and the whole answer.
async fn raw(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

async fn get_with(addr: SocketAddr, path: &str, headers: &str) -> (u16, String) {
    raw(
        addr,
        &format!("GET {path} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n"),
    )
    .await
}

async fn session_rows(db: &PgPool) -> i64 {
    crate::common::count(db, "tower_sessions.session").await
}

async fn audit_rows(db: &PgPool) -> i64 {
    crate::common::count(db, "audit_log").await
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn only_the_public_name_is_served(db: PgPool) {
    // An OpenID Connect deployment (the issuer is never contacted by these requests).
    let s = settings(&[
        ("AUDIT_OIDC_ISSUER", "http://127.0.0.1:9/unused"),
        ("AUDIT_OIDC_CLIENT_ID", "audit-portal"),
        ("AUDIT_OIDC_CLIENT_SECRET", "not-used-here"),
    ]);
    let app = spawn_app(db.clone(), s).await;
    let addr = app.addr;
    let own = format!("Host: {addr}\r\n");
    let (status, answer) = get_with(addr, "/services", &own).await;
    assert_eq!(status, 303, "{answer}");
    for host in [
        "Host: evil.example\r\n",
        &format!("Host: evil.example:{}\r\n", addr.port()),
        "Host: localhost\r\n",
        "",
    ] {
        let (status, answer) = get_with(addr, "/services", host).await;
        assert!(
            status == 421 || status == 400,
            "{host:?} answered {status}: {answer}"
        );
    }
    // Probes answer under any name (a container's health check calls 127.0.0.1).
    let (status, _) = get_with(addr, "/healthz", "Host: 127.0.0.1\r\n").await;
    assert_eq!(status, 200);
    assert_eq!(session_rows(&db).await, 0);
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn the_demo_sign_in_answers_loopback_names_only_and_never_through_a_proxy(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    let addr = app.addr;
    let port = addr.port();
    // Rebinding: a hostile page's name now resolves to 127.0.0.1; the browser sends its own
    // name and a matching Origin.
    let (status, page) = get_with(
        addr,
        "/auth/login",
        &format!("Host: rebind.test:{port}\r\n"),
    )
    .await;
    assert_eq!(status, 421, "{page}");
    let body = "role=admin&next=%2F&csrf_token=x";
    let (status, _) = raw(
        addr,
        &format!(
            "POST /auth/demo HTTP/1.1\r\nHost: rebind.test:{port}\r\nOrigin: http://rebind.test:{port}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    ).await;
    assert_eq!(status, 421);
    for proxy in [
        "X-Forwarded-For: 203.0.113.9\r\n",
        "X-Forwarded-Host: audit.quietly.online\r\n",
        "Forwarded: for=203.0.113.9;host=audit.quietly.online\r\n",
    ] {
        let (status, _) = get_with(addr, "/auth/login", &format!("Host: {addr}\r\n{proxy}")).await;
        assert_eq!(status, 421, "{proxy}");
    }
    assert_eq!(session_rows(&db).await, 0, "refused before any session");
    // The same machine under its other loopback names is fine.
    for host in [format!("localhost:{port}"), format!("{addr}")] {
        let (status, page) = get_with(addr, "/auth/login", &format!("Host: {host}\r\n")).await;
        assert_eq!(status, 200, "{host}: {page}");
    }
    let signed_in: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'auth.sign_in'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(signed_in, 0);
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn return_paths_never_leave_the_portal(db: PgPool) {
    let mut app = spawn_app(db, settings(&[])).await;
    for next in [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/\u{0b}/evil.example",
        "/ /evil.example",
    ] {
        let (_, page) = app.get_text("/auth/login").await;
        let token = csrf_token(&page);
        let response = app
            .client
            .post(format!("{}/auth/demo", app.url))
            .header("Origin", &app.url)
            .form(&[("role", "viewer"), ("next", next), ("csrf_token", &token)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{next:?}");
        assert_eq!(response.headers()["location"], "/", "{next:?}");
        // Signed in now: start over as an anonymous browser.
        app.client = crate::common::new_client();
    }
    // The query string form of the same attack, as a link would carry it.
    let (_, page) = app.get_text("/auth/login?next=/%09/evil.example").await;
    assert!(
        page.contains("name=\"next\" value=\"/\""),
        "the demo form carries / instead: {page}"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn oversized_bodies_are_refused_before_they_are_read(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    let addr = app.addr;
    // An anonymous 8 MB POST that never sends its body: answered at once, not after reading.
    for path in [
        "/phases/import",
        "/docs/claim",
        "/auth/demo",
        "/grades/assess",
    ] {
        let started = Instant::now();
        let (status, answer) = raw(
            addr,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: 8000000\r\nConnection: close\r\n\r\n"
            ),
        ).await;
        assert_eq!(status, 413, "{path}: {answer}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{path} waited for a body it should not read"
        );
    }
    // A viewer gets the ordinary form limit on the plan import too; an editor may send a plan.
    app.sign_in(Role::Viewer).await;
    let big = "x".repeat(300 * 1024);
    let response = app
        .post_form("/phases", "/phases/import", &[("plan", &big)])
        .await;
    assert_eq!(response.status(), 413);
    let response = app
        .post_form("/docs", "/docs/claim", &[("service", &big)])
        .await;
    assert_eq!(response.status(), 413);
    let editor = spawn_app(db.clone(), settings(&[])).await;
    editor.sign_in(Role::Editor).await;
    let plan = format!(
        "# PHASE-09 Big\n## Work\n- [ ] {}\n",
        "y".repeat(900 * 1024)
    );
    let response = editor
        .post_form(
            "/phases",
            "/phases/import",
            &[("plan", &plan), ("intent", "preview")],
        )
        .await;
    assert_ne!(response.status(), 413, "an editor's plan is within limits");
    let phases: i64 = sqlx::query_scalar("SELECT count(*) FROM phases")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(phases, 0, "a preview writes nothing");
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn posts_without_a_token_change_nothing(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    // Anonymous, no session at all.
    let response = app
        .client
        .post(format!("{}/docs/claim", app.url))
        .header("Origin", &app.url)
        .form(&[("service", "master/x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    app.sign_in(Role::Admin).await;
    let before = audit_rows(&db).await;
    for (path, fields) in [
        (
            "/grades/assess",
            vec![("category", "Monitoring"), ("score", "90")],
        ),
        ("/rollouts", vec![("name", "x")]),
        (
            "/phases/create",
            vec![("number", "PHASE-77"), ("title", "t")],
        ),
        ("/services/refresh", vec![]),
    ] {
        for token in [None, Some("0000"), Some("")] {
            let mut form = fields.clone();
            if let Some(t) = token {
                form.push(("csrf_token", t));
            }
            let response = app
                .client
                .post(format!("{}{path}", app.url))
                .header("Origin", &app.url)
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "{path} with {token:?}");
        }
    }
    assert_eq!(audit_rows(&db).await, before, "nothing was written");
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn anonymous_visitors_get_no_session_and_expired_ones_are_purged(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    for path in [
        "/",
        "/services",
        "/healthz",
        "/readyz",
        "/auth/signed-out",
        "/no/such/page",
        "/services.csv",
        "/assets/portal.css",
    ] {
        let _ = app.get(path).await;
    }
    assert_eq!(session_rows(&db).await, 0, "looking creates nothing");
    // Starting a sign-in does, with a short lifetime.
    let (status, _) = app.get_text("/auth/login").await;
    assert_eq!(status, 200);
    let minutes_left: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM max(expiry_date) - now())::float8 / 60 FROM tower_sessions.session",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(minutes_left <= 10.5, "{minutes_left} minutes");
    // A finished sign-in gets the configured idle lifetime.
    app.sign_in(Role::Viewer).await;
    let minutes_left: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM max(expiry_date) - now())::float8 / 60 FROM tower_sessions.session",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(minutes_left > 50.0, "{minutes_left} minutes");

    // Expired rows are deleted by the purge task, live ones are kept.
    let other = spawn_app(db.clone(), settings(&[])).await;
    let _ = other.get_text("/auth/login").await;
    assert_eq!(session_rows(&db).await, 2);
    sqlx::query(
        "UPDATE tower_sessions.session SET expiry_date = now() - interval '1 minute'
         WHERE expiry_date < now() + interval '11 minutes'",
    )
    .execute(&db)
    .await
    .unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(audit_portal::startup::purge_expired_sessions(
        db.clone(),
        Duration::from_millis(50),
        stop.clone(),
    ));
    let deadline = Instant::now() + Duration::from_secs(5);
    while session_rows(&db).await != 1 {
        assert!(
            Instant::now() < deadline,
            "expired sessions were not purged"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();
    assert_eq!(
        app.get("/services").await.status(),
        200,
        "the live one works"
    );
}

/// The store's expiry of the one signed-in session.
async fn session_expiry(db: &PgPool) -> time::OffsetDateTime {
    sqlx::query_scalar("SELECT max(expiry_date) FROM tower_sessions.session")
        .fetch_one(db)
        .await
        .unwrap()
}

/// A session in use stays alive: its idle expiry moves forward in the store as pages are read
/// (otherwise an active reader would be signed out one idle period after signing in), but at
/// most once per interval, so a page view does not write the session each time.
#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn reading_pages_keeps_a_session_alive_with_few_writes(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Viewer).await;
    assert_eq!(app.get_text("/").await.0, 200);
    let after_first_view = session_expiry(&db).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(app.get_text("/services").await.0, 200);
    assert_eq!(
        session_expiry(&db).await,
        after_first_view,
        "a view within the interval writes nothing"
    );

    // With the interval elapsed (here: no interval), a view moves the expiry forward.
    let mut every_view = settings(&[]);
    every_view.auth.session_touch_every = Duration::ZERO;
    let app = spawn_app(db.clone(), every_view).await;
    app.sign_in(Role::Viewer).await;
    assert_eq!(app.get_text("/").await.0, 200);
    let before = session_expiry(&db).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(app.get_text("/services").await.0, 200);
    let after = session_expiry(&db).await;
    assert!(
        after - before >= time::Duration::seconds(1),
        "{before} then {after}"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn pages_are_revalidated_downloads_never_kept_and_static_files_are(db: PgPool) {
    let app = spawn_app(db, settings(&[])).await;
    app.sign_in(Role::Viewer).await;
    for path in ["/services.csv", "/api/v1/services", "/grades/history.csv"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }
    // Pages: kept by the browser only to ask again; an unchanged page costs a 304, although each
    // response masks its CSRF token afresh.
    for path in ["/", "/services", "/capacity"] {
        let first = app.get(path).await;
        assert_eq!(first.status(), 200, "{path}");
        assert_eq!(
            first.headers()["cache-control"],
            "private, no-cache",
            "{path}"
        );
        let tag = first.headers()["etag"].to_str().unwrap().to_string();
        assert!(tag.starts_with("W/\""), "{tag}");
        let page = first.text().await.unwrap();
        let again = app
            .client
            .get(format!("{}{path}", app.url))
            .header("If-None-Match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
        assert!(again.text().await.unwrap().is_empty());
        let stale = app
            .client
            .get(format!("{}{path}", app.url))
            .header("If-None-Match", "W/\"0000\"")
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 200, "{path}");
        let other = stale.text().await.unwrap();
        assert_ne!(
            crate::common::csrf_token(&page),
            crate::common::csrf_token(&other),
            "{path}: the token is masked per response"
        );
    }
    // Compressed for a client that asks, gzip and brotli alike.
    for encoding in ["gzip", "br"] {
        let response = app
            .client
            .get(format!("{}/services", app.url))
            .header("Accept-Encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-encoding"], encoding);
        assert!(
            response.headers()["vary"]
                .to_str()
                .unwrap()
                .contains("accept-encoding")
        );
    }
    // Pages link the stylesheet by a name that carries its content's hash: kept for a year.
    let (_, page) = app.get_text("/").await;
    let href = page
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    assert!(
        href.starts_with("/assets/portal-") && href.ends_with(".css"),
        "{href}"
    );
    let hashed = app.get(&href).await;
    assert_eq!(hashed.status(), 200);
    assert_eq!(
        hashed.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        app.get("/assets/portal-0000000000000000.css")
            .await
            .status(),
        404
    );
    let css = app.get("/assets/portal.css").await;
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public")
    );
    // Sign-out tells the browser to drop every kept page.
    let (_, page) = app.get_text("/").await;
    let out = app
        .client
        .post(format!("{}/auth/logout", app.url))
        .header("Origin", &app.url)
        .form(&[("csrf_token", crate::common::csrf_token(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers()["clear-site-data"], "\"cache\"");
}
