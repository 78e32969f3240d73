//! The action plan on the private Docker engine: findings become actions ordered by the grade
//! points their fix adds (and the grade does rise by that much once fixed); editors set owner,
//! due date and accepted risk (viewers cannot; bad input changes nothing); an accepted risk
//! expires back to open; a fixed action is done by the portal and reopens when the finding
//! returns; the Markdown and CSV exports list every open action.

use std::sync::Arc;

use crate::common::docker::{Fleet, Spec, docker, socket};
use crate::common::{count, settings, spawn_app};
use app::model::actions::ActionState;
use app::model::{FindingKind, Role};
use audit_portal::worker::Worker;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

/// The latest change of an action: (state, note, who).
async fn latest(db: &PgPool, action: i64) -> Option<(String, String, String)> {
    sqlx::query_as(
        "SELECT state, note, actor_subject FROM action_changes WHERE action_id = $1
         ORDER BY id DESC LIMIT 1",
    )
    .bind(action)
    .fetch_optional(db)
    .await
    .unwrap()
}

async fn action_id(db: &PgPool, kind: FindingKind) -> i64 {
    sqlx::query_scalar("SELECT id FROM actions WHERE kind = $1")
        .bind(kind.slug())
        .fetch_one(db)
        .await
        .unwrap()
}

async fn audit_records(db: &PgPool, outcome: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'action.update' AND outcome = $1",
    )
    .bind(outcome)
    .fetch_one(db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn the_action_plan_follows_the_findings_and_is_worth_its_points(db: PgPool) {
    let fleet = Fleet::new("ac");
    fleet.run("loose", &Spec::good().set("--restart", "no"));
    fleet.run("unbounded", &Spec::good().without("--memory"));
    fleet.wait_health("loose", "healthy");
    fleet.wait_health("unbounded", "healthy");
    let engines = format!("test=unix://{}", socket());
    let s = settings(&[("AUDIT_ENGINES", &engines)]);
    let mut worker = Worker::new(db.clone(), Arc::new(s.clone()));
    worker.refresh_once().await.unwrap();

    // One action per finding kind and service, opened by the refresh, nothing decided yet.
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM actions ORDER BY kind")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(kinds, vec!["no_memory_limit", "no_restart_policy"]);
    let restart = action_id(&db, FindingKind::NoRestartPolicy).await;
    let memory = action_id(&db, FindingKind::NoMemoryLimit).await;
    assert_eq!(count(&db, "action_changes").await, 0);

    // Ordered by points: a restart policy counts for Reliability, a memory limit for no
    // category of the grade.
    let plan = audit_portal::actions::plan::load(&db, &s, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let order: Vec<(FindingKind, bool)> =
        plan.open.iter().map(|a| (a.kind, a.points > 0)).collect();
    assert_eq!(
        order,
        vec![
            (FindingKind::NoRestartPolicy, true),
            (FindingKind::NoMemoryLimit, false)
        ]
    );
    let restart_points = plan.open[0].points;
    let grade_before = plan.grade_now;
    assert_eq!(plan.grade_if_all_fixed, grade_before + restart_points);

    let app = spawn_app(db.clone(), s.clone()).await;
    app.sign_in(Role::Viewer).await;
    let (status, page) = app.get_text("/actions").await;
    assert_eq!(status, 200);
    // Titled by the service's display name (the compose service here).
    let loose = "No restart policy: loose".to_string();
    let unbounded = "No memory limit: unbounded".to_string();
    let position = |text: &str| {
        page.find(text)
            .unwrap_or_else(|| panic!("{text} not in {page}"))
    };
    let (at_loose, at_unbounded) = (position(&loose), position(&unbounded));
    assert!(at_loose < at_unbounded, "most points first");
    assert!(page.contains(&format!(
        "+{}.{:02}",
        restart_points / 100,
        restart_points % 100
    )));
    assert!(!page.contains("Change #"), "a viewer gets no form");

    // A viewer's change is refused on the server, and only the refusal is recorded.
    let path = format!("/actions/{memory}");
    let response = app
        .post_form("/actions", &path, &[("state", "open"), ("owner", "ops")])
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(count(&db, "action_changes").await, 0);
    assert_eq!(audit_records(&db, "refused").await, 1);

    app.sign_in(Role::Editor).await;
    // The rows are rendered once per state of the data; each page puts its own token in their
    // forms, and the row's token is the one its form sends.
    let row_token = |page: &str| {
        let form = page
            .find(&format!("action=\"{path}\""))
            .unwrap_or_else(|| panic!("no form for {path} in {page}"));
        crate::common::csrf_token(&page[form..])
    };
    let (_, editor_page) = app.get_text("/actions").await;
    assert!(!editor_page.contains(app::pages::actions::CSRF_PLACEHOLDER));
    let token = row_token(&editor_page);
    let (_, again) = app.get_text("/actions").await;
    assert_ne!(token, row_token(&again), "masked afresh for every page");
    // Bad input says why and changes nothing: an accepted risk without a reason.
    let tomorrow = (OffsetDateTime::now_utc().date() + Duration::days(1)).to_string();
    let response = app
        .client
        .post(format!("{}{path}", app.url))
        .header("Origin", &app.url)
        .form(&[
            ("state", "accepted"),
            ("risk_expires_on", tomorrow.as_str()),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("needs its reason"));
    assert_eq!(count(&db, "action_changes").await, 0);
    assert_eq!(audit_records(&db, "done").await, 0);

    // Accepted until tomorrow, with an owner: recorded with its audit record.
    let acceptance = [
        ("state", "accepted"),
        ("owner", "ops team"),
        ("reason", "The sidecar is sized by its image"),
        ("risk_expires_on", tomorrow.as_str()),
        ("effort", "longer"),
    ];
    let response = app.post_form("/actions", &path, &acceptance).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        latest(&db, memory).await.unwrap().0,
        ActionState::Accepted.as_str()
    );
    assert_eq!(audit_records(&db, "done").await, 1);
    let (_, page) = app.get_text("/actions").await;
    assert!(page.contains(&format!("accepted risk until {tomorrow}")));
    assert!(page.contains("longer (set)"));
    // The plan narrowed to an owner, or to a kind of finding.
    let (_, page) = app.get_text("/actions?owner=OPS+team").await;
    assert!(page.contains(&unbounded) && !page.contains(&loose));
    let (_, page) = app
        .get_text("/actions?owner=none&kind=no_restart_policy")
        .await;
    assert!(page.contains(&loose) && !page.contains(&unbounded));

    // A due date already past marks the action overdue, on the plan and on the dashboard.
    let yesterday = (OffsetDateTime::now_utc().date() - Duration::days(1)).to_string();
    let response = app
        .post_form(
            "/actions",
            &format!("/actions/{restart}"),
            &[
                ("state", "open"),
                ("owner", "ops team"),
                ("due_on", &yesterday),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let (_, page) = app.get_text("/actions").await;
    assert!(page.contains(&format!("{yesterday} (overdue)")));
    let (_, dashboard) = app.get_text("/").await;
    assert!(
        dashboard.contains("open action(s), most grade points first; 1 accepted risk(s).")
            && dashboard.contains("1 overdue."),
        "{dashboard}"
    );
    assert_eq!(audit_records(&db, "done").await, 2);

    // The service's own page lists its action, linking to the plan.
    let service_page = format!(
        "/services/test/{}",
        fleet.key("unbounded").replace('/', "%2F")
    );
    let (status, page) = app.get_text(&service_page).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!(
            "No memory limit: accepted risk until {tomorrow}, owner ops team"
        )),
        "{page}"
    );
    assert!(page.contains(&format!("href=\"/actions#action-{memory}\"")));

    // The same again changes nothing, and a refused write inside the unit of work leaves no
    // audit record.
    let response = app.post_form("/actions", &path, &acceptance).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("Nothing changed"));
    assert_eq!(audit_records(&db, "done").await, 2);

    // The exports list every open action; the accepted risk has its own section.
    let response = app.get("/actions/ACTION_PLAN_TODO.md").await;
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"ACTION_PLAN_TODO.md\""
    );
    let markdown = response.text().await.unwrap();
    let escaped = |text: &str| text.replace('_', "\\_");
    let open_lines: Vec<&str> = markdown
        .lines()
        .filter(|l| l.starts_with("- [ ]"))
        .collect();
    assert_eq!(open_lines.len(), 2, "{markdown}");
    assert!(open_lines[0].contains(&escaped(&loose)), "{markdown}");
    assert!(markdown.contains("## Accepted risks (1)"), "{markdown}");
    assert!(open_lines[1].contains(&format!("accepted until {tomorrow}")));
    let (_, csv) = app.get_text("/actions.csv").await;
    assert_eq!(csv.lines().count(), 3, "a header and two actions: {csv}");

    // Two days on, the accepted risk has expired: the worker's step opens it again.
    audit_portal::actions::sync::run(&db, OffsetDateTime::now_utc() + Duration::days(2))
        .await
        .unwrap();
    let (state, note, who) = latest(&db, memory).await.unwrap();
    assert_eq!((state.as_str(), who.as_str()), ("open", "portal"));
    assert!(note.contains("expired"), "{note}");
    let owner: Option<String> = sqlx::query_scalar(
        "SELECT owner FROM action_changes WHERE action_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(memory)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(owner.as_deref(), Some("ops team"), "the owner is kept");

    // Fixed on the engine: done by the portal, and the grade rose by the points promised.
    docker(&[
        "update",
        "--restart",
        "unless-stopped",
        &fleet.container("loose"),
    ]);
    worker.refresh_once().await.unwrap();
    let (state, note, who) = latest(&db, restart).await.unwrap();
    assert_eq!((state.as_str(), who.as_str()), ("done", "portal"));
    assert_eq!(
        note,
        "Verified: the service no longer has no_restart_policy."
    );
    let plan = audit_portal::actions::plan::load(&db, &s, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(plan.grade_now, grade_before + restart_points);
    assert_eq!(plan.done.len(), 1);
    assert_eq!(plan.open.len(), 1);

    // A done action takes no change by hand, and nothing is recorded for the attempt.
    let response = app
        .post_form(
            "/actions",
            &format!("/actions/{restart}"),
            &[("state", "open"), ("owner", "me")],
        )
        .await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This action is done")
    );
    assert_eq!(audit_records(&db, "done").await, 2);

    // The policy removed again: the same action reopens, with the fact.
    docker(&["update", "--restart", "no", &fleet.container("loose")]);
    worker.refresh_once().await.unwrap();
    let (state, note, _) = latest(&db, restart).await.unwrap();
    assert_eq!(
        (state.as_str(), note.as_str()),
        ("open", "Reopened: no_restart_policy is back.")
    );
    assert_eq!(count(&db, "actions").await, 2, "the same two actions");
    // A refresh with nothing new records nothing.
    let changes = count(&db, "action_changes").await;
    worker.refresh_once().await.unwrap();
    assert_eq!(count(&db, "action_changes").await, changes);
}

/// The unit of work every person's write goes through: when the work fails, by a refusal or by
/// the database, neither the change nor its audit record is kept.
#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_failed_write_leaves_neither_the_change_nor_its_record(db: PgPool) {
    use audit_portal::audited::{self, Change, Stopped};
    let actor = audit_portal::auth::SessionUser::command_line();
    let change = || Change::<(), ()> {
        actor: &actor,
        action: "test.write",
        target: "actions",
        before: None,
        after: None,
    };
    let insert = "INSERT INTO actions (kind, service_id) VALUES ('no_cpu_limit', NULL)";

    // The work writes, then refuses.
    let refused = audited::write(&db, change(), async |conn| -> Result<(), Stopped> {
        sqlx::query(insert).execute(&mut *conn).await?;
        Err(Stopped::Refused("no".into()))
    })
    .await;
    assert!(matches!(refused, Err(Stopped::Refused(_))));
    // The work writes, then the database refuses (an accepted risk without its reason).
    let failed = audited::write(&db, change(), async |conn| -> sqlx::Result<()> {
        sqlx::query(insert).execute(&mut *conn).await?;
        sqlx::query(
            "INSERT INTO action_changes (action_id, state, actor_subject, actor_name)
             SELECT id, 'accepted', 'x', 'x' FROM actions",
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    })
    .await;
    assert!(failed.is_err());
    assert_eq!(count(&db, "actions").await, 0);
    assert_eq!(count(&db, "action_changes").await, 0);
    assert_eq!(count(&db, "audit_log").await, 0);

    // The same write that succeeds keeps both.
    audited::write(&db, change(), async |conn| -> sqlx::Result<()> {
        sqlx::query(insert).execute(&mut *conn).await?;
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(count(&db, "actions").await, 1);
    assert_eq!(count(&db, "audit_log").await, 1);
}
