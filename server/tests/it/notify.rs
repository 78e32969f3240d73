//! Notifications end to end: an unreachable engine is a condition; the worker queues it once per
//! channel; the sender posts ntfy's, Gotify's and a signed webhook's shapes to a receiver on
//! 127.0.0.1 standing in for all three, retries after the receiver's error, holds a digest
//! channel's messages until its hour, and never sends a condition twice. The settings page is
//! for admins, and its test button sends at once.
//!
//! The receiver checks the shapes the real services take: ntfy's JSON publish (a POST to the
//! server's root with `topic`, `title`, `message`, `priority`, docs.ntfy.sh/publish), Gotify's
//! `POST /message` with `X-Gotify-Key` (gotify.net/docs).

use std::sync::{Arc, Mutex};

use crate::common::{count, spawn_app};
use app::model::Role;
use app::model::notify::Mode;
use audit_portal::config::Settings;
use audit_portal::notify::{channels, deliver, queries};
use audit_portal::worker::Worker;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::net::TcpListener;

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> &str {
        self.headers[name].to_str().unwrap()
    }
}

/// A receiver on 127.0.0.1 for every channel kind; answers 500 to the first `fail_first`
/// requests on `/hook`.
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let failures = Arc::new(Mutex::new(fail_first));
        let log = got.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: axum::body::Bytes| {
                let log = log.clone();
                let failures = failures.clone();
                async move {
                    let path = uri.path().to_string();
                    log.lock().unwrap().push(Received {
                        path: path.clone(),
                        headers,
                        body: body.to_vec(),
                    });
                    let mut left = failures.lock().unwrap();
                    if path == "/hook" && *left > 0 {
                        *left -= 1;
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    StatusCode::OK
                }
            },
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { port, got }
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn on(&self, path: &str) -> Vec<Received> {
        self.got().into_iter().filter(|r| r.path == path).collect()
    }
}

/// Settings with the three channels pointing at `receiver`, and one engine that is not there.
fn settings(receiver: &Receiver, dir: &std::path::Path) -> Settings {
    let gotify_token = dir.join("gotify-token");
    std::fs::write(&gotify_token, "AppTokEn\n").unwrap();
    let config = dir.join("portal.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[notify]
digest_hour_utc = 8

[[notify.channels]]
name = "phone"
kind = "ntfy"
url = "http://127.0.0.1:{port}/audit-topic"
secret_env = "NTFY_TOKEN"

[[notify.channels]]
name = "gotify"
kind = "gotify"
url = "http://127.0.0.1:{port}/gotify"
secret_file = "{token}"

[[notify.channels]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:{port}/hook"
secret_env = "HOOK_SECRET"
"#,
            port = receiver.port,
            token = gotify_token.display()
        ),
    )
    .unwrap();
    let missing = dir.join("no-such.sock");
    let env: Vec<(String, String)> = [
        ("AUDIT_DEMO_SIGN_IN", "true".to_string()),
        ("AUDIT_PROBE_VIA", "127.0.0.1:9".into()),
        (
            "AUDIT_ENGINES",
            format!("lady=unix://{}", missing.display()),
        ),
        ("NTFY_TOKEN", "tk_secret".into()),
        ("HOOK_SECRET", "hook-secret".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Settings::load_from(Some(&config), &env).unwrap()
}

async fn deliveries(db: &PgPool) -> Vec<(String, String, String, i32)> {
    sqlx::query_as(
        "SELECT channel, kind, state, attempts FROM notify_deliveries ORDER BY channel, id",
    )
    .fetch_all(db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_condition_is_sent_once_per_channel_with_retries_and_digests(db: PgPool) {
    let receiver = Receiver::start(1).await;
    let dir = tempdir();
    let s = settings(&receiver, &dir);
    // The Gotify channel takes a daily digest.
    let mut conn = db.acquire().await.unwrap();
    queries::set_mode(&mut conn, "gotify", Mode::Digest, "test")
        .await
        .unwrap();
    drop(conn);

    let mut worker = Worker::new(db.clone(), Arc::new(s.clone()));
    worker.refresh_once().await.unwrap();
    let open: Vec<(String, String)> = sqlx::query_as(
        "SELECT rule, key FROM notify_conditions WHERE closed_at IS NULL ORDER BY rule",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert!(
        open.contains(&("engine_down".into(), "lady".into())),
        "{open:?}"
    );
    assert!(
        open.iter().any(|(rule, _)| rule == "letter_changed"),
        "the letter is watched from the first refresh: {open:?}"
    );
    // The letter's first sighting is no change: only the engine is queued, once per channel.
    assert_eq!(
        deliveries(&db).await,
        [
            ("gotify".into(), "event".into(), "held".into(), 0),
            ("hook".into(), "event".into(), "pending".into(), 0),
            ("phone".into(), "event".into(), "pending".into(), 0),
        ]
    );

    let client = deliver::client();
    let now = OffsetDateTime::now_utc();
    assert_eq!(deliver::send_due(&db, &s, &client, now).await.unwrap(), 2);
    let ntfy = receiver.on("/");
    assert_eq!(ntfy.len(), 1, "ntfy is published to the server's root");
    let published = ntfy[0].json();
    assert_eq!(published["topic"], "audit-topic");
    assert_eq!(published["title"], "Engine lady is unreachable");
    assert_eq!(published["priority"], 4);
    assert_eq!(published["click"], format!("{}/engines", s.public_url));
    assert_eq!(ntfy[0].header("authorization"), "Bearer tk_secret");
    let hook = receiver.on("/hook");
    assert_eq!(hook.len(), 1);
    let timestamp: i64 = hook[0].header(channels::TIMESTAMP_HEADER).parse().unwrap();
    assert_eq!(
        hook[0].header(channels::SIGNATURE_HEADER),
        channels::signature(b"hook-secret", timestamp, &hook[0].body),
        "the signature verifies with the shared secret"
    );
    assert_eq!(hook[0].json()["rule"], "engine_down");
    assert_eq!(hook[0].json()["key"], "lady");
    assert!(
        receiver.on("/gotify/message").is_empty(),
        "the digest channel waits"
    );
    let after_error = deliveries(&db).await;
    assert!(
        after_error.contains(&("hook".into(), "event".into(), "pending".into(), 1)),
        "{after_error:?}"
    );
    assert!(after_error.contains(&("phone".into(), "event".into(), "sent".into(), 1)));

    // The same condition at the next refresh is no new message; nothing is due yet.
    worker.refresh_once().await.unwrap();
    assert_eq!(
        deliveries(&db).await.len(),
        3,
        "no duplicate while the condition holds"
    );
    assert_eq!(deliver::send_due(&db, &s, &client, now).await.unwrap(), 0);
    // After the first back-off the webhook is tried again, and the receiver takes it.
    let later = now + time::Duration::seconds(31);
    assert_eq!(deliver::send_due(&db, &s, &client, later).await.unwrap(), 1);
    assert_eq!(receiver.on("/hook").len(), 2);
    let attempts: Vec<(bool, Option<i32>, Option<String>)> = sqlx::query_as(
        "SELECT a.ok, a.status, a.error FROM notify_attempts a JOIN notify_deliveries d ON d.id = a.delivery_id
         WHERE d.channel = 'hook' ORDER BY a.id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        attempts,
        [
            (
                false,
                Some(500),
                Some("the receiver answered HTTP 500".into())
            ),
            (true, Some(200), None)
        ]
    );

    // The digest: not before its hour, then once, with the held message, then not again that day.
    let tomorrow = (now + time::Duration::days(1)).replace_time(time::macros::time!(7:00));
    assert_eq!(deliver::make_digests(&db, &s, tomorrow).await.unwrap(), 0);
    let at_nine = tomorrow.replace_time(time::macros::time!(9:00));
    assert_eq!(deliver::make_digests(&db, &s, at_nine).await.unwrap(), 1);
    assert_eq!(
        deliver::send_due(&db, &s, &client, at_nine).await.unwrap(),
        1
    );
    let digest = receiver.on("/gotify/message");
    assert_eq!(digest.len(), 1);
    assert_eq!(digest[0].header("x-gotify-key"), "AppTokEn");
    let d = digest[0].json();
    assert_eq!(
        d["title"],
        "Audit Portal: 1 condition since the last digest"
    );
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("Engine lady is unreachable"),
        "{d}"
    );
    assert_eq!(deliver::make_digests(&db, &s, at_nine).await.unwrap(), 0);
    let states: Vec<(String, String)> = sqlx::query_as(
        "SELECT kind, state FROM notify_deliveries WHERE channel = 'gotify' ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        states,
        [
            ("event".into(), "digested".into()),
            ("digest".into(), "sent".into())
        ]
    );

    // The queries behind the rules that are off by default read the real tables too.
    assert!(queries::open_actions(&db).await.unwrap().is_empty());
    assert!(queries::fallen_items(&db).await.unwrap().is_empty());
    // Attempts are history: they cannot be edited away.
    assert!(
        sqlx::query("DELETE FROM notify_attempts")
            .execute(&db)
            .await
            .is_err()
    );
    // Nothing went anywhere but the receiver, and every request is accounted for.
    assert_eq!(receiver.got().len(), 4);
    drop(dir);
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn admins_choose_the_rules_and_send_a_test_from_the_settings_page(db: PgPool) {
    let receiver = Receiver::start(1).await;
    let dir = tempdir();
    let s = settings(&receiver, &dir);
    let app = spawn_app(db.clone(), s.clone()).await;

    app.sign_in(Role::Viewer).await;
    assert_eq!(app.get("/settings/notifications").await.status(), 403);
    let before = count(&db, "notify_rules").await;
    // With a valid form token from a page a viewer may see, the role check refuses it.
    let refused = app
        .post_form(
            "/",
            "/settings/notifications/rules",
            &[("rule_engine_down", "on")],
        )
        .await;
    assert_eq!(refused.status(), 403);
    let refusals: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'notify.rules' AND outcome = 'refused'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(refusals, 1);
    assert_eq!(count(&db, "notify_rules").await, before);

    let admin = spawn_app(db.clone(), s).await;
    admin.sign_in(Role::Admin).await;
    let (status, page) = admin.get_text("/settings/notifications").await;
    assert_eq!(status, 200);
    for shown in [
        "phone",
        "gotify",
        "hook",
        "http://127.0.0.1:",
        "configured (not shown)",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    let hook_url = format!("127.0.0.1:{}/hook", receiver.port);
    for hidden in [
        "audit-topic",
        "tk_secret",
        "AppTokEn",
        "hook-secret",
        hook_url.as_str(),
    ] {
        assert!(!page.contains(hidden), "the page shows {hidden}");
    }

    // A bad number of days changes nothing.
    let bad = admin
        .post_form(
            "/settings/notifications",
            "/settings/notifications/rules",
            &[("rule_finding_open", "on"), ("days_finding_open", "0")],
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("from 1 to 365"));
    assert_eq!(count(&db, "notify_rules").await, 0);
    let saved = admin
        .post_form(
            "/settings/notifications",
            "/settings/notifications/rules",
            &[
                ("rule_finding_open", "on"),
                ("rule_cap_binding", "on"),
                ("days_finding_open", "30"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let rules = queries::rules(&db).await.unwrap();
    let on: Vec<&str> = rules
        .iter()
        .filter(|r| r.enabled)
        .map(|r| r.rule.slug())
        .collect();
    assert_eq!(on, ["finding_open", "cap_binding"]);
    let open_days = rules.iter().find(|r| r.rule.takes_days()).unwrap().days;
    assert_eq!(open_days, 30);
    let recorded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'notify.rules' AND outcome = 'done'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(recorded, 1);

    // The test button sends at once; a receiver's error is reported and left for the retries.
    let sent = admin
        .post_form(
            "/settings/notifications",
            "/settings/notifications/channels/phone/test",
            &[],
        )
        .await;
    assert_eq!(sent.status(), 303);
    let location = sent.headers()["location"].to_str().unwrap().to_string();
    let (_, page) = admin.get_text(&location).await;
    assert!(page.contains("Test message sent to phone."), "{page}");
    let test = receiver.on("/");
    assert_eq!(test.len(), 1);
    assert_eq!(test[0].json()["title"], "Audit Portal: test message");
    let failed = admin
        .post_form(
            "/settings/notifications",
            "/settings/notifications/channels/hook/test",
            &[],
        )
        .await;
    let location = failed.headers()["location"].to_str().unwrap().to_string();
    let (_, page) = admin.get_text(&location).await;
    assert!(
        page.contains("was not delivered: the receiver answered HTTP 500. It will be retried."),
        "{page}"
    );
    let unknown = admin
        .post_form(
            "/settings/notifications",
            "/settings/notifications/channels/nowhere/test",
            &[],
        )
        .await;
    assert_eq!(unknown.status(), 404);
    drop(dir);
}

fn tempdir() -> TempDir {
    let path = std::env::temp_dir().join(format!(
        "audit-notify-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&path).unwrap();
    TempDir(path)
}

fn rand_suffix() -> u64 {
    OffsetDateTime::now_utc().unix_timestamp_nanos() as u64
}

/// A folder removed when the test ends.
struct TempDir(std::path::PathBuf);

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
