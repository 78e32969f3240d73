//! Sign-in gate, roles, CSRF and the audit trail, with the local demo sign-in (the OpenID
//! Connect flow has its own tests in `oidc.rs` and the browser suite).

use crate::common::{csrf_token, new_client, settings, spawn_app};
use app::model::Role;
use sqlx::PgPool;

async fn audit_rows(db: &PgPool) -> i64 {
    crate::common::count(db, "audit_log").await
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn nobody_reaches_a_page_without_signing_in(db: PgPool) {
    let app = spawn_app(db, settings(&[])).await;
    for path in [
        "/",
        "/services",
        "/docs",
        "/audit",
        "/services/x/y",
        "/nowhere",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 303, "{path}");
        let location = response.headers()["location"].to_str().unwrap().to_string();
        assert!(
            location.starts_with("/auth/login?next="),
            "{path} → {location}"
        );
    }
    assert_eq!(app.get("/api/v1/services").await.status(), 401);
    let moved = app.get("/api/services?state=running").await;
    assert_eq!(moved.status(), 308);
    assert_eq!(
        moved.headers()["location"],
        "/api/v1/services?state=running"
    );
    assert_eq!(app.get("/services.csv").await.status(), 401);
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
    let (status, page) = app.get_text("/auth/login?next=%2Fservices").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("This is a local demo"),
        "the demo sign-in says what it is"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn sign_in_returns_to_the_page_asked_for_and_sign_out_ends_the_session(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    let (_, page) = app.get_text("/auth/login").await;
    let token = csrf_token(&page);
    let response = app
        .client
        .post(format!("{}/auth/demo", app.url))
        .header("Origin", &app.url)
        .form(&[
            ("role", "editor"),
            ("next", "/services?q=a"),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/services?q=a");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: no Secure flag"
    );

    let (status, page) = app.get_text("/services").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Demo editor") && page.contains(">editor<"),
        "the header shows who is signed in"
    );

    // An open redirect is not possible through `next`.
    let other = spawn_app(db.clone(), settings(&[])).await;
    let (_, page) = other.get_text("/auth/login").await;
    let token = csrf_token(&page);
    let response = other
        .client
        .post(format!("{}/auth/demo", other.url))
        .header("Origin", &other.url)
        .form(&[
            ("role", "viewer"),
            ("next", "//evil.example/"),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/");

    let out = app.post_form("/services", "/auth/logout", &[]).await;
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers()["location"], "/auth/signed-out");
    assert_eq!(
        app.get("/services").await.status(),
        303,
        "signed out means signed out"
    );
    let signins: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'auth.sign_in'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(signins, 2);
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn forged_posts_are_refused_and_write_nothing(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Admin).await;
    let before = audit_rows(&db).await;
    let url = format!("{}/services/refresh", app.url);

    let no_token = app
        .client
        .post(&url)
        .header("Origin", &app.url)
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 403);
    assert!(
        no_token
            .text()
            .await
            .unwrap()
            .contains("did not come from the portal"),
        "a readable page"
    );

    let wrong = app
        .client
        .post(&url)
        .header("Origin", &app.url)
        .form(&[("csrf_token", "0000")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);

    let (_, page) = app.get_text("/services").await;
    let token = csrf_token(&page);
    let other_site = app
        .client
        .post(&url)
        .header("Origin", "https://evil.example")
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(other_site.status(), 403);
    let fetch_meta = app
        .client
        .post(&url)
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_meta.status(), 403);

    // Another browser's token is no good either.
    let stranger = new_client();
    let theirs = stranger
        .post(&url)
        .header("Origin", &app.url)
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_ne!(theirs.status(), 303);

    assert_eq!(audit_rows(&db).await, before, "nothing was written");
    assert_eq!(
        app.get("/services/refresh").await.status(),
        405,
        "no GET changes state"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn the_audit_trail_is_for_admins_and_cannot_be_changed(db: PgPool) {
    let admin = spawn_app(db.clone(), settings(&[])).await;
    admin.sign_in(Role::Admin).await;
    sqlx::query(
        "INSERT INTO audit_log (actor_issuer, actor_subject, actor_name, action, target, outcome, after)
         VALUES ('x', 'sub-1', '</textarea><script>alert(1)</script>', 'docs.claim', '<script>alert(2)</script>', 'done', '{\"note\": \"<b>hi</b>\"}')",
    )
    .execute(&db)
    .await
    .unwrap();
    let (status, page) = admin.get_text("/audit?action=docs").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
        "names are escaped"
    );
    assert!(
        page.contains("&lt;script&gt;alert(2)&lt;/script&gt;"),
        "targets are escaped"
    );
    assert!(!page.contains("<script>alert"), "nothing becomes markup");
    assert!(!page.contains("auth.sign_in"), "the filter applies");

    let viewer = spawn_app(db.clone(), settings(&[])).await;
    viewer.sign_in(Role::Viewer).await;
    assert_eq!(viewer.get("/audit").await.status(), 403);

    for statement in [
        "UPDATE audit_log SET target = 'rewritten'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let err = sqlx::query(statement).execute(&db).await.unwrap_err();
        assert!(
            err.to_string().contains("append-only"),
            "{statement}: {err}"
        );
    }
}
