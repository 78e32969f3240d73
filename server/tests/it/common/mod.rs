//! Helpers shared by the integration tests: a running portal on port 0, settings, signed-in
//! clients, and fixtures on the private Docker engine started by `scripts/test`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::model::Role;
use audit_portal::config::Settings;
use audit_portal::readmodel::version::ChangeCount;
use audit_portal::state::AppState;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub mod docker;
pub mod edge;

/// The portal serving on 127.0.0.1 with a port of its own; stopped when dropped.
pub struct TestApp {
    pub url: String,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    db: PgPool,
    changes: Arc<ChangeCount>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Settings as from an empty environment plus `env`, with the local demo sign-in on unless an
/// issuer is given.
pub fn settings(env: &[(&str, &str)]) -> Settings {
    let mut env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if !env.iter().any(|(k, _)| k == "AUDIT_OIDC_ISSUER") {
        env.insert(0, ("AUDIT_DEMO_SIGN_IN".into(), "true".into()));
    }
    // A worker started by a test probes the routes its engine's containers declare: they go to
    // a closed loopback port unless the test says where, never to DNS.
    if !env.iter().any(|(k, _)| k == "AUDIT_PROBE_VIA") {
        env.insert(0, ("AUDIT_PROBE_VIA".into(), "127.0.0.1:9".into()));
    }
    Settings::load_from(None, &env).expect("test settings")
}

/// Serves the portal on a port of its own.
pub async fn spawn_app(db: PgPool, settings: Settings) -> TestApp {
    spawn_app_with_scheme(db, settings, "http").await
}

/// Serves the portal as if a TLS proxy in front of it made its public URL `scheme://…`.
pub async fn spawn_app_with_scheme(db: PgPool, mut settings: Settings, scheme: &str) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    settings.listen = addr;
    settings.public_url = format!("{scheme}://{addr}");
    if let Some(oidc) = settings.auth.oidc.as_mut() {
        oidc.redirect_url = format!("http://{addr}/auth/callback");
    }
    let state = AppState::new(db.clone(), Arc::new(settings)).expect("state");
    let changes = state.read_model.changes.clone();
    let shutdown = CancellationToken::new();
    tokio::spawn(audit_portal::startup::serve(
        listener,
        state,
        shutdown.clone(),
    ));
    TestApp {
        url: format!("http://{addr}"),
        addr,
        client: new_client(),
        shutdown,
        db,
        changes,
    }
}

/// Rows in one table.
pub async fn count(db: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(db)
        .await
        .expect("counting rows")
}

/// Rows in every table of the portal's schema, to prove that a refused request wrote nothing.
pub async fn row_counts(db: &PgPool) -> std::collections::BTreeMap<String, i64> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'
         ORDER BY 1",
    )
    .fetch_all(db)
    .await
    .expect("listing tables");
    let mut counts = std::collections::BTreeMap::new();
    for table in tables {
        let n = count(db, &table).await;
        counts.insert(table, n);
    }
    counts
}

/// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// The value of the first `name="csrf_token"` field on a page.
pub fn csrf_token(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("the page has a CSRF field") + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

impl TestApp {
    /// Waits until the portal has counted every change committed so far, including the ones
    /// this test made beside it (the worker it drives, plain SQL): the portal hears of those
    /// through Postgres's notifications, a moment after their commit.
    pub async fn caught_up(&self) {
        self.changes
            .caught_up(&self.db)
            .await
            .expect("a mark through the data-change channel");
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.caught_up().await;
        self.client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("GET")
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// Signs this app's client in through the local demo sign-in as `role`.
    pub async fn sign_in(&self, role: Role) {
        let (status, page) = self.get_text("/auth/login").await;
        assert_eq!(status, 200, "the demo sign-in page: {page}");
        let token = csrf_token(&page);
        let response = self
            .client
            .post(format!("{}/auth/demo", self.url))
            .header("Origin", &self.url)
            .form(&[
                ("role", role.as_str()),
                ("csrf_token", token.as_str()),
                ("next", "/"),
            ])
            .send()
            .await
            .expect("POST /auth/demo");
        assert_eq!(response.status(), 303, "demo sign-in accepted");
    }

    /// POSTs a form the way a browser on the portal's own page does: same origin, with the
    /// CSRF token of the page at `from`.
    pub async fn post_form(
        &self,
        from: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, page) = self.get_text(from).await;
        let token = csrf_token(&page);
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        self.client
            .post(format!("{}{action}", self.url))
            .header("Origin", &self.url)
            .form(&form)
            .send()
            .await
            .expect("POST")
    }
}
