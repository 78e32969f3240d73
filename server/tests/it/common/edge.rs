//! Stand-ins for what sits in front of the fleet: an HTTPS server on 127.0.0.1 that answers for
//! many host names the way Traefik would (certificates chosen by SNI, made by the test's own
//! CA), with a behaviour per host; and a stand-in of Traefik's API serving recorded JSON.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a host answers once its TLS session is up (or before it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Ok,
    Status(u16),
    /// Answers 200 after this many milliseconds.
    Slow(u64),
    /// Redirects to this URL.
    Redirect(&'static str),
    /// Accepts TCP, never says a word (not even the TLS handshake).
    Silent,
    /// Bytes that are not HTTP.
    Garbage,
    /// 200, then a body that never ends.
    Endless,
}

/// Which certificate a host presents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertKind {
    /// Signed by the test CA for this host, valid for 90 days.
    Valid,
    /// Signed by the test CA, expiring in this many days.
    ExpiresInDays(i64),
    /// Signed by the test CA, expired two days ago.
    Expired,
    /// Signed by the test CA for another name.
    WrongName,
    /// Signed by itself.
    SelfSigned,
}

/// The test's private certificate authority.
pub struct TestCa {
    params: CertificateParams,
    key: KeyPair,
    pub pem: String,
}

impl TestCa {
    pub fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Audit Portal Test CA");
        let key = KeyPair::generate().expect("CA key");
        let cert = params.clone().self_signed(&key).expect("CA cert");
        TestCa {
            pem: cert.pem(),
            params,
            key,
        }
    }

    fn leaf(
        &self,
        host: &str,
        kind: CertKind,
    ) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let now = OffsetDateTime::now_utc();
        let name = if kind == CertKind::WrongName {
            "somewhere-else.routes.test".to_string()
        } else {
            host.to_string()
        };
        let mut params = CertificateParams::new(vec![name.clone()]).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, name);
        let (from, until) = match kind {
            CertKind::ExpiresInDays(d) => (
                now - time::Duration::days(60),
                now + time::Duration::days(d),
            ),
            CertKind::Expired => (
                now - time::Duration::days(92),
                now - time::Duration::days(2),
            ),
            _ => (
                now - time::Duration::days(1),
                now + time::Duration::days(90),
            ),
        };
        params.not_before = from;
        params.not_after = until;
        let key = KeyPair::generate().expect("leaf key");
        let cert = if kind == CertKind::SelfSigned {
            params.self_signed(&key).expect("self-signed")
        } else {
            let issuer = self.params.clone().self_signed(&self.key).expect("issuer");
            params.signed_by(&key, &issuer, &self.key).expect("signed")
        };
        (
            cert.der().clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    }
}

/// One HTTPS listener for every host, like Traefik's websecure entrypoint.
pub struct EdgeServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EdgeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Host {
    behaviour: Behaviour,
    tls: Arc<ServerConfig>,
}

impl EdgeServer {
    pub async fn start(ca: &TestCa, hosts: &[(&str, CertKind, Behaviour)]) -> EdgeServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let table: HashMap<String, Host> = hosts
            .iter()
            .map(|(host, kind, behaviour)| {
                let (cert, key) = ca.leaf(host, *kind);
                let config = ServerConfig::builder_with_provider(provider.clone())
                    .with_safe_default_protocol_versions()
                    .expect("versions")
                    .with_no_client_auth()
                    .with_single_cert(vec![cert], key)
                    .expect("server cert");
                (
                    host.to_string(),
                    Host {
                        behaviour: *behaviour,
                        tls: Arc::new(config),
                    },
                )
            })
            .collect();
        let table = Arc::new(table);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_one(stream, table.clone()));
            }
        });
        EdgeServer { addr, task }
    }
}

async fn serve_one(stream: TcpStream, hosts: Arc<HashMap<String, Host>>) {
    let acceptor =
        tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream);
    let Ok(start) = acceptor.await else { return };
    let sni = start
        .client_hello()
        .server_name()
        .unwrap_or_default()
        .to_string();
    let Some(host) = hosts.get(&sni) else { return };
    if host.behaviour == Behaviour::Silent {
        tokio::time::sleep(Duration::from_secs(120)).await;
        return;
    }
    let Ok(mut tls) = start.into_stream(host.tls.clone()).await else {
        return;
    };
    // The request head; the probe sends no body.
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match tls.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let respond = |status: u16, extra: &str, body: &str| {
        format!(
            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
            body.len()
        )
    };
    let reply = match host.behaviour {
        Behaviour::Ok => respond(200, "", "<h1>hello</h1>"),
        Behaviour::Status(s) => respond(s, "", "failing"),
        Behaviour::Slow(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            respond(200, "", "slow hello")
        }
        Behaviour::Redirect(to) => respond(302, &format!("location: {to}\r\n"), ""),
        Behaviour::Garbage => "\u{1}\u{2}SSH-2.0-not-http\r\n\r\n".to_string(),
        Behaviour::Endless => {
            let _ = tls
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n")
                .await;
            let chunk = vec![b'a'; 64 * 1024];
            while tls.write_all(&chunk).await.is_ok() {}
            return;
        }
        Behaviour::Silent => unreachable!("handled before the handshake"),
    };
    let _ = tls.write_all(reply.as_bytes()).await;
    let _ = tls.shutdown().await;
}

/// A stand-in of Traefik's API: fixed JSON per path, the routers split into pages of two so
/// that the reader must follow `X-Next-Page` as with a real Traefik.
pub struct TraefikApiStandIn {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TraefikApiStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TraefikApiStandIn {
    pub async fn start(
        routers: serde_json::Value,
        middlewares: serde_json::Value,
        services: serde_json::Value,
        entrypoints: serde_json::Value,
    ) -> TraefikApiStandIn {
        use axum::extract::Query;
        use axum::response::IntoResponse;
        use axum::routing::get;

        #[derive(serde::Deserialize)]
        struct Paging {
            page: Option<usize>,
            per_page: Option<usize>,
        }
        // Traefik's pagination: `per_page` items from `page` (1-based); X-Next-Page names the
        // next page, or 1 when there is none.
        fn paged(all: serde_json::Value, q: Paging, cap: usize) -> axum::response::Response {
            let items = all.as_array().cloned().unwrap_or_default();
            let per = q.per_page.unwrap_or(100).min(cap);
            let page = q.page.unwrap_or(1).max(1);
            let start = (page - 1) * per;
            let slice: Vec<_> = items.iter().skip(start).take(per).cloned().collect();
            let next = if start + per < items.len() {
                page + 1
            } else {
                1
            };
            ([("X-Next-Page", next.to_string())], axum::Json(slice)).into_response()
        }
        let app = axum::Router::new()
            .route(
                "/api/http/routers",
                get(move |q: Query<Paging>| async move { paged(routers, q.0, 2) }),
            )
            .route(
                "/api/http/middlewares",
                get(move |q: Query<Paging>| async move { paged(middlewares, q.0, 100) }),
            )
            .route(
                "/api/http/services",
                get(move |q: Query<Paging>| async move { paged(services, q.0, 100) }),
            )
            .route(
                "/api/entrypoints",
                get(move |q: Query<Paging>| async move { paged(entrypoints, q.0, 100) }),
            );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TraefikApiStandIn {
            url: format!("http://{addr}"),
            task,
        }
    }
}
