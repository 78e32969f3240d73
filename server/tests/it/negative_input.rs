//! Bad input to every form, as an admin (who may write everything): no fields, each field empty,
//! huge, not UTF-8, of the wrong type or sent twice. Each is answered 4xx with a message, and no
//! table of the portal changes (row counts before and after).

use crate::common::{csrf_token, row_counts, settings, spawn_app};
use app::model::Role;
use sqlx::PgPool;

/// One form: where it is posted, a page that carries its token, and its fields with a value of
/// the wrong type for each (text where a number, a date, a choice or a known name belongs).
struct FormCase {
    action: String,
    from: String,
    wrong: Vec<(&'static str, &'static str)>,
}

fn case(action: String, from: &str, wrong: &[(&'static str, &'static str)]) -> FormCase {
    FormCase {
        action,
        from: from.to_string(),
        wrong: wrong.to_vec(),
    }
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn every_form_refuses_bad_input_and_writes_nothing(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    app.sign_in(Role::Admin).await;
    let created = app
        .post_form(
            "/phases",
            "/phases/create",
            &[("number", "PHASE-31"), ("title", "Negative input")],
        )
        .await;
    assert_eq!(created.status(), 303);
    let phase = created.headers()["location"].to_str().unwrap().to_string();
    let added = app
        .post_form(
            &phase,
            &format!("{phase}/deliverables"),
            &[("text", "a deliverable")],
        )
        .await;
    assert_eq!(added.status(), 303);
    let deliverable: i64 = sqlx::query_scalar("SELECT max(id) FROM phase_deliverables")
        .fetch_one(&db)
        .await
        .unwrap();
    let item: i64 = sqlx::query_scalar("SELECT min(id) FROM rollout_items WHERE rollout_id = 1")
        .fetch_one(&db)
        .await
        .unwrap();

    let forms = [
        case(
            "/docs/claim".into(),
            "/docs",
            &[("engine", "x"), ("key", "[]"), ("due", "tomorrow")],
        ),
        case(
            "/docs/release".into(),
            "/docs",
            &[("engine", "x"), ("key", "[]")],
        ),
        case(
            "/docs/verify".into(),
            "/docs",
            &[("path", "../../etc/passwd"), ("note", "n")],
        ),
        case(
            "/grades/assess".into(),
            "/grades",
            &[
                ("category", "Monitoring"),
                ("score", "ninety"),
                ("note", "n"),
                ("evidence_date", "last week"),
            ],
        ),
        case(
            "/grades/override".into(),
            "/grades",
            &[
                ("category", "Nonsense"),
                ("score", "1e999"),
                ("justification", ""),
            ],
        ),
        case(
            "/grades/rubric".into(),
            "/grades",
            &[("weight_Availability", "-5")],
        ),
        case(
            "/phases/import".into(),
            "/phases",
            &[("plan", ""), ("intent", "explode")],
        ),
        case(
            "/phases/create".into(),
            "/phases",
            &[
                ("number", "PHASE-XYZ"),
                ("title", ""),
                ("target_grade", "A+++"),
            ],
        ),
        case(format!("{phase}/deliverables"), &phase, &[("text", "")]),
        case(
            format!("{phase}/deliverables/{deliverable}"),
            &phase,
            &[("status", "finished-ish"), ("link", "javascript:alert(1)")],
        ),
        case(
            format!("{phase}/reports"),
            &phase,
            &[("kind", "poem"), ("body", "")],
        ),
        case(
            format!("{phase}/signoff"),
            &phase,
            &[("decision", "maybe"), ("comment", "")],
        ),
        case(
            "/rollouts".into(),
            "/rollouts",
            &[
                ("template", "999"),
                ("name", ""),
                ("slug", "NOT A SLUG"),
                ("host", ""),
            ],
        ),
        case(
            "/rollouts/1/scores".into(),
            "/rollouts/1",
            &[
                ("candidate", "nobody"),
                ("criterion", "nothing"),
                ("score", "eleven"),
            ],
        ),
        case(
            "/rollouts/1/weights".into(),
            "/rollouts/1",
            &[("w_1", "lots")],
        ),
        case(
            "/rollouts/1/candidates".into(),
            "/rollouts/1",
            &[("name", ""), ("service_match", "")],
        ),
        case(
            "/rollouts/1/decision".into(),
            "/rollouts/1",
            &[("candidate", "nobody"), ("rationale", "")],
        ),
        case(
            format!("/rollouts/1/items/{item}"),
            "/rollouts/1",
            &[("status", "teleported"), ("due_on", "soon")],
        ),
        case("/auth/demo".into(), "/", &[("role", "superuser")]),
    ];

    for form in &forms {
        let (_, page) = app.get_text(&form.from).await;
        let token = csrf_token(&page);
        let names: Vec<&str> = form.wrong.iter().map(|(n, _)| *n).collect();
        let mut variants: Vec<(String, String)> = vec![
            ("no fields".into(), String::new()),
            (
                "empty fields".into(),
                names.iter().map(|n| format!("{n}=&")).collect(),
            ),
            (
                "not UTF-8".into(),
                names.iter().map(|n| format!("{n}=%FF%FEabc&")).collect(),
            ),
            (
                "wrong types".into(),
                form.wrong
                    .iter()
                    .map(|(n, v)| format!("{n}={}&", urlencode(v)))
                    .collect(),
            ),
            (
                "every field twice".into(),
                form.wrong
                    .iter()
                    .map(|(n, v)| format!("{n}={}&{n}=again&", urlencode(v)))
                    .collect(),
            ),
        ];
        let huge = "z".repeat(300 * 1024);
        variants.push((
            "huge".into(),
            names.iter().map(|n| format!("{n}={huge}&")).collect(),
        ));
        for (what, fields) in variants {
            let before = row_counts(&db).await;
            let response = app
                .client
                .post(format!("{}{}", app.url, form.action))
                .header("Origin", &app.url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(format!("{fields}csrf_token={token}"))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            assert!(
                (400..500).contains(&status),
                "{} with {what}: answered {status}",
                form.action
            );
            assert!(
                body.contains("<h1>") || body.contains("class=\"error\"") || body.len() > 20,
                "{} with {what}: no message: {body}",
                form.action
            );
            assert_eq!(
                row_counts(&db).await,
                before,
                "{} with {what} wrote something",
                form.action
            );
        }
    }
}

fn urlencode(value: &str) -> String {
    app::model::service_query::url_encode(value)
}
