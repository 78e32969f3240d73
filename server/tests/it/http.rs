//! The portal's pages and operations endpoints against a real Postgres (one database per test).

use crate::common::{settings, spawn_app};
use app::model::Role;
use sqlx::PgPool;

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn health_and_readiness(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    assert_eq!(app.get_text("/healthz").await, (200, "ok\n".to_string()));
    assert_eq!(app.get_text("/readyz").await, (200, "ready\n".to_string()));

    // A database that lost its migrations is not ready, and says why.
    sqlx::query("DELETE FROM _sqlx_migrations")
        .execute(&db)
        .await
        .unwrap();
    let (status, body) = app.get_text("/readyz").await;
    assert_eq!(status, 503);
    assert!(body.contains("migrations pending"), "{body}");
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn every_navigation_page_renders_complete_html(db: PgPool) {
    let app = spawn_app(db, settings(&[])).await;
    app.sign_in(Role::Viewer).await;
    for (path, heading) in [
        ("/", "<h1>Dashboard</h1>"),
        ("/services", "<h1>Services</h1>"),
        ("/engines", "<h1>Docker engines</h1>"),
        ("/docs", "<h1>Documentation</h1>"),
        ("/grades", "<h1>Grades</h1>"),
        ("/phases", "<h1>Phases</h1>"),
        ("/rollouts", "<h1>Rollouts</h1>"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let csp = response
            .headers()
            .get("content-security-policy")
            .map(|v| v.to_str().unwrap().to_string());
        assert!(
            csp.unwrap_or_default().contains("script-src 'none'"),
            "{path} sends a CSP"
        );
        let body = response.text().await.unwrap();
        assert!(body.starts_with("<!DOCTYPE html>"), "{path}");
        assert!(body.contains(heading), "{path} lacks {heading}");
        assert!(
            body.contains("<nav aria-label=\"Sections\">"),
            "{path} has the navigation"
        );
        assert!(body.contains("</html>"), "{path} is complete");
        assert!(!body.contains("<script"), "{path} needs no script");
    }
    let (_, services) = app.get_text("/services").await;
    assert!(
        services.contains("0 containers on 0 engines"),
        "an empty inventory is stated, not faked"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn unknown_pages_get_a_readable_404(db: PgPool) {
    let app = spawn_app(db, settings(&[])).await;
    app.sign_in(Role::Viewer).await;
    let (status, body) = app.get_text("/no/such/<page>").await;
    assert_eq!(status, 404);
    assert!(body.contains("Page not found"));
    assert!(!body.contains("<page>"), "the path is escaped");
    let (status, body) = app.get_text("/services/master/nothing").await;
    assert_eq!(status, 404);
    assert!(body.contains("does not exist"), "{body}");
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn assets_are_served(db: PgPool) {
    let app = spawn_app(db, settings(&[])).await;
    let css = app.get("/assets/portal.css").await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(
        css.text()
            .await
            .unwrap()
            .contains("prefers-color-scheme: dark")
    );
    assert_eq!(app.get("/favicon.svg").await.status(), 200);
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_database_failure_shows_an_error_page_without_internals(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Viewer).await;
    sqlx::query("ALTER TABLE services RENAME TO services_gone")
        .execute(&db)
        .await
        .unwrap();
    let (status, body) = app.get_text("/services").await;
    assert_eq!(status, 500);
    assert!(body.contains("Something went wrong"));
    assert!(
        !body.contains("services_gone") && !body.contains("relation"),
        "no SQL detail leaks: {body}"
    );
}
