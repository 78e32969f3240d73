//! `/api/v1` on a real inventory: every read endpoint's answer is checked against the OpenAPI
//! document the portal serves, its figures against the database, its filters and pagination
//! against what they select; bad queries, missing or weak tokens are refused with JSON errors.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::common::docker::{Fleet, Spec, socket};
use crate::common::{new_client, settings, spawn_app};
use app::model::Role;
use audit_portal::auth::session::SessionUser;
use audit_portal::auth::tokens::{self, Scope};
use audit_portal::grade::live;
use audit_portal::worker::Worker;
use serde_json::{Value, json};
use sqlx::PgPool;

/// Checks `value` against `schema` (the subset of JSON Schema that utoipa writes: `$ref`, `type`
/// with "null", `oneOf`/`anyOf`/`allOf`, `properties`/`required`, `items`, `enum`, `format`).
/// Objects may not carry properties the schema does not name, so that a field the handler
/// sends but the document omits is caught as drift. Returns every mismatch, by JSON path.
fn check(doc: &Value, value: &Value, schema: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        assert!(target.is_object(), "{reference} does not resolve");
        return check(doc, value, target, at, errors);
    }
    if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        let fits = options.iter().any(|o| {
            let mut inner = vec![];
            check(doc, value, o, at, &mut inner);
            inner.is_empty()
        });
        if !fits {
            errors.push(format!("{at}: {value} fits none of {options:?}"));
        }
        return;
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut known = BTreeSet::new();
        for part in parts {
            let mut inner = vec![];
            check_open(doc, value, part, at, &mut inner);
            errors.extend(inner);
            known.extend(property_names(doc, part));
        }
        unknown_properties(value, &known, at, errors);
        return;
    }
    check_open(doc, value, schema, at, errors);
    if schema["properties"].is_object() {
        unknown_properties(value, &property_names(doc, schema), at, errors);
    }
}

/// Like [`check`], without refusing properties the schema does not name (one part of an allOf).
fn check_open(doc: &Value, value: &Value, schema: &Value, at: &str, errors: &mut Vec<String>) {
    if schema["$ref"].is_string() || schema["allOf"].is_array() || schema["oneOf"].is_array() {
        let mut inner = vec![];
        check(doc, value, schema, at, &mut inner);
        // A nested closed object still reports its own strays; only this level stays open.
        errors.extend(
            inner
                .into_iter()
                .filter(|e| !e.starts_with(&format!("{at}: unknown"))),
        );
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let type_ok = types.is_empty()
        || types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        });
    if !type_ok {
        errors.push(format!("{at}: {value} is not {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(text) = value.as_str() {
        let rfc3339 = &time::format_description::well_known::Rfc3339;
        let day = time::macros::format_description!("[year]-[month]-[day]");
        match schema["format"].as_str() {
            Some("date-time") if time::OffsetDateTime::parse(text, rfc3339).is_err() => {
                errors.push(format!("{at}: '{text}' is not an RFC 3339 time"));
            }
            Some("date") if time::Date::parse(text, day).is_err() => {
                errors.push(format!("{at}: '{text}' is not a YYYY-MM-DD day"));
            }
            _ => {}
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(doc, item, schema, &format!("{at}[{i}]"), errors);
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            if !object.contains_key(name) {
                errors.push(format!("{at}: required '{name}' is missing"));
            }
        }
        if let Some(properties) = schema["properties"].as_object() {
            for (name, property) in properties {
                if let Some(v) = object.get(name) {
                    check(doc, v, property, &format!("{at}.{name}"), errors);
                }
            }
        }
    }
}

fn property_names(doc: &Value, schema: &Value) -> BTreeSet<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return property_names(doc, &doc["components"]["schemas"][name]);
    }
    let mut names: BTreeSet<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        names.extend(property_names(doc, part));
    }
    names
}

fn unknown_properties(value: &Value, known: &BTreeSet<String>, at: &str, errors: &mut Vec<String>) {
    if let Some(object) = value.as_object() {
        for name in object.keys().filter(|k| !known.contains(*k)) {
            errors.push(format!(
                "{at}: unknown property '{name}' (not in the document)"
            ));
        }
    }
}

/// The schema the document gives for `template`'s answer with `status`.
fn answer_schema<'a>(doc: &'a Value, template: &str, status: u16) -> &'a Value {
    let schema = &doc["paths"][template]["get"]["responses"][status.to_string()]["content"]["application/json"]
        ["schema"];
    assert!(
        schema.is_object(),
        "the document describes no {status} for {template}"
    );
    schema
}

/// GETs `path` with `token`, expects `status`, and checks the body against `template`'s schema.
async fn read(
    app: &crate::common::TestApp,
    doc: &Value,
    token: &str,
    path: &str,
    template: &str,
    status: u16,
) -> Value {
    app.caught_up().await;
    let response = new_client()
        .get(format!("{}{path}", app.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), status, "{path}");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{path}"
    );
    let body: Value = response.json().await.unwrap();
    let mut errors = vec![];
    check(
        doc,
        &body,
        answer_schema(doc, template, status),
        "$",
        &mut errors,
    );
    assert!(
        errors.is_empty(),
        "{path} does not match the document:\n{}\n{body:#}",
        errors.join("\n")
    );
    body
}

async fn scalar(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn every_read_endpoint_answers_as_its_openapi_document_says(db: PgPool) {
    let fleet = Fleet::new("api");
    fleet.run(
        "web",
        &Spec::good().label("traefik.http.routers.web.rule=Host(`web.quietly.online`)"),
    );
    fleet.run("loose", &Spec::good().set("--restart", "no"));
    fleet.run("plain", &Spec::good().without("--health-cmd"));
    fleet.wait_health("web", "healthy");
    let engines = format!("test=unix://{}", socket());
    let s = settings(&[("AUDIT_ENGINES", &engines)]);
    Worker::new(db.clone(), Arc::new(s.clone()))
        .refresh_once()
        .await
        .unwrap();
    let app = spawn_app(db.clone(), s.clone()).await;
    // A phase, signed off, so that the chain has a record.
    app.sign_in(Role::Admin).await;
    let imported = app
        .post_form(
            "/phases",
            "/phases/import",
            &[
                ("plan", "# PHASE-01 Foundation\n- [x] Inventory\n"),
                ("intent", "import"),
            ],
        )
        .await;
    assert_eq!(imported.status(), 303);
    let phase: i64 = imported.headers()["location"].to_str().unwrap()["/phases/".len()..]
        .parse()
        .unwrap();
    let signed = app
        .post_form(
            &format!("/phases/{phase}"),
            &format!("/phases/{phase}/signoff"),
            &[("decision", "approved")],
        )
        .await;
    assert_eq!(signed.status(), 303);

    let admin = SessionUser::command_line();
    let reader = tokens::create(&db, "scripts", &[Scope::Read], None, &admin)
        .await
        .unwrap();
    let (status, text) = {
        let r = new_client()
            .get(format!("{}/api/v1/openapi.json", app.url))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(status, 200, "the document is public");
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

    // Services: the whole inventory, then pages, then a filter.
    let current = scalar(
        &db,
        "SELECT count(*) FROM services WHERE removed_at IS NULL",
    )
    .await;
    assert!(current >= 3);
    let all = read(
        &app,
        &doc,
        &reader,
        "/api/v1/services",
        "/api/v1/services",
        200,
    )
    .await;
    assert_eq!(all["total"], current);
    assert_eq!(all["items"].as_array().unwrap().len() as i64, current);
    let loose = fleet.key("loose");
    let row = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == loose.as_str())
        .unwrap();
    assert_eq!(row["state"], "running");
    assert!(
        row["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "no_restart_policy"),
        "{row}"
    );
    // The checker itself sees drift: a wrong type, a missing or unknown field, a bad time.
    let problem = answer_schema(&doc, "/api/v1/services", 400);
    let page = answer_schema(&doc, "/api/v1/services", 200);
    let mut wrong_time = all.clone();
    wrong_time["items"][0]["last_seen"] = json!("yesterday");
    let mut stray = all.clone();
    stray["items"][0]["environment"] = json!({"PASSWORD": "x"});
    let mut bad_severity = all.clone();
    bad_severity["items"][0]["findings"] =
        json!([{"kind": "k", "severity": "dire", "fact": "", "fix": ""}]);
    for (value, schema) in [
        (json!({"error": 5}), problem),
        (json!({}), problem),
        (json!({"error": "x", "extra": 1}), problem),
        (wrong_time, page),
        (stray, page),
        (bad_severity, page),
    ] {
        let mut errors = vec![];
        check(&doc, &value, schema, "$", &mut errors);
        assert!(!errors.is_empty(), "the checker let this through: {value}");
    }

    let second = read(
        &app,
        &doc,
        &reader,
        "/api/v1/services?per_page=1&page=2",
        "/api/v1/services",
        200,
    )
    .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        (second["page"].clone(), second["pages"].clone()),
        (2.into(), current.into())
    );
    assert_eq!(
        second["items"][0], all["items"][1],
        "page 2 of 1 is the second row"
    );
    let found = read(
        &app,
        &doc,
        &reader,
        &format!("/api/v1/services?q={loose}&sort=name&dir=desc"),
        "/api/v1/services",
        200,
    )
    .await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["key"], loose.as_str());

    // Findings: every one the database holds, narrowed by severity and kind.
    let findings = read(
        &app,
        &doc,
        &reader,
        "/api/v1/findings?per_page=500",
        "/api/v1/findings",
        200,
    )
    .await;
    let stored = scalar(
        &db,
        "SELECT count(*) FROM services s CROSS JOIN LATERAL jsonb_array_elements(s.findings) f
         WHERE s.removed_at IS NULL",
    )
    .await;
    assert_eq!(findings["total"], stored);
    let high = scalar(
        &db,
        "SELECT count(*) FROM services s CROSS JOIN LATERAL jsonb_array_elements(s.findings) f
         WHERE s.removed_at IS NULL AND f->>'severity' = 'high'",
    )
    .await;
    let highs = read(
        &app,
        &doc,
        &reader,
        "/api/v1/findings?severity=high",
        "/api/v1/findings",
        200,
    )
    .await;
    assert_eq!(highs["total"], high);
    let restart = read(
        &app,
        &doc,
        &reader,
        "/api/v1/findings?kind=no_restart_policy",
        "/api/v1/findings",
        200,
    )
    .await;
    let keys: Vec<&str> = restart["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["service"]["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&loose.as_str()), "{restart}");
    assert!(
        restart["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["kind"] == "no_restart_policy")
    );

    // Routes: the labelled router.
    let routes = read(&app, &doc, &reader, "/api/v1/routes", "/api/v1/routes", 200).await;
    assert_eq!(
        routes["total"],
        scalar(&db, "SELECT count(*) FROM routes").await
    );
    assert!(
        routes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["host"] == "web.quietly.online"),
        "{routes}"
    );
    let none = read(
        &app,
        &doc,
        &reader,
        "/api/v1/routes?host=nowhere.quietly.online",
        "/api/v1/routes",
        200,
    )
    .await;
    assert_eq!(none["total"], 0);

    // Coverage and the grade, against what the pages compute.
    let coverage = read(
        &app,
        &doc,
        &reader,
        "/api/v1/coverage",
        "/api/v1/coverage",
        200,
    )
    .await;
    let running = scalar(
        &db,
        "SELECT count(*) FROM services WHERE removed_at IS NULL AND state = 'running'",
    )
    .await;
    assert_eq!(coverage["overall"]["services"], running);
    let grade = read(&app, &doc, &reader, "/api/v1/grade", "/api/v1/grade", 200).await;
    let (_, rubric, measured) = live::current(&db, &s.docs).await.unwrap();
    assert_eq!(
        grade["total"].as_f64(),
        Some(measured.total.shown().parse().unwrap())
    );
    assert_eq!(grade["letter"], measured.letter.as_str());
    assert_eq!(
        grade["categories"].as_array().unwrap().len(),
        rubric.categories.len()
    );
    let weights: f64 = grade["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["weight"].as_f64().unwrap())
        .sum();
    assert!(
        (weights - 100.0).abs() < 0.01,
        "weights in percent: {weights}"
    );
    assert!(
        grade["categories"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| !c["evidence"].as_array().unwrap().is_empty())
    );

    // Phases and the chain.
    let phases = read(&app, &doc, &reader, "/api/v1/phases", "/api/v1/phases", 200).await;
    let p = phases
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == phase)
        .unwrap();
    assert_eq!(
        (p["number"].as_str(), p["done"].as_i64()),
        (Some("PHASE-01"), Some(1))
    );
    assert_eq!(p["last_decision"], "approved");
    let chain = read(
        &app,
        &doc,
        &reader,
        "/api/v1/signoffs",
        "/api/v1/signoffs",
        200,
    )
    .await;
    assert_eq!(chain["intact"], true);
    let hash: String = sqlx::query_scalar("SELECT hash FROM phase_signoffs")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(chain["signoffs"][0]["hash"], hash.as_str());
    assert_eq!(chain["signoffs"][0]["decision"], "approved");

    // Rollouts and one rollout's checklist.
    let rollouts = read(
        &app,
        &doc,
        &reader,
        "/api/v1/rollouts",
        "/api/v1/rollouts",
        200,
    )
    .await;
    assert_eq!(
        rollouts.as_array().unwrap().len() as i64,
        scalar(&db, "SELECT count(*) FROM rollouts").await
    );
    let first = rollouts[0]["id"].as_i64().unwrap();
    let detail = read(
        &app,
        &doc,
        &reader,
        &format!("/api/v1/rollouts/{first}"),
        "/api/v1/rollouts/{id}",
        200,
    )
    .await;
    let items = scalar(
        &db,
        &format!("SELECT count(*) FROM rollout_items WHERE rollout_id = {first}"),
    )
    .await;
    assert_eq!(detail["checklist"].as_array().unwrap().len() as i64, items);
    read(
        &app,
        &doc,
        &reader,
        "/api/v1/rollouts/999999",
        "/api/v1/rollouts/{id}",
        404,
    )
    .await;

    // The summary widget reads the same grade.
    let summary = read(
        &app,
        &doc,
        &reader,
        "/api/v1/summary",
        "/api/v1/summary",
        200,
    )
    .await;
    assert_eq!(summary["letter"], grade["letter"]);

    // Bad queries: a JSON error that names the value, as documented.
    for (path, template, needle) in [
        ("/api/v1/services?state=bogus", "/api/v1/services", "bogus"),
        (
            "/api/v1/services?finding=nothing",
            "/api/v1/services",
            "nothing",
        ),
        (
            "/api/v1/services?per_page=0",
            "/api/v1/services",
            "per_page",
        ),
        ("/api/v1/services?page=x", "/api/v1/services", "page"),
        (
            "/api/v1/findings?severity=urgent",
            "/api/v1/findings",
            "urgent",
        ),
        ("/api/v1/routes?sort=fastest", "/api/v1/routes", "fastest"),
    ] {
        let error = read(&app, &doc, &reader, path, template, 400).await;
        assert!(
            error["error"].as_str().unwrap().contains(needle),
            "{path}: {error}"
        );
    }
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn the_api_needs_a_read_token_or_a_session_and_the_old_list_moved(db: PgPool) {
    let app = spawn_app(db.clone(), settings(&[])).await;
    let url = |path: &str| format!("{}{path}", app.url);
    let stranger = new_client().get(url("/api/v1/grade")).send().await.unwrap();
    assert_eq!(stranger.status(), 401);
    assert!(stranger.headers().contains_key("www-authenticate"));
    let body: Value = stranger.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("read"), "{body}");

    let admin = SessionUser::command_line();
    let heartbeat = tokens::create(&db, "backup-job", &[Scope::Heartbeat], None, &admin)
        .await
        .unwrap();
    let weak = new_client()
        .get(url("/api/v1/services"))
        .bearer_auth(&heartbeat)
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), 403, "a heartbeat token does not read");
    let wrong = new_client()
        .get(url("/api/v1/services"))
        .bearer_auth("apt_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    // A signed-in viewer reads with the session alone; a bad token is not rescued by it.
    app.sign_in(Role::Viewer).await;
    assert_eq!(app.get("/api/v1/grade").await.status(), 200);
    let mixed = app
        .client
        .get(url("/api/v1/grade"))
        .bearer_auth("apt_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(mixed.status(), 401);

    let moved = app.get("/api/services?engine=master").await;
    assert_eq!(moved.status(), 308);
    assert_eq!(
        moved.headers()["location"],
        "/api/v1/services?engine=master"
    );
}
