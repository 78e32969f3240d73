//! Phase sign-off end to end over HTTP: import with preview, deliverables with evidence,
//! reports, sign-offs with fresh authentication, and the tamper-evident chain.

use std::time::Duration;

use crate::common::{TestApp, settings, spawn_app};
use app::model::Role;
use audit_portal::auth::SessionUser;
use audit_portal::phases::chain::{self, ChainCheck};
use audit_portal::phases::signoff::{self, Decision};
use sqlx::PgPool;

const PLAN: &str = "\
# 🚀 PHASE-05: Backups that restore

**Target Grade**: 85/100
**Due**: 2026-12-01

## 🎯 Objectives
- Every database is backed up nightly

## Deliverables
- [x] Restic repository on lady
- [ ] Nightly Postgres dump
  - [ ] Alert when a dump fails

## Success Criteria
- A restore was tested this month
";

async fn count(db: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(db)
        .await
        .unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Imports `plan` and returns the new phase's id.
async fn import(app: &TestApp, plan: &str) -> i64 {
    let response = app
        .post_form(
            "/phases",
            "/phases/import",
            &[("plan", plan), ("intent", "import")],
        )
        .await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    location(&response)
        .strip_prefix("/phases/")
        .unwrap()
        .parse()
        .unwrap()
}

async fn deliverable_ids(db: &PgPool, phase: i64) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT id, text FROM phase_deliverables WHERE phase_id = $1 ORDER BY position")
        .bind(phase)
        .fetch_all(db)
        .await
        .unwrap()
}

async fn set_status(
    app: &TestApp,
    phase: i64,
    deliverable: i64,
    status: &str,
    note: &str,
) -> reqwest::Response {
    app.post_form(
        &format!("/phases/{phase}"),
        &format!("/phases/{phase}/deliverables/{deliverable}"),
        &[
            ("status", status),
            ("note", note),
            ("link", ""),
            ("report", ""),
        ],
    )
    .await
}

async fn sign(app: &TestApp, phase: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form(
        &format!("/phases/{phase}"),
        &format!("/phases/{phase}/signoff"),
        fields,
    )
    .await
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_preview_writes_nothing_and_an_import_writes_the_plan(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Editor).await;

    let response = app
        .post_form(
            "/phases",
            "/phases/import",
            &[("plan", PLAN), ("intent", "preview")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Preview: what the importer understood"),
        "{page}"
    );
    assert!(page.contains("3 (1 checked)"), "{page}");
    assert!(page.contains("PHASE-05"));
    assert!(
        page.contains("Deliverables › Nightly Postgres dump")
            || page.contains("Alert when a dump fails")
    );
    assert_eq!(count(&db, "phases").await, 0, "a preview writes nothing");

    let id = import(&app, PLAN).await;
    let rows: Vec<(String, i16, String)> = sqlx::query_as(
        "SELECT d.text, d.depth, e.status FROM phase_deliverables d
         JOIN deliverable_events e ON e.deliverable_id = d.id WHERE d.phase_id = $1 ORDER BY d.position",
    )
    .bind(id)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            (
                "Restic repository on lady".to_string(),
                0,
                "done".to_string()
            ),
            ("Nightly Postgres dump".to_string(), 0, "open".to_string()),
            ("Alert when a dump fails".to_string(), 1, "open".to_string()),
        ]
    );
    let (target, due): (Option<i32>, Option<time::Date>) =
        sqlx::query_as("SELECT target_grade, due_on FROM phases WHERE id = $1")
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(target, Some(8_500));
    assert_eq!(due, Some(time::macros::date!(2026 - 12 - 01)));
    let (status, page) = app.get_text(&format!("/phases/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Every database is backed up nightly"));
    let (status, source) = app.get_text(&format!("/phases/{id}/plan.md")).await;
    assert_eq!((status, source.as_str()), (200, PLAN));

    // The same number again, an empty plan, binary: refused with a reason, nothing written.
    for (plan, message) in [
        (PLAN, "PHASE-05 exists already"),
        ("   ", "The plan is empty."),
        ("just prose", "Nothing to import"),
    ] {
        let response = app
            .post_form(
                "/phases",
                "/phases/import",
                &[("plan", plan), ("intent", "import")],
            )
            .await;
        assert_eq!(response.status(), 400);
        let page = response.text().await.unwrap();
        assert!(page.contains(message), "{message}: {page}");
    }
    assert_eq!(count(&db, "phases").await, 1);
    assert_eq!(count(&db, "phase_deliverables").await, 3);
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn viewers_cannot_import_and_editors_cannot_sign_off(db: PgPool) {
    let editor = spawn_app(db.clone(), settings(&[])).await;
    editor.sign_in(Role::Editor).await;
    let id = import(&editor, PLAN).await;
    let page = editor.get_text(&format!("/phases/{id}")).await.1;
    assert!(
        !page.contains("Sign off this phase"),
        "editors see no sign-off form"
    );
    let response = sign(&editor, id, &[("decision", "rejected"), ("reasons", "no")]).await;
    assert_eq!(response.status(), 403);

    let viewer = spawn_app(db.clone(), settings(&[])).await;
    viewer.sign_in(Role::Viewer).await;
    let page = viewer.get_text(&format!("/phases/{id}")).await.1;
    assert!(!page.contains("Sign off this phase") && !page.contains("Update status and evidence"));
    let response = viewer
        .post_form(
            "/phases",
            "/phases/import",
            &[("plan", "# PHASE-06 x\n- [ ] y"), ("intent", "import")],
        )
        .await;
    assert_eq!(response.status(), 403);
    let response = sign(&viewer, id, &[("decision", "rejected"), ("reasons", "no")]).await;
    assert_eq!(response.status(), 403);

    assert_eq!(count(&db, "phase_signoffs").await, 0);
    assert_eq!(count(&db, "phases").await, 1);
    let refused: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE outcome = 'refused' AND action IN ('phase.sign_off', 'phase.import')",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(refused, 3);
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn approval_waits_for_every_deliverable_and_evidence_is_required(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Admin).await;
    let id = import(&app, PLAN).await;
    let items = deliverable_ids(&db, id).await;

    let response = sign(
        &app,
        id,
        &[("decision", "approved"), ("comment", "ship it")],
    )
    .await;
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(
        page.contains(
            "2 deliverable(s) are still open: Nightly Postgres dump; Alert when a dump fails"
        ),
        "{page}"
    );
    assert!(page.contains("ship it"), "the comment is kept in the form");
    assert_eq!(count(&db, "phase_signoffs").await, 0);

    let response = set_status(&app, id, items[1].0, "done", "").await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("needs evidence"));
    let response = set_status(&app, id, items[2].0, "waived", "").await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("needs a reason"));
    assert_eq!(
        count(&db, "deliverable_events").await,
        3,
        "refusals write nothing"
    );

    assert_eq!(
        set_status(
            &app,
            id,
            items[1].0,
            "done",
            "pg_dump timer runs at 02:00, see journal"
        )
        .await
        .status(),
        303
    );
    assert_eq!(
        set_status(
            &app,
            id,
            items[2].0,
            "waived",
            "Alertmanager arrives in PHASE-06"
        )
        .await
        .status(),
        303
    );
    let page = app.get_text(&format!("/phases/{id}")).await.1;
    assert!(
        page.contains("History (2 changes)"),
        "each deliverable keeps its history"
    );
    assert!(page.contains("waived by Demo admin"));
    assert!(
        page.contains("open by Demo admin"),
        "the imported state stays listed"
    );
    let response = sign(
        &app,
        id,
        &[("decision", "approved"), ("comment", "ship it")],
    )
    .await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let record = location(&response);
    assert!(record.starts_with(&format!("/phases/{id}/signoffs/")));
    let (status, page) = app.get_text(&record).await;
    assert_eq!(status, 200);
    assert!(page.contains("Acceptance record: PHASE-05"));
    assert!(page.contains("approved"));
    let (status, markdown) = app.get_text(&format!("{record}/record.md")).await;
    assert_eq!(status, 200);
    assert!(markdown.starts_with("# Acceptance record: PHASE-05"));
    let hash: String = sqlx::query_scalar("SELECT hash FROM phase_signoffs")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(markdown.contains(&hash), "the record names its hash");

    // Acceptance: one due phase, signed off.
    let s = settings(&[]);
    let (_, _, result) = audit_portal::grade::live::current(&db, &s.docs)
        .await
        .unwrap();
    let acceptance = result
        .categories
        .iter()
        .find(|c| c.name == "Acceptance")
        .unwrap();
    assert_eq!(acceptance.effective.to_string(), "100.00");
    let list = app.get_text("/phases").await.1;
    assert!(list.contains("signed off"));
    // The grade chart marks the approval where it happened.
    let grades = app.get_text("/grades").await.1;
    let chart = &grades[grades
        .find("aria-label=\"Production-readiness grade\"")
        .unwrap()..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    assert!(chart.contains("\nPHASE-05\n"), "a marker names the phase");
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_conditional_sign_off_adds_remediation_and_a_later_approval_supersedes_it(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Admin).await;
    let id = import(&app, "# PHASE-07 Small\n- [x] one thing\n").await;

    let response = sign(
        &app,
        id,
        &[("decision", "conditional"), ("remediation", "only text")],
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Remediation line 1")
    );
    let response = sign(
        &app,
        id,
        &[
            ("decision", "conditional"),
            ("comment", "nearly"),
            (
                "remediation",
                "Document the restore | erin | 2026-12-10\nRotate the key | alice | 2026-12-12",
            ),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let remediation: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT d.text, d.owner, e.status FROM phase_deliverables d JOIN deliverable_events e ON e.deliverable_id = d.id
         WHERE d.origin = 'remediation' ORDER BY d.position",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        remediation,
        vec![
            ("Document the restore".into(), "erin".into(), "open".into()),
            ("Rotate the key".into(), "alice".into(), "open".into()),
        ]
    );
    let response = sign(&app, id, &[("decision", "approved")]).await;
    assert_eq!(response.status(), 400, "remediation blocks approval");
    for (did, _) in deliverable_ids(&db, id).await.into_iter().skip(1) {
        assert_eq!(
            set_status(&app, id, did, "done", "done, see runbook")
                .await
                .status(),
            303
        );
    }
    let response = sign(&app, id, &[("decision", "approved")]).await;
    assert_eq!(response.status(), 303);

    let decisions: Vec<(i64, String, Option<i64>)> =
        sqlx::query_as("SELECT seq, decision, supersedes FROM phase_signoffs ORDER BY seq")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(decisions.len(), 2, "the conditional sign-off stays");
    assert_eq!(decisions[0].1, "conditional");
    assert_eq!(decisions[1].1, "approved");
    assert!(
        decisions[1].2.is_some(),
        "the approval supersedes the conditional sign-off"
    );
    let first: i64 = sqlx::query_scalar("SELECT id FROM phase_signoffs WHERE seq = 1")
        .fetch_one(&db)
        .await
        .unwrap();
    let page = app
        .get_text(&format!("/phases/{id}/signoffs/{first}"))
        .await
        .1;
    assert!(page.contains("A later sign-off of this phase supersedes this record"));

    // The database itself refuses edits and deletions.
    let update = sqlx::query("UPDATE phase_signoffs SET comment = 'changed'")
        .execute(&db)
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM phase_signoffs").execute(&db).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn an_edit_behind_the_portals_back_is_named_by_verify(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Admin).await;
    for n in 1..=3 {
        let id = import(&app, &format!("# PHASE-0{n} Thing {n}\n- [x] done\n")).await;
        assert_eq!(
            sign(&app, id, &[("decision", "approved")]).await.status(),
            303
        );
    }
    let page = app.get_text("/phases/verify").await.1;
    assert!(page.contains("Intact."), "{page}");
    assert!(page.contains("All 3 sign-off record(s)"));

    // Someone with the table owner's rights switches the guard off and rewrites record 2.
    sqlx::query("ALTER TABLE phase_signoffs DISABLE TRIGGER phase_signoffs_append_only")
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("UPDATE phase_signoffs SET decision = 'rejected' WHERE seq = 2")
        .execute(&db)
        .await
        .unwrap();
    let page = app.get_text("/phases/verify").await.1;
    assert!(page.contains("Broken."), "{page}");
    assert!(page.contains("Record #2 (PHASE-02"), "{page}");
    assert!(page.contains("changed after it was signed"));
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn removing_the_last_sign_off_is_caught_by_the_audit_trail(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Admin).await;
    for n in 1..=2 {
        let id = import(&app, &format!("# PHASE-2{n} Tail {n}\n- [x] done\n")).await;
        assert_eq!(
            sign(&app, id, &[("decision", "approved")]).await.status(),
            303
        );
    }
    sqlx::query("ALTER TABLE phase_signoffs DISABLE TRIGGER phase_signoffs_append_only")
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("DELETE FROM phase_signoffs WHERE seq = 2")
        .execute(&db)
        .await
        .unwrap();
    // What is left still links up; the audit trail remembers record 2.
    let page = app.get_text("/phases/verify").await.1;
    assert!(page.contains("Broken."), "{page}");
    assert!(
        page.contains("Record #2: the audit trail recorded this sign-off"),
        "{page}"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn concurrent_sign_offs_leave_one_unbroken_chain(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Editor).await;
    let mut phases = Vec::new();
    for n in 1..=4 {
        let id = import(&app, &format!("# PHASE-1{n} Parallel {n}\n- [x] done\n")).await;
        phases.push(
            audit_portal::phases::queries::summary(&db, id)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let signer = SessionUser {
        issuer: "local-demo".into(),
        subject: "demo-admin".into(),
        username: None,
        name: Some("Demo admin".into()),
        email: None,
        groups: vec![],
        role: Some(Role::Admin),
        auth_time: 0,
        signed_in_at: 0,
    };
    let docs = settings(&[]).docs;
    let mut tasks = Vec::new();
    for i in 0..32 {
        let (db, docs, signer, phase) = (
            db.clone(),
            docs.clone(),
            signer.clone(),
            phases[i % 4].clone(),
        );
        tasks.push(tokio::spawn(async move {
            let decision =
                Decision::parse("rejected", &format!("attempt {i}"), "parallel test", "").unwrap();
            match signoff::sign(&db, &docs, &phase, &decision, &signer).await {
                Ok(record) => record.seq,
                Err(e) => panic!("sign-off {i} failed: {e:?}"),
            }
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=32).collect::<Vec<i64>>());
    let records = audit_portal::phases::signoff_queries::chain(&db)
        .await
        .unwrap();
    assert_eq!(chain::verify(&records), ChainCheck::Intact { records: 32 });
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_stale_sign_in_is_sent_back_to_sign_in_and_the_decision_is_kept(db: PgPool) {
    let mut s = settings(&[]);
    s.auth.reauth_max_age = Duration::from_secs(1);
    let app = spawn_app(db.clone(), s).await;
    app.sign_in(Role::Admin).await;
    let id = import(&app, "# PHASE-20 Fresh\n- [x] done\n").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let response = sign(
        &app,
        id,
        &[
            ("decision", "approved"),
            ("comment", "written before the timeout"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        format!("/auth/login?fresh=1&next=/phases/{id}")
    );
    assert_eq!(
        count(&db, "phase_signoffs").await,
        0,
        "nothing is signed on a stale sign-in"
    );
    let (status, page) = app
        .get_text(&format!("/auth/login?fresh=1&next=/phases/{id}"))
        .await;
    assert_eq!(status, 200, "signed in, yet asked to sign in again");
    assert!(page.contains("Sign in as demo admin"));

    app.sign_in(Role::Admin).await;
    let page = app.get_text(&format!("/phases/{id}")).await.1;
    assert!(page.contains("You signed in again"), "{page}");
    assert!(
        page.contains("written before the timeout"),
        "the draft is kept"
    );
    let response = sign(
        &app,
        id,
        &[
            ("decision", "approved"),
            ("comment", "written before the timeout"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).contains("/signoffs/"));
    assert_eq!(count(&db, "phase_signoffs").await, 1);
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn reports_render_safely_and_verification_is_independent(db: PgPool) {
    let editor = spawn_app(db.clone(), settings(&[])).await;
    editor.sign_in(Role::Editor).await;
    let id = import(&editor, PLAN).await;
    let items = deliverable_ids(&db, id).await;
    let path = format!("/phases/{id}/reports");
    let response = editor
        .post_form(
            &format!("/phases/{id}"),
            &path,
            &[
                ("kind", "completion"),
                ("body", "All done. <script>alert(1)</script> **bold**"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let page = editor.get_text(&format!("/phases/{id}")).await.1;
    assert!(page.contains("<strong>bold</strong>"));
    assert!(!page.contains("<script>alert(1)"), "Markdown is sanitized");

    let verdict = format!("verdict_{}", items[0].0);
    let disputed = format!("verdict_{}", items[1].0);
    let response = editor
        .post_form(
            &format!("/phases/{id}"),
            &path,
            &[
                ("kind", "verification"),
                ("body", "I checked"),
                (verdict.as_str(), "confirmed"),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        400,
        "the author cannot verify their own report"
    );
    let page = response.text().await.unwrap();
    assert!(page.contains("must be independent"));
    assert!(
        page.contains(">I checked</textarea>"),
        "the refused report is kept in its form"
    );
    assert!(
        page.contains("<option value=\"confirmed\" selected"),
        "with its verdicts"
    );

    let admin = spawn_app(db.clone(), settings(&[])).await;
    admin.sign_in(Role::Admin).await;
    let response = admin
        .post_form(
            &format!("/phases/{id}"),
            &path,
            &[
                ("kind", "verification"),
                ("body", "Checked on lady."),
                (verdict.as_str(), "confirmed"),
                (disputed.as_str(), "disputed"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let claims: serde_json::Value =
        sqlx::query_scalar("SELECT claims FROM phase_reports WHERE kind = 'verification'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(claims[0]["verdict"], "confirmed");
    assert_eq!(claims[1]["text"], "Nightly Postgres dump");
    assert_eq!(claims[1]["verdict"], "disputed");
}

/// A multipart/form-data body as a browser sends a file upload.
fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----audit-portal-test-boundary";
    let mut body = Vec::new();
    for (name, filename, content) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/markdown\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn an_uploaded_plan_is_previewed_and_needs_the_csrf_token(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Editor).await;
    let token = crate::common::csrf_token(&app.get_text("/phases").await.1);
    // Windows-1252 bytes as another tool saved them: "Café" with é as the single byte 0xE9.
    let mut file = b"# PHASE-08 Upload\n- [ ] Caf".to_vec();
    file.push(0xE9);
    file.extend_from_slice(b" menu\n");
    let upload = |fields: Vec<(&'static str, Option<&'static str>, Vec<u8>)>| {
        let app = &app;
        async move {
            let borrowed: Vec<(&str, Option<&str>, &[u8])> = fields
                .iter()
                .map(|(n, f, c)| (*n, *f, c.as_slice()))
                .collect();
            let (content_type, body) = multipart(&borrowed);
            app.client
                .post(format!("{}/phases/upload", app.url))
                .header("Origin", &app.url)
                .header("Content-Type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let response = upload(vec![
        ("csrf_token", None, token.clone().into_bytes()),
        ("plan_file", Some("PHASE-08.md"), file.clone()),
    ])
    .await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Preview: what the importer understood"),
        "{page}"
    );
    assert!(page.contains("1 (0 checked)"));
    assert!(
        page.contains("Café menu"),
        "the Windows-1252 byte is read as é"
    );
    assert!(
        page.contains("were not UTF-8 and were read as Windows-1252"),
        "and that is reported"
    );
    assert!(
        page.contains("# PHASE-08 Upload"),
        "the text is in the form, ready to import"
    );
    assert_eq!(count(&db, "phases").await, 0, "an upload only previews");

    let response = upload(vec![("plan_file", Some("PHASE-08.md"), file)]).await;
    assert_eq!(response.status(), 403, "no token, no upload");
    let response = upload(vec![
        ("csrf_token", None, token.into_bytes()),
        ("plan_file", Some("empty.md"), vec![]),
    ])
    .await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Choose a Markdown file")
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_plans_grade_claims_are_set_against_the_measured_grade(db: PgPool) {
    // The portal had measured 72.40 an hour before the plan arrived claiming 91.
    sqlx::query(
        "INSERT INTO grade_snapshots (taken_at, rubric_version, total, letter, categories)
         VALUES (now() - interval '1 hour', 1, 7240, 'C', '[]')",
    )
    .execute(&db)
    .await
    .unwrap();
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Admin).await;
    let id = import(
        &app,
        "# PHASE-09: Claims under test\n\n**Current Grade**: 91/100\n**Target Grade**: 93/100\n\n\
         ## Deliverables\n- [x] Everything done already\n",
    )
    .await;
    let (_, _, grade) = audit_portal::grade::live::current(&db, &settings(&[]).docs)
        .await
        .unwrap();
    let measured = grade.total.shown();
    assert!(
        measured.parse::<f64>().unwrap() < 93.0,
        "this test needs a measured grade below the target: {measured}"
    );

    let (status, page) = app.get_text(&format!("/phases/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Claimed versus measured"), "{page}");
    assert!(page.contains("91.00 (measured at import: 72.40)"), "{page}");
    assert!(
        page.contains(&format!("<dt>Measured now</dt><dd>{measured}</dd>")),
        "{page}"
    );
    assert!(page.contains(
        "The plan claimed 91.00 at its start; the portal measured 72.40 when it was imported."
    ));
    assert!(
        page.contains(&format!(
            "The measured grade, {measured}, is below the target of 93.00"
        )),
        "the sign-off form warns: {page}"
    );
    let (_, dashboard) = app.get_text("/").await;
    assert!(
        dashboard.contains("Claims the evidence contradicts") && dashboard.contains("PHASE-09"),
        "{dashboard}"
    );

    let response = sign(
        &app,
        id,
        &[("decision", "approved"), ("comment", "as planned")],
    )
    .await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let record = location(&response);
    let (_, page) = app.get_text(&record).await;
    let side_by_side = format!("claimed 91.00 · target 93.00 · measured {measured}");
    assert!(page.contains(&side_by_side), "the record says it: {page}");
    let (_, markdown) = app.get_text(&format!("{record}/record.md")).await;
    assert!(markdown.contains(&side_by_side), "{markdown}");
    let (_, page) = app.get_text(&format!("/phases/{id}")).await;
    assert!(
        page.contains(&format!(
            "Signed off at a measured {measured}, below the target of 93.00."
        )),
        "{page}"
    );
    // Verifying the chain still passes: the new fields are part of the hashed evidence.
    let (_, verify) = app.get_text("/phases/verify").await;
    assert!(
        verify.contains("intact") || verify.contains("Intact"),
        "{verify}"
    );

    // The page reads the grade from the read model: a change of the grade shows on the next view.
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let assessed = app
        .post_form(
            "/grades",
            "/grades/assess",
            &[
                ("category", "Backup/DR"),
                ("score", "90"),
                ("note", "restore drill of the nightly dump"),
                ("evidence_date", &today),
            ],
        )
        .await;
    assert_eq!(assessed.status(), 303);
    let (_, _, regraded) = audit_portal::grade::live::current(&db, &settings(&[]).docs)
        .await
        .unwrap();
    let measured_after = regraded.total.shown();
    assert_ne!(measured_after, measured, "the assessment moved the grade");
    let (_, page) = app.get_text(&format!("/phases/{id}")).await;
    assert!(
        page.contains(&format!("<dt>Measured now</dt><dd>{measured_after}</dd>")),
        "{page}"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn items_whose_words_promise_a_check_are_bound_at_import(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Editor).await;
    let plan = "# PHASE-12: Suggested checks\n\n## Deliverables\n\
                - [x] Documentation coverage 99%\n- [ ] Grade 0/100 reached\n- [ ] Import tested\n";
    let response = app
        .post_form(
            "/phases",
            "/phases/import",
            &[("plan", plan), ("intent", "preview")],
        )
        .await;
    let preview = response.text().await.unwrap();
    assert!(
        preview.contains("checked by the portal: documentation coverage at least 99.00%"),
        "the preview says what the import will bind: {preview}"
    );
    let id = import(&app, plan).await;
    let latest: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT e.status, e.note, e.actor_subject FROM phase_deliverables d
         JOIN LATERAL (SELECT * FROM deliverable_events WHERE deliverable_id = d.id
                       ORDER BY id DESC LIMIT 1) e ON true
         WHERE d.phase_id = $1 ORDER BY d.position",
    )
    .bind(id)
    .fetch_all(&db)
    .await
    .unwrap();
    // The plan ticked the coverage item; the evidence reopens it, with the fact.
    assert_eq!(
        latest[0],
        (
            "open".to_string(),
            "Documentation coverage is 0.00% (asked: at least 99.00%).".to_string(),
            "portal".to_string()
        )
    );
    assert_eq!(
        (latest[1].0.as_str(), latest[1].2.as_str()),
        ("done", "portal")
    );
    assert_eq!(
        latest[2].0, "open",
        "an item that promises no check stays a person's"
    );
    let bound: i64 = sqlx::query_scalar("SELECT count(*) FROM deliverable_checks")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(bound, 2);
}
