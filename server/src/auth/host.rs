//! Which `Host` the portal answers to. A request for any other name is refused before it reaches
//! a session or a handler: that closes DNS rebinding (a hostile page whose name now resolves to
//! 127.0.0.1) and stray proxy routes forwarding someone else's name to the portal. The local demo
//! sign-in, which lets anyone pick a role, answers loopback names only and never through a proxy.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Probes answer under any name: a container health check calls `127.0.0.1`, and they reveal
/// nothing.
fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

/// The port a browser leaves out of `Host` for `scheme`.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    }
}

/// A host and port as a browser puts them in `Host`, normalised for comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authority {
    host: String,
    port: u16,
}

impl Authority {
    /// From an origin such as `https://audit.quietly.online` or `http://127.0.0.1:3000`.
    pub fn of_origin(origin: &str) -> Option<Authority> {
        let (scheme, rest) = origin.split_once("://")?;
        Self::parse(rest.split('/').next()?, default_port(scheme)?)
    }

    /// From a `Host` header value (`name`, `name:port`, `[::1]:port`).
    pub fn parse(value: &str, default_port: u16) -> Option<Authority> {
        let value = value.trim();
        if value.is_empty() || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return None;
        }
        let (host, port) = if let Some(rest) = value.strip_prefix('[') {
            let (inside, after) = rest.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().ok()?,
                None if after.is_empty() => default_port,
                None => return None,
            };
            (format!("[{}]", inside.to_ascii_lowercase()), port)
        } else {
            match value.rsplit_once(':') {
                Some((h, p)) => (h.to_ascii_lowercase(), p.parse().ok()?),
                None => (value.to_ascii_lowercase(), default_port),
            }
        };
        let host = host.trim_end_matches('.').to_string();
        (!host.is_empty()).then_some(Authority { host, port })
    }

    /// `localhost`, `127.x.y.z` or `[::1]`: names that cannot be made to point elsewhere.
    pub fn is_loopback(&self) -> bool {
        if self.host == "localhost" || self.host.ends_with(".localhost") {
            return true;
        }
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
    }
}

/// What the guard accepts, from the settings.
#[derive(Clone, Debug)]
pub struct HostPolicy {
    public: Option<Authority>,
    default_port: u16,
    demo: bool,
}

/// Why a request was refused, said to whoever sent it.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    UnknownHost,
    DemoNotLoopback,
    DemoThroughProxy,
}

impl HostPolicy {
    pub fn new(public_url: &str, demo_sign_in: bool) -> Self {
        let scheme = public_url
            .split_once("://")
            .map(|(s, _)| s)
            .unwrap_or("http");
        Self {
            public: Authority::of_origin(public_url),
            default_port: default_port(scheme).unwrap_or(80),
            demo: demo_sign_in,
        }
    }

    pub fn check(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| Authority::parse(h, self.default_port))
            .ok_or(Refusal::UnknownHost)?;
        if self.demo {
            // Anyone who reaches the demo may pick a role: only this machine may reach it.
            let forwarded = headers.contains_key("forwarded")
                || headers
                    .keys()
                    .any(|k| k.as_str().starts_with("x-forwarded-"))
                || headers.contains_key("x-real-ip");
            if forwarded {
                return Err(Refusal::DemoThroughProxy);
            }
            let same_port = self.public.as_ref().is_some_and(|p| p.port == host.port);
            if !host.is_loopback() || !same_port {
                return Err(Refusal::DemoNotLoopback);
            }
            return Ok(());
        }
        if self.public.as_ref() == Some(&host) {
            Ok(())
        } else {
            Err(Refusal::UnknownHost)
        }
    }
}

pub async fn verify(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_probe(req.uri().path()) {
        return next.run(req).await;
    }
    match state.host_policy.check(req.headers()) {
        Ok(()) => next.run(req).await,
        Err(refusal) => {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .chars()
                .take(100)
                .collect::<String>();
            tracing::warn!(host = %host.escape_debug(), ?refusal, path = %req.uri().path(), "request for a name the portal does not serve refused");
            let text = match refusal {
                Refusal::UnknownHost => format!(
                    "This portal answers at {} only.\n",
                    state.settings.public_url
                ),
                Refusal::DemoNotLoopback => {
                    "The demo sign-in answers on this machine's loopback names only (localhost, 127.0.0.1).\n"
                        .to_string()
                }
                Refusal::DemoThroughProxy => {
                    "The demo sign-in is not served through a proxy.\n".to_string()
                }
            };
            (StatusCode::MISDIRECTED_REQUEST, text).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn only_the_public_name_is_served() {
        let policy = HostPolicy::new("https://audit.quietly.online", false);
        for ok in [
            "audit.quietly.online",
            "AUDIT.quietly.online:443",
            "audit.quietly.online.",
        ] {
            assert_eq!(policy.check(&headers(&[("host", ok)])), Ok(()), "{ok}");
        }
        for bad in [
            "evil.example",
            "audit.quietly.online:8443",
            "127.0.0.1",
            "audit.quietly.online.evil.example",
        ] {
            assert_eq!(
                policy.check(&headers(&[("host", bad)])),
                Err(Refusal::UnknownHost),
                "{bad}"
            );
        }
        assert_eq!(policy.check(&headers(&[])), Err(Refusal::UnknownHost));
    }

    #[test]
    fn the_demo_answers_loopback_names_without_proxies() {
        let policy = HostPolicy::new("http://127.0.0.1:3000", true);
        for ok in ["127.0.0.1:3000", "localhost:3000", "[::1]:3000"] {
            assert_eq!(policy.check(&headers(&[("host", ok)])), Ok(()), "{ok}");
        }
        for bad in [
            "rebind.test:3000",
            "localhost.evil.example:3000",
            "10.0.0.1:3000",
        ] {
            assert_eq!(
                policy.check(&headers(&[("host", bad)])),
                Err(Refusal::DemoNotLoopback),
                "{bad}"
            );
        }
        assert_eq!(
            policy.check(&headers(&[("host", "127.0.0.1:3001")])),
            Err(Refusal::DemoNotLoopback)
        );
        for proxy in [
            "forwarded",
            "x-forwarded-for",
            "x-forwarded-host",
            "x-real-ip",
        ] {
            assert_eq!(
                policy.check(&headers(&[("host", "127.0.0.1:3000"), (proxy, "1.2.3.4")])),
                Err(Refusal::DemoThroughProxy),
                "{proxy}"
            );
        }
    }
}
