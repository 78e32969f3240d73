//! Whole pages kept per generation of the read model: each viewer gets their own, every response
//! its own CSRF token (and the token works), one tag while the data stands, and a person's write
//! shows on the very next view.

use crate::common::{csrf_token, new_client, settings, spawn_app};
use app::model::Role;
use sqlx::PgPool;

/// `html` without its CSRF token values, to compare two responses of one kept page.
fn without_tokens(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find(marker) {
        let value = at + marker.len();
        out.push_str(&rest[..value]);
        rest = &rest[value..];
        rest = &rest[rest.find('"').unwrap()..];
    }
    out.push_str(rest);
    out
}

/// A GET's body, straight from `client` (no waiting for the portal to catch up first).
async fn plain_get(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn kept_pages_are_per_viewer_and_take_each_responses_token(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Admin).await;

    // A second person, signed in as a viewer on a client of their own.
    let viewer = new_client();
    let login = plain_get(&viewer, &format!("{}/auth/login", app.url)).await;
    let signed_in = viewer
        .post(format!("{}/auth/demo", app.url))
        .header("Origin", &app.url)
        .form(&[
            ("role", "viewer"),
            ("csrf_token", csrf_token(&login).as_str()),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);

    let first = app.get("/services").await;
    assert_eq!(first.status(), 200);
    let tag = first.headers()["etag"].to_str().unwrap().to_string();
    let first = first.text().await.unwrap();
    let second = app.get("/services").await;
    assert_eq!(second.headers()["etag"].to_str().unwrap(), tag);
    let length = second.headers().get("content-length").cloned();
    let second = second.text().await.unwrap();
    // A kept copy goes out with its length announced.
    assert_eq!(
        length.map(|v| v.to_str().unwrap().to_string()),
        Some(second.len().to_string())
    );
    assert!(
        first.contains("action=\"/services/refresh\""),
        "the admin's page"
    );
    for page in [&first, &second] {
        assert!(
            !page.contains(app::CSRF_PLACEHOLDER),
            "no placeholder is ever sent"
        );
    }
    assert_ne!(
        csrf_token(&first),
        csrf_token(&second),
        "each response masks the token afresh"
    );
    assert_eq!(without_tokens(&first), without_tokens(&second));

    let viewers = viewer
        .get(format!("{}/services", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(viewers.status(), 200);
    let viewers = viewers.text().await.unwrap();
    assert!(
        !viewers.contains("action=\"/services/refresh\""),
        "a viewer never gets the admin's kept page"
    );

    // The token of a kept page is accepted by a write.
    let refreshed = app
        .client
        .post(format!("{}/services/refresh", app.url))
        .header("Origin", &app.url)
        .form(&[("csrf_token", csrf_token(&second).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 303, "the kept page's token is valid");

    // A write shows on the next view: read with the plain client, which does not first wait for
    // the portal to hear Postgres's announcements as the test helpers do.
    let before = app.get_text("/phases").await.1;
    assert!(!before.contains("PHASE-42"));
    let imported = app
        .post_form(
            "/phases",
            "/phases/import",
            &[
                ("plan", "# PHASE-42 Kept pages\n- [ ] Measure\n"),
                ("intent", "import"),
            ],
        )
        .await;
    assert_eq!(imported.status(), 303);
    let after = plain_get(&app.client, &format!("{}/phases", app.url)).await;
    assert!(
        after.contains("PHASE-42"),
        "the page after a write includes it"
    );
}
