//! The accounting rollout: seeded on first start, the evaluation matrix and decision over HTTP,
//! and checklist items proved (and disproved) by a real inventory on the private engine.

use std::sync::Arc;

use crate::common::docker::{Fleet, Spec, docker, socket};
use crate::common::{TestApp, settings, spawn_app};
use app::model::Role;
use audit_portal::worker::Worker;
use sqlx::PgPool;

async fn count(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

async fn accounting_id(db: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT id FROM rollouts WHERE slug = 'accounting'")
        .fetch_one(db)
        .await
        .unwrap()
}

/// The id of a row by name, for forms that send ids.
async fn id_of(db: &PgPool, table: &str, name: &str) -> String {
    sqlx::query_scalar::<_, i64>(&format!("SELECT id FROM {table} WHERE name = $1"))
        .bind(name)
        .fetch_one(db)
        .await
        .unwrap()
        .to_string()
}

/// The current status and the portal's latest fact of the item checked by `check`.
async fn item(db: &PgPool, check: &str) -> (String, String) {
    sqlx::query_as(
        "SELECT e.status, e.note FROM rollout_items it
         JOIN LATERAL (SELECT status, note FROM rollout_item_events WHERE item_id = it.id ORDER BY id DESC LIMIT 1) e ON true
         WHERE it.auto_check = $1 AND it.rollout_id = (SELECT id FROM rollouts WHERE slug = 'accounting')",
    )
    .bind(check)
    .fetch_one(db)
    .await
    .unwrap()
}

async fn post(
    app: &TestApp,
    rollout: i64,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.post_form(
        &format!("/rollouts/{rollout}"),
        &format!("/rollouts/{rollout}/{action}"),
        fields,
    )
    .await
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn the_accounting_rollout_exists_from_the_first_start_and_follows_the_configured_host(
    db: PgPool,
) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Viewer).await;
    let (status, page) = app.get_text("/rollouts").await;
    assert_eq!(status, 200);
    assert!(page.contains("Accounting system"));
    assert!(page.contains("accounting.quietly.online"));
    assert_eq!(
        count(&db, "SELECT count(*) FROM rollout_candidates").await,
        2
    );
    assert_eq!(count(&db, "SELECT count(*) FROM rollout_criteria").await, 7);
    assert_eq!(count(&db, "SELECT count(*) FROM rollout_items").await, 12);
    let dashboard = app.get_text("/").await.1;
    assert!(
        dashboard.contains("Accounting system rollout"),
        "the dashboard shows the rollout"
    );
    assert!(
        dashboard.contains("0% verified (0 of 12): not ready"),
        "{dashboard}"
    );

    // A second start seeds nothing twice and takes the configured host.
    let again = spawn_app(
        db.clone(),
        settings(&[("AUDIT_ROLLOUT_HOST", "erp.quietly.online")]),
    )
    .await;
    // It answers once it has started, and it seeds before it serves.
    assert_eq!(again.get("/healthz").await.status(), 200);
    assert_eq!(count(&db, "SELECT count(*) FROM rollouts").await, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM rollout_items").await, 12);
    let host: String = sqlx::query_scalar("SELECT host FROM rollouts")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(host, "erp.quietly.online");
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn the_matrix_refuses_bad_input_and_the_decision_verifies_its_item(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Admin).await;
    let id = accounting_id(&db).await;
    let odoo = id_of(&db, "rollout_candidates", "Odoo").await;
    let fit = id_of(&db, "rollout_criteria", "Accounting and inventory fit").await;

    for (score, message) in [
        ("11", "'11' is not a score"),
        ("7.5", "'7.5' is not a score"),
        ("", "'' is not a score"),
    ] {
        let response = post(
            &app,
            id,
            "scores",
            &[("candidate", &odoo), ("criterion", &fit), ("score", score)],
        )
        .await;
        assert_eq!(response.status(), 400);
        let page = response.text().await.unwrap();
        assert!(page.contains(message), "{score}");
        if !score.is_empty() {
            let kept = format!("value=\"{score}\"");
            assert!(
                page.contains(&kept),
                "what was typed is shown again: {score}"
            );
        }
    }
    assert_eq!(count(&db, "SELECT count(*) FROM rollout_scores").await, 0);
    let response = post(
        &app,
        id,
        "scores",
        &[
            ("candidate", &odoo),
            ("criterion", &fit),
            ("score", "8"),
            ("note", "covers both"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let page = app.get_text(&format!("/rollouts/{id}")).await.1;
    assert!(page.contains("20.0"), "8 × 25% = 20.0 points: {page}");

    // Weights: all seven must be sent and sum to 100.
    let criteria: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM rollout_criteria ORDER BY position")
            .fetch_all(&db)
            .await
            .unwrap();
    let names: Vec<String> = criteria
        .iter()
        .map(|(c, _)| format!("weight_{c}"))
        .collect();
    let mut fields: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "10")).collect();
    let response = post(&app, id, "weights", &fields).await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("The weights sum to 70, not 100.")
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM rollout_weight_sets").await,
        1,
        "only the seeded set"
    );
    fields[0].1 = "40";
    assert_eq!(post(&app, id, "weights", &fields).await.status(), 303);
    let page = app.get_text(&format!("/rollouts/{id}")).await.1;
    assert!(page.contains("32.0"), "8 × 40% = 32.0 points");

    let response = post(
        &app,
        id,
        "decision",
        &[("candidate", &odoo), ("rationale", " ")],
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("states its rationale")
    );
    assert_eq!(item(&db, "decision").await.0, "todo");
    let response = post(
        &app,
        id,
        "decision",
        &[("candidate", &odoo), ("rationale", "best inventory module")],
    )
    .await;
    assert_eq!(response.status(), 303);
    let (status, fact) = item(&db, "decision").await;
    assert_eq!(status, "verified");
    assert!(fact.starts_with("Odoo chosen by Demo admin on "), "{fact}");

    // People cannot verify what the portal checks; their own items need evidence to be verified.
    let container_item: i64 =
        sqlx::query_scalar("SELECT id FROM rollout_items WHERE auto_check = 'container'")
            .fetch_one(&db)
            .await
            .unwrap();
    let response = post(
        &app,
        id,
        &format!("items/{container_item}"),
        &[("status", "verified"), ("note", "trust me")],
    )
    .await;
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("value=\"trust me\""),
        "the refused note is kept in the form"
    );
    assert!(page.contains("verified by the portal"));
    let manual: i64 =
        sqlx::query_scalar("SELECT id FROM rollout_items WHERE title LIKE 'Basic modules%'")
            .fetch_one(&db)
            .await
            .unwrap();
    let response = post(
        &app,
        id,
        &format!("items/{manual}"),
        &[("status", "verified"), ("note", "")],
    )
    .await;
    assert_eq!(response.status(), 400);
    let response = post(
        &app,
        id,
        &format!("items/{manual}"),
        &[
            ("status", "verified"),
            ("owner", "erin"),
            ("due_on", "2026-12-01"),
            ("note", "chart of accounts imported, stock module on"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let page = app.get_text("/").await.1;
    assert!(
        page.contains("16.7% verified (2 of 12): not ready"),
        "{page}"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn viewers_read_the_tracker_and_cannot_write(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Viewer).await;
    let id = accounting_id(&db).await;
    let page = app.get_text(&format!("/rollouts/{id}")).await.1;
    assert!(page.contains("Evaluation matrix") && page.contains("Checklist"));
    assert!(
        !page.contains("Record score")
            && !page.contains("Record decision")
            && !page.contains("<summary>Update</summary>")
    );
    let odoo = id_of(&db, "rollout_candidates", "Odoo").await;
    let response = post(
        &app,
        id,
        "decision",
        &[("candidate", &odoo), ("rationale", "forged")],
    )
    .await;
    assert_eq!(response.status(), 403);
    assert_eq!(
        count(&db, "SELECT count(*) FROM rollout_decisions").await,
        0
    );
}

/// Removes the service's container and starts it again with `spec`: the same service, new labels.
fn recreate(fleet: &Fleet, spec: &Spec) {
    docker(&["rm", "-f", &fleet.container("odoo")]);
    fleet.run("odoo", spec);
    fleet.wait_health("odoo", "healthy");
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn odoo_gains_its_checks_step_by_step_and_loses_one_when_a_label_goes(db: PgPool) {
    let s = settings(&[
        ("AUDIT_ENGINES", &format!("test=unix://{}", socket())),
        ("AUDIT_ROLLOUT_ALLOWLIST_MIDDLEWARE", "vpn-only@file"),
    ]);
    let app = spawn_app(db.clone(), s.clone()).await;
    app.sign_in(Role::Admin).await;
    let id = accounting_id(&db).await;
    let odoo = id_of(&db, "rollout_candidates", "Odoo").await;
    assert_eq!(
        post(
            &app,
            id,
            "decision",
            &[("candidate", &odoo), ("rationale", "fits")]
        )
        .await
        .status(),
        303
    );
    let mut worker = Worker::new(db.clone(), Arc::new(s));
    let fleet = Fleet::new("r");

    worker.refresh_once().await.unwrap();
    let (status, fact) = item(&db, "container").await;
    assert_eq!(
        (status.as_str(), fact.as_str()),
        ("todo", "No container matching 'odoo' (Odoo) on any engine.")
    );

    let router = "traefik.http.routers.accounting.rule=Host(`accounting.quietly.online`)";
    let mut spec = Spec::good();
    fleet.run("odoo", &spec);
    fleet.wait_health("odoo", "healthy");
    worker.refresh_once().await.unwrap();
    assert_eq!(item(&db, "container").await.0, "verified");
    assert_eq!(item(&db, "restart_health").await.0, "verified");
    assert_eq!(item(&db, "router").await.0, "todo");

    let steps: [(&str, &str); 4] = [
        (router, "router"),
        (
            "traefik.http.routers.accounting.middlewares=authelia@docker,vpn@docker",
            "authelia",
        ),
        (
            "traefik.http.routers.accounting.tls.certresolver=letsencrypt",
            "tls",
        ),
        (
            "traefik.http.middlewares.vpn.ipallowlist.sourcerange=10.8.0.0/24",
            "allowlist",
        ),
    ];
    for (label, check) in steps {
        assert_eq!(item(&db, check).await.0, "todo", "{check} before its label");
        spec = spec.label(label);
        recreate(&fleet, &spec);
        worker.refresh_once().await.unwrap();
        let (status, fact) = item(&db, check).await;
        assert_eq!(status, "verified", "{check}: {fact}");
    }
    let (_, fact) = item(&db, "allowlist").await;
    assert_eq!(
        fact,
        "Router 'accounting' uses the IP allow-list middleware vpn@docker."
    );
    let page = app.get_text(&format!("/rollouts/{id}")).await.1;
    assert!(
        page.contains("Router &#39;accounting&#39; uses the IP allow-list middleware")
            || page.contains("Router 'accounting' uses the IP allow-list middleware"),
        "{page}"
    );

    // The allow-list middleware's definition disappears: the item falls back, and says why.
    let without_allowlist = Spec::good()
        .label(router)
        .label("traefik.http.routers.accounting.middlewares=authelia@docker,vpn@docker")
        .label("traefik.http.routers.accounting.tls.certresolver=letsencrypt");
    recreate(&fleet, &without_allowlist);
    worker.refresh_once().await.unwrap();
    let (status, fact) = item(&db, "allowlist").await;
    assert_eq!(status, "todo");
    assert_eq!(
        fact,
        "Router 'accounting' uses no IP allow-list middleware (known: vpn-only@file)."
    );
    assert_eq!(
        item(&db, "tls").await.0,
        "verified",
        "the other checks still hold"
    );
    let history: Vec<(String, String)> = sqlx::query_as(
        "SELECT e.status, e.note FROM rollout_item_events e JOIN rollout_items i ON i.id = e.item_id
         WHERE i.auto_check = 'allowlist' ORDER BY e.id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let statuses: Vec<&str> = history.iter().map(|(s, _)| s.as_str()).collect();
    // Seeded; no container yet; no router yet; a router without the middleware; verified; fell back.
    assert_eq!(
        statuses,
        ["todo", "todo", "todo", "todo", "verified", "todo"],
        "{history:?}"
    );
    assert!(
        history[2]
            .1
            .starts_with("No Traefik router for accounting.quietly.online")
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn admins_add_candidates_and_start_rollouts_from_a_template(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Admin).await;
    let id = accounting_id(&db).await;

    let response = post(
        &app,
        id,
        "candidates",
        &[("name", "Dolibarr"), ("service_match", "Dolibarr")],
    )
    .await;
    assert_eq!(response.status(), 303);
    let response = post(
        &app,
        id,
        "candidates",
        &[("name", "odoo"), ("service_match", "odoo")],
    )
    .await;
    assert_eq!(
        response.status(),
        400,
        "names are unique, whatever their case"
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("is a candidate already")
    );
    let page = app.get_text(&format!("/rollouts/{id}")).await.1;
    assert!(page.contains("Dolibarr"));
    let needle: String =
        sqlx::query_scalar("SELECT service_match FROM rollout_candidates WHERE name = 'Dolibarr'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(needle, "dolibarr");

    let create = |slug: &'static str, candidates: &'static str| {
        let (app, template) = (&app, id.to_string());
        async move {
            app.post_form(
                "/rollouts",
                "/rollouts",
                &[
                    ("template", &template),
                    ("name", "CRM"),
                    ("slug", slug),
                    ("host", "crm.quietly.online"),
                    ("allowlist_middleware", ""),
                    ("candidates", candidates),
                    ("goal", "Pick and deploy a CRM."),
                ],
            )
            .await
        }
    };
    for (slug, candidates, message) in [
        ("Bad Slug", "Twenty=twenty", "uses a-z, 0-9 and"),
        ("accounting", "Twenty=twenty", "exists already"),
        ("crm", "Twenty", "write candidates as Name=match"),
    ] {
        let response = create(slug, candidates).await;
        assert_eq!(response.status(), 400, "{slug}");
        assert!(
            response.text().await.unwrap().contains(message),
            "{slug}: {message}"
        );
    }
    assert_eq!(
        count(&db, "SELECT count(*) FROM rollouts").await,
        1,
        "nothing saved"
    );

    let response = create("crm", "Twenty=twenty, EspoCRM=espocrm").await;
    assert_eq!(response.status(), 303);
    let crm: i64 = sqlx::query_scalar("SELECT id FROM rollouts WHERE slug = 'crm'")
        .fetch_one(&db)
        .await
        .unwrap();
    let of = |table: &str| format!("SELECT count(*) FROM {table} WHERE rollout_id = {crm}");
    assert_eq!(
        count(&db, &of("rollout_criteria")).await,
        7,
        "criteria copied"
    );
    assert_eq!(
        count(&db, &of("rollout_items")).await,
        12,
        "checklist copied"
    );
    assert_eq!(
        count(&db, &of("rollout_candidates")).await,
        2,
        "its own candidates"
    );
    assert_eq!(
        count(&db, &of("rollout_decisions")).await,
        0,
        "no decision copied"
    );
    let page = app.get_text(&format!("/rollouts/{crm}")).await.1;
    assert!(page.contains("crm.quietly.online") && page.contains("EspoCRM"));
    assert!(
        page.contains("No decision recorded yet."),
        "checked at once: {page}"
    );
}

/// Statuses are parsed where they are read (the query macros name `Parsed<ItemStatus>` as the
/// column's type): a value the code does not know fails the read with a message naming it,
/// instead of reaching a page as text.
#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_stored_status_the_code_does_not_know_fails_the_read(db: PgPool) {
    use app::model::phases::DeliverableStatus;
    use app::model::rollouts::ItemStatus;
    use audit_portal::db::Parsed;

    let known: Parsed<ItemStatus> = sqlx::query_scalar("SELECT 'verified'::text")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(ItemStatus::from(known), ItemStatus::Verified);
    let unknown = sqlx::query_scalar::<_, Parsed<ItemStatus>>("SELECT 'finished'::text")
        .fetch_one(&db)
        .await;
    let message = unknown
        .err()
        .expect("an unknown status is refused")
        .to_string();
    assert!(
        message.contains("'finished' is not a checklist status"),
        "{message}"
    );
    let unknown = sqlx::query_scalar::<_, Parsed<DeliverableStatus>>("SELECT 'verified'::text")
        .fetch_one(&db)
        .await;
    let message = unknown
        .err()
        .expect("a checklist status is no deliverable status")
        .to_string();
    assert!(
        message.contains("'verified' is not a deliverable status"),
        "{message}"
    );
}
