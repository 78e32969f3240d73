//! The grade from a real inventory and from admins' assessments and overrides.

use std::sync::Arc;

use crate::common::docker::{Fleet, Spec, docker, socket};
use crate::common::{settings, spawn_app};
use app::model::Role;
use audit_portal::grade::live;
use audit_portal::worker::Worker;
use sqlx::PgPool;
use time::OffsetDateTime;

async fn snapshots(db: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM grade_snapshots")
        .fetch_one(db)
        .await
        .unwrap()
}

async fn category(db: &PgPool, name: &str) -> String {
    let s = settings(&[]);
    let (_, _, result) = live::current(db, &s.docs).await.unwrap();
    result
        .categories
        .iter()
        .find(|c| c.name == name)
        .unwrap()
        .effective
        .to_string()
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn fixing_a_finding_raises_its_category_after_the_next_refresh(db: PgPool) {
    let fleet = Fleet::new("g");
    fleet.run("keeper", &Spec::good());
    fleet.run("flaky", &Spec::good().set("--restart", "no"));
    fleet.wait_health("flaky", "healthy");
    let s = settings(&[("AUDIT_ENGINES", &format!("test=unix://{}", socket()))]);
    let mut worker = Worker::new(db.clone(), Arc::new(s));
    worker.refresh_once().await.unwrap();
    let before = category(&db, "Reliability").await;
    let taken = snapshots(&db).await;
    assert!(taken >= 1, "the refresh took a snapshot");

    docker(&[
        "update",
        "--restart",
        "unless-stopped",
        &fleet.container("flaky"),
    ]);
    worker.refresh_once().await.unwrap();
    let after = category(&db, "Reliability").await;
    assert!(
        after.parse::<f64>().unwrap() > before.parse::<f64>().unwrap(),
        "Reliability {before} → {after}"
    );
    assert_eq!(
        snapshots(&db).await,
        taken + 1,
        "a new snapshot records the change"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn admins_record_assessments_and_overrides_viewers_only_read(db: PgPool) {
    let viewer = spawn_app(db.clone(), settings(&[])).await;
    viewer.sign_in(Role::Viewer).await;
    let (status, page) = viewer.get_text("/grades").await;
    assert_eq!(status, 200);
    assert!(page.contains("<svg role=\"img\" aria-label=\"Production-readiness grade\""));
    assert!(
        page.contains("<svg role=\"img\" aria-label=\"Category scores\""),
        "a chart per category too"
    );
    assert!(
        !page.contains("100%\n</text>"),
        "the grade's axis is in points, not percent"
    );
    assert!(
        page.contains("points out of 100") && page.contains("date (UTC)"),
        "labelled axes"
    );
    assert!(
        page.contains("backup restore never verified"),
        "the Backup/DR cap holds the letter down"
    );
    assert!(
        !page.contains("action=\"/grades/assess\""),
        "a viewer sees no form"
    );
    let today = OffsetDateTime::now_utc().date().to_string();
    let full = [
        ("category", "Backup/DR"),
        ("score", "90"),
        ("note", "restore drill"),
        ("evidence_date", today.as_str()),
    ];
    let refused = viewer.post_form("/grades", "/grades/assess", &full).await;
    assert_eq!(refused.status(), 403);

    let admin = spawn_app(db.clone(), settings(&[])).await;
    admin.sign_in(Role::Admin).await;
    let incomplete = admin
        .post_form("/grades", "/grades/assess", &[("category", "Backup/DR")])
        .await;
    assert_eq!(incomplete.status(), 400);
    assert!(
        incomplete
            .text()
            .await
            .unwrap()
            .contains("The form is incomplete or malformed"),
        "a readable page"
    );
    let form = |score: &'static str, date: String| {
        vec![
            ("category", "Backup/DR".to_string()),
            ("score", score.to_string()),
            ("note", "restore drill of the nightly dump".to_string()),
            ("evidence_date", date),
        ]
    };
    for (score, date, message) in [
        ("101", today.clone(), "outside 0–100"),
        ("90", "2099-01-01".to_string(), "in the future"),
        ("ninety", today.clone(), "not a number"),
    ] {
        let fields = form(score, date);
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = admin.post_form("/grades", "/grades/assess", &fields).await;
        assert_eq!(response.status(), 400, "{score}");
        let page = response.text().await.unwrap();
        assert!(page.contains(message), "{score}: says {message}");
        assert!(
            page.contains("value=\"restore drill of the nightly dump\""),
            "{score}: the note typed is still in the form"
        );
        assert!(
            page.contains(&format!("value=\"{score}\"")),
            "{score}: and the score"
        );
    }
    let saved: i64 = sqlx::query_scalar("SELECT count(*) FROM grade_assessments")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(saved, 0, "nothing was saved");

    let fields = form("90", today.clone());
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        admin
            .post_form("/grades", "/grades/assess", &fields)
            .await
            .status(),
        303
    );
    let (_, page) = admin.get_text("/grades").await;
    assert!(
        !page.contains("backup restore never verified"),
        "the cap lifted"
    );
    assert!(page.contains("restore drill of the nightly dump"));
    assert_eq!(category(&db, "Backup/DR").await, "90.00");

    let missing = admin
        .post_form(
            "/grades",
            "/grades/override",
            &[
                ("category", "Acceptance"),
                ("score", "80"),
                ("justification", " "),
            ],
        )
        .await;
    assert_eq!(missing.status(), 400);
    let ok = admin
        .post_form(
            "/grades",
            "/grades/override",
            &[
                ("category", "Acceptance"),
                ("score", "80"),
                ("justification", "no phase was due yet"),
            ],
        )
        .await;
    assert_eq!(ok.status(), 303);
    let (_, page) = admin.get_text("/grades").await;
    assert!(page.contains("Overridden to 80.00 by Demo admin: no phase was due yet"));
    assert!(
        page.contains("computed 0.00"),
        "the computed value stays visible"
    );

    let (_, csv) = admin.get_text("/grades/history.csv").await;
    assert!(csv.starts_with("taken_at,rubric_version,total,letter,capped_by,availability,"));
    assert!(csv.lines().count() >= 3, "a snapshot per change: {csv}");
    let trail: Vec<String> = sqlx::query_scalar(
        "SELECT action || ':' || outcome FROM audit_log WHERE action LIKE 'grade.%' ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        trail,
        [
            "grade.assess:refused",
            "grade.assess:done",
            "grade.override:done"
        ]
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn rubric_changes_are_validated_and_saved_as_new_versions(db: PgPool) {
    let admin = spawn_app(db.clone(), settings(&[])).await;
    admin.sign_in(Role::Admin).await;
    let names = [
        "Availability",
        "Reliability",
        "Monitoring",
        "Security",
        "Documentation",
        "Backup/DR",
        "Change Control",
        "Acceptance",
    ];
    let submit = |weights: [&'static str; 8], thresholds: &'static str| {
        let mut fields: Vec<(String, String)> = vec![];
        for (i, (n, w)) in names.iter().zip(weights).enumerate() {
            fields.push((format!("name_{i}"), n.to_string()));
            fields.push((format!("weight_{i}"), w.to_string()));
        }
        fields.push(("thresholds".into(), thresholds.into()));
        fields.push(("failing".into(), "failing".into()));
        fields
    };
    let post = |fields: Vec<(String, String)>| {
        let app = &admin;
        async move {
            let borrowed: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            app.post_form("/grades", "/grades/rubric", &borrowed).await
        }
    };
    let letters = "A+++=95, A+=90, A=85, A-=80, B+=75, B=70, C+=65, C=60";
    let bad_sum = post(submit(
        ["25", "10", "12", "15", "15", "10", "8", "10"],
        letters,
    ))
    .await;
    assert_eq!(bad_sum.status(), 400);
    assert!(
        bad_sum
            .text()
            .await
            .unwrap()
            .contains("the weights sum to 105.00, not 100")
    );
    let overlap = post(submit(
        ["20", "10", "12", "15", "15", "10", "8", "10"],
        "A=90, B=90",
    ))
    .await;
    assert_eq!(overlap.status(), 400);
    assert!(overlap.text().await.unwrap().contains("thresholds overlap"));
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM rubric_versions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(versions, 0, "nothing saved");

    let ok = post(submit(
        ["25", "5", "12", "15", "15", "10", "8", "10"],
        letters,
    ))
    .await;
    assert_eq!(ok.status(), 303);
    let (_, page) = admin.get_text("/grades").await;
    assert!(
        page.contains("Rubric version 2."),
        "the new version is in force"
    );
    assert!(page.contains("25.00%"));
    let latest: i32 =
        sqlx::query_scalar("SELECT rubric_version FROM grade_snapshots ORDER BY id DESC LIMIT 1")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(
        latest, 2,
        "history keeps the version each snapshot was scored with"
    );

    // Caps are part of the rubric: a bad line saves nothing, a good one holds the letter down.
    let with_caps = |caps: &'static str| {
        let mut fields = submit(["25", "5", "12", "15", "15", "10", "8", "10"], letters);
        fields.push(("caps".into(), caps.into()));
        fields
    };
    let bad_cap = post(with_caps("backup_unverified = C+\nSpeed < 50 = B")).await;
    assert_eq!(bad_cap.status(), 400);
    let page = bad_cap.text().await.unwrap();
    assert!(page.contains("is not a category of this rubric"));
    assert!(
        page.contains("Speed &lt; 50 = B") || page.contains("Speed < 50 = B"),
        "the refused caps are shown again for correction"
    );
    let ok = post(with_caps("Acceptance < 50 = C")).await;
    assert_eq!(ok.status(), 303);
    let (_, page) = admin.get_text("/grades").await;
    assert!(page.contains("Rubric version 3."));
    assert!(
        page.contains("Acceptance is 0.00, below 50.00: at most C"),
        "the new cap is in force"
    );
    assert!(
        !page.contains("backup restore never verified"),
        "the default caps were replaced"
    );
    let stored: Option<String> =
        sqlx::query_scalar("SELECT caps FROM rubric_versions WHERE version = 3")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(stored.as_deref(), Some("Acceptance < 50.00 = C"));
}
