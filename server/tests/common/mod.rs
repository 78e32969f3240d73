//! Helpers shared by the integration tests: a running portal on port 0, settings, and fixtures
//! on the private Docker engine started by `scripts/test`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use audit_portal::config::Settings;
use audit_portal::state::AppState;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub mod docker;

/// The portal serving on 127.0.0.1 with a port of its own; stopped when dropped.
pub struct TestApp {
    pub url: String,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
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
}

/// Settings as from an empty environment plus `env`.
pub fn settings(env: &[(&str, &str)]) -> Settings {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::load_from(None, &env).expect("test settings")
}

pub async fn spawn_app(db: PgPool, mut settings: Settings) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    settings.listen = addr;
    settings.public_url = format!("http://{addr}");
    let state = AppState {
        db,
        settings: Arc::new(settings),
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(audit_portal::startup::serve(
        listener,
        state,
        shutdown.clone(),
    ));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    TestApp {
        url: format!("http://{addr}"),
        addr,
        client,
        shutdown,
    }
}
