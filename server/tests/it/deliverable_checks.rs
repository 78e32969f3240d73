//! Deliverables that verify themselves, on the private Docker engine: bound to "no
//! no_restart_policy finding", a deliverable turns done after `docker update --restart` and the
//! next refresh, falls back when the policy goes, and cannot be marked done by hand meanwhile.

use std::sync::Arc;

use crate::common::docker::{Fleet, Spec, docker, socket};
use crate::common::{TestApp, settings, spawn_app};
use app::model::Role;
use audit_portal::worker::Worker;
use sqlx::PgPool;

/// The latest event of a deliverable: (status, note, who).
async fn latest(db: &PgPool, deliverable: i64) -> (String, String, String) {
    sqlx::query_as(
        "SELECT status, note, actor_subject FROM deliverable_events WHERE deliverable_id = $1
         ORDER BY id DESC LIMIT 1",
    )
    .bind(deliverable)
    .fetch_one(db)
    .await
    .unwrap()
}

async fn post(app: &TestApp, phase: i64, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form(&format!("/phases/{phase}"), path, fields)
        .await
}

/// Imports a plan through the form; returns the new phase's id.
async fn import(app: &TestApp, plan: &str) -> i64 {
    let response = app
        .post_form(
            "/phases",
            "/phases/import",
            &[("plan", plan), ("intent", "import")],
        )
        .await;
    assert_eq!(response.status(), 303);
    response.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/phases/")
        .parse()
        .unwrap()
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_bound_deliverable_follows_its_check_and_refuses_a_manual_done(db: PgPool) {
    let fleet = Fleet::new("dc");
    fleet.run("loose", &Spec::good().set("--restart", "no"));
    fleet.wait_health("loose", "healthy");
    let engines = format!("test=unix://{}", socket());
    let s = settings(&[("AUDIT_ENGINES", &engines)]);
    let mut worker = Worker::new(db.clone(), Arc::new(s.clone()));
    worker.refresh_once().await.unwrap();

    let app = spawn_app(db.clone(), s).await;
    app.sign_in(Role::Editor).await;
    let phase = import(
        &app,
        "# PHASE-11: Restart policies\n\n## Deliverables\n- [ ] Every container restarts by itself\n",
    )
    .await;
    let deliverable: i64 =
        sqlx::query_scalar("SELECT id FROM phase_deliverables WHERE phase_id = $1")
            .bind(phase)
            .fetch_one(&db)
            .await
            .unwrap();
    let check_path = format!("/phases/{phase}/deliverables/{deliverable}/check");
    let service = format!("test/{}", fleet.key("loose"));

    // A check that cannot be read is refused with a reason and binds nothing.
    let response = post(
        &app,
        phase,
        &check_path,
        &[
            ("kind", "no_finding"),
            ("parameter", "no_such_finding"),
            ("intent", "bind"),
        ],
    )
    .await;
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("no_such_finding") && page.contains("is not a finding kind"),
        "{page}"
    );
    let bindings: i64 =
        sqlx::query_scalar("SELECT count(*) FROM deliverable_checks WHERE deliverable_id = $1")
            .bind(deliverable)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(bindings, 0, "a refused binding writes nothing");

    // Bound to the service having no no_restart_policy finding: it fails now, and says why.
    let parameter = format!("no_restart_policy@{service}");
    let response = post(
        &app,
        phase,
        &check_path,
        &[
            ("kind", "no_finding"),
            ("parameter", &parameter),
            ("intent", "bind"),
        ],
    )
    .await;
    let code = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(code, 303, "{body}");
    let (status, note, who) = latest(&db, deliverable).await;
    assert_eq!((status.as_str(), who.as_str()), ("open", "portal"));
    assert_eq!(note, format!("{service} has no_restart_policy."));
    let (_, page) = app.get_text(&format!("/phases/{phase}")).await;
    assert!(
        page.contains(&format!(
            "none of {service} has the finding no_restart_policy"
        )),
        "the page names the check"
    );

    // A person cannot mark it done while the check fails.
    let response = post(
        &app,
        phase,
        &format!("/phases/{phase}/deliverables/{deliverable}"),
        &[
            ("status", "done"),
            ("note", "trust me"),
            ("link", ""),
            ("report", ""),
        ],
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("is checked by the portal")
    );
    assert_eq!(latest(&db, deliverable).await.0, "open");

    // Fixed on the engine: the next refresh verifies it, with the fact.
    docker(&[
        "update",
        "--restart",
        "unless-stopped",
        &fleet.container("loose"),
    ]);
    worker.refresh_once().await.unwrap();
    let (status, note, who) = latest(&db, deliverable).await;
    assert_eq!((status.as_str(), who.as_str()), ("done", "portal"));
    assert_eq!(note, "None of the 1 named services has no_restart_policy.");
    // Another refresh with the same verdict adds nothing.
    let events = |db: PgPool| async move {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM deliverable_events WHERE deliverable_id = $1",
        )
        .bind(deliverable)
        .fetch_one(&db)
        .await
        .unwrap()
    };
    let before = events(db.clone()).await;
    worker.refresh_once().await.unwrap();
    assert_eq!(events(db.clone()).await, before);

    // The policy removed again: it falls back, with the failing fact, in the same history.
    docker(&["update", "--restart", "no", &fleet.container("loose")]);
    worker.refresh_once().await.unwrap();
    let (status, note, _) = latest(&db, deliverable).await;
    assert_eq!(
        (status.as_str(), note.as_str()),
        ("open", format!("{service} has no_restart_policy.").as_str())
    );
    assert_eq!(events(db.clone()).await, before + 1);
    let (_, page) = app.get_text(&format!("/phases/{phase}")).await;
    assert!(
        page.contains("History (4 changes)"),
        "created, failing, verified, fell back"
    );

    // Unbound, it is a person's deliverable again.
    let response = post(&app, phase, &check_path, &[("intent", "unbind")]).await;
    assert_eq!(response.status(), 303);
    let response = post(
        &app,
        phase,
        &format!("/phases/{phase}/deliverables/{deliverable}"),
        &[
            ("status", "done"),
            ("note", "checked by hand"),
            ("link", ""),
            ("report", ""),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'phase.deliverable_check'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        audited, 2,
        "the binding and the unbinding are in the audit trail"
    );
}

/// The checks other evidence adds: a backup job (its heartbeats) and a route (its probes).
#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn deliverables_bound_to_a_backup_job_and_a_route(db: PgPool) {
    let fleet = Fleet::new("dk");
    fleet.run("store", &Spec::good().label("audit.backup=nightly"));
    fleet.wait_health("store", "healthy");
    let engines = format!("test=unix://{}", socket());
    let s = settings(&[("AUDIT_ENGINES", &engines)]);
    let mut worker = Worker::new(db.clone(), Arc::new(s.clone()));
    worker.refresh_once().await.unwrap();

    let app = spawn_app(db.clone(), s).await;
    app.sign_in(Role::Editor).await;
    let phase = import(
        &app,
        "# PHASE-12: Recovery\n\n## Deliverables\n- [ ] Nightly backups restore\n- [ ] Wiki reachable\n",
    )
    .await;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM phase_deliverables WHERE phase_id = $1 ORDER BY position",
    )
    .bind(phase)
    .fetch_all(&db)
    .await
    .unwrap();
    let bind = |deliverable: i64, kind: &'static str, parameter: &'static str| {
        let app = &app;
        async move {
            let path = format!("/phases/{phase}/deliverables/{deliverable}/check");
            let response = post(
                app,
                phase,
                &path,
                &[("kind", kind), ("parameter", parameter), ("intent", "bind")],
            )
            .await;
            assert_eq!(response.status(), 303);
        }
    };

    // No run reported yet: the job is declared by its label, and fails with both facts.
    bind(ids[0], "backup", "nightly").await;
    let (status, note, _) = latest(&db, ids[0]).await;
    assert_eq!(status, "open");
    assert_eq!(
        note,
        "job 'nightly': no successful backup reported yet; job 'nightly': no successful restore test reported."
    );
    // A route nobody declared fails, saying so.
    bind(ids[1], "route", "wiki.example").await;
    let (status, note, _) = latest(&db, ids[1]).await;
    assert_eq!(status, "open");
    assert!(
        note.starts_with("No route to wiki.example is known"),
        "{note}"
    );

    // A backup and a restore test reported (as the heartbeat API stores them): verified at the
    // next refresh.
    sqlx::query(
        "INSERT INTO backup_runs (job, kind, ok, started_at, finished_at, reported_by)
         VALUES ('nightly', 'backup', true, now() - interval '10 minutes', now() - interval '5 minutes', 'test'),
                ('nightly', 'restore_test', true, now() - interval '4 minutes', now() - interval '2 minutes', 'test')",
    )
    .execute(&db)
    .await
    .unwrap();
    worker.refresh_once().await.unwrap();
    let (status, note, who) = latest(&db, ids[0]).await;
    assert_eq!((status.as_str(), who.as_str()), ("done", "portal"));
    assert_eq!(
        note,
        "Backup job 'nightly' is on time, passing and restore-tested."
    );
    assert_eq!(latest(&db, ids[1]).await.0, "open");
}
