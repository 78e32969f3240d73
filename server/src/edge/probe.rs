//! One HTTP probe of one URL, the way a user's browser meets it: no session, no redirects
//! followed, a deadline, at most a few KB of the body read, and the certificate examined.
//!
//! The TLS verifier records the chain's verdict and lets the handshake go on, so a route with
//! a bad certificate is still measured (status, latency) and its certificate still described.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use time::OffsetDateTime;

use crate::config::ProbeSettings;

/// The leaf certificate the server presented and the chain's verdict, filled in by the verifier.
#[derive(Debug)]
struct PresentedCert {
    der: Vec<u8>,
    chain_error: Option<String>,
}

type Presented = Arc<Mutex<Option<PresentedCert>>>;

/// Body bytes read at most: enough to tell a login page from content, never an endless body.
const BODY_LIMIT: usize = 4 * 1024;

/// The certificate the server presented and whether its chain is valid for the host.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CertFacts {
    /// Why the chain or the name does not verify; None when it does.
    pub chain_error: Option<String>,
    pub not_after: Option<OffsetDateTime>,
    pub issuer: String,
    pub names: Vec<String>,
}

/// Why a probe got no usable answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No connection, no TLS session, or no answer within the deadline.
    Unreachable,
    /// Something answered, but not HTTP.
    Protocol,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Unreachable => "unreachable",
            Failure::Protocol => "protocol",
        }
    }
}

/// What one probe saw.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeOutcome {
    pub url: String,
    pub at: OffsetDateTime,
    pub status: Option<u16>,
    /// Until the response headers arrived.
    pub latency_ms: Option<i64>,
    /// The `Location` of a redirect, resolved against the URL.
    pub redirect_to: Option<String>,
    pub failure: Option<Failure>,
    pub error: Option<String>,
    pub cert: Option<CertFacts>,
}

/// Makes probes: the trusted roots are loaded once.
pub struct Prober {
    roots: Arc<RootCertStore>,
    settings: ProbeSettings,
    /// A hosts table used instead of the system resolver, like /etc/hosts alone: a name not in
    /// it does not resolve.
    hosts: Option<Arc<HostTable>>,
}

/// Names to addresses, answered without any DNS query.
#[derive(Debug, Default)]
pub struct HostTable(pub std::collections::HashMap<String, SocketAddr>);

impl reqwest::dns::Resolve for HostTable {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let found = self.0.get(&name.as_str().to_ascii_lowercase()).copied();
        let name = name.as_str().to_string();
        Box::pin(async move {
            match found {
                Some(addr) => Ok(Box::new(std::iter::once(addr)) as reqwest::dns::Addrs),
                None => Err(format!("{name} does not resolve").into()),
            }
        })
    }
}

impl Prober {
    pub fn new(settings: &ProbeSettings) -> anyhow::Result<Self> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        // The system's store too, for a distribution's additions; a failure to read it is not fatal.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        if let Some(path) = &settings.ca_file {
            let pem = std::fs::read(path)
                .with_context(|| format!("reading the probe CA file {}", path.display()))?;
            let mut added = 0;
            for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
                let cert: CertificateDer =
                    cert.with_context(|| format!("parsing the probe CA file {}", path.display()))?;
                roots
                    .add(cert)
                    .with_context(|| format!("adding a CA of {}", path.display()))?;
                added += 1;
            }
            anyhow::ensure!(added > 0, "{} holds no PEM certificate", path.display());
        }
        Ok(Self {
            roots: Arc::new(roots),
            settings: settings.clone(),
            hosts: None,
        })
    }

    /// Resolves route hosts from this table only (when no `via` address applies).
    pub fn with_hosts(mut self, table: HostTable) -> Self {
        self.hosts = Some(Arc::new(table));
        self
    }

    /// Probes one URL within the deadline. Never fails: every fault is part of the outcome.
    pub async fn probe(&self, url: &str) -> ProbeOutcome {
        let at = OffsetDateTime::now_utc();
        let mut outcome = ProbeOutcome {
            url: url.to_string(),
            at,
            status: None,
            latency_ms: None,
            redirect_to: None,
            failure: None,
            error: None,
            cert: None,
        };
        let seen: Presented = Arc::default();
        let run = self.request(url, seen.clone(), &mut outcome);
        if tokio::time::timeout(self.settings.timeout, run)
            .await
            .is_err()
        {
            outcome.failure = Some(Failure::Unreachable);
            outcome.error = Some(format!(
                "no answer within {} s",
                self.settings.timeout.as_secs()
            ));
        }
        let presented = seen.lock().ok().and_then(|mut s| s.take());
        if let Some(presented) = presented {
            let mut cert = super::cert::describe(&presented.der);
            cert.chain_error = presented.chain_error;
            outcome.cert = Some(cert);
        }
        outcome
    }

    async fn request(&self, url: &str, seen: Presented, outcome: &mut ProbeOutcome) {
        let parsed = match reqwest::Url::parse(url) {
            Ok(u) => u,
            Err(e) => {
                outcome.failure = Some(Failure::Unreachable);
                outcome.error = Some(format!("not a URL: {e}"));
                return;
            }
        };
        let client = match self.client(&parsed, seen).await {
            Ok(c) => c,
            Err(e) => {
                outcome.failure = Some(Failure::Unreachable);
                outcome.error = Some(format!("{e:#}"));
                return;
            }
        };
        let started = Instant::now();
        let response = client
            .get(parsed.clone())
            .header(reqwest::header::ACCEPT, "text/html,*/*;q=0.8")
            .header(reqwest::header::USER_AGENT, "audit-portal-probe")
            .send()
            .await;
        let mut response = match response {
            Ok(r) => r,
            Err(e) => {
                outcome.failure = Some(if e.is_connect() || e.is_timeout() {
                    Failure::Unreachable
                } else {
                    Failure::Protocol
                });
                outcome.error = Some(if e.is_timeout() {
                    format!("no answer within {} s", self.settings.timeout.as_secs())
                } else {
                    explain(&e)
                });
                return;
            }
        };
        outcome.latency_ms = Some(started.elapsed().as_millis() as i64);
        outcome.status = Some(response.status().as_u16());
        if response.status().is_redirection() {
            outcome.redirect_to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| parsed.join(l).ok())
                .map(|u| u.to_string());
        }
        // A little of the body, so a server that answers headers and then stalls or streams
        // forever is neither waited for nor buffered.
        let mut read = 0;
        while read < BODY_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                Ok(None) => break,
                Err(e) => {
                    outcome.error = Some(format!("body: {}", explain(&e)));
                    break;
                }
            }
        }
    }

    async fn client(&self, url: &reqwest::Url, seen: Presented) -> anyhow::Result<reqwest::Client> {
        let verifier = Arc::new(RecordingVerifier {
            inner: WebPkiServerVerifier::builder_with_provider(
                self.roots.clone(),
                Arc::new(rustls::crypto::ring::default_provider()),
            )
            .build()
            .context("building the certificate verifier")?,
            seen,
        });
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.settings.timeout)
            .pool_max_idle_per_host(0);
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if let Some(table) = &self.hosts {
            builder = builder.dns_resolver(table.clone());
        }
        if url.port().is_none() {
            let via = match url.scheme() {
                "https" => self.settings.via.as_deref(),
                _ => self.settings.via_http.as_deref(),
            };
            if let Some(via) = via {
                // The route's own name stays in SNI and Host; only the address is Traefik's.
                let addr = tokio::net::lookup_host(via)
                    .await
                    .with_context(|| format!("resolving the probe address {via}"))?
                    .next()
                    .with_context(|| format!("{via} resolves to no address"))?;
                builder = builder.resolve(&host, addr);
            }
        }
        builder.build().context("building the probe client")
    }
}

/// The innermost causes of a request error, which say what went wrong ("invalid peer
/// certificate", "connection refused", "dns error").
fn explain(e: &reqwest::Error) -> String {
    let mut parts = vec![];
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    let text = parts
        .iter()
        .rev()
        .take(2)
        .rev()
        .cloned()
        .collect::<Vec<_>>()
        .join(": ");
    text.chars().take(300).collect()
}

/// A certificate error in a person's words; rustls's own text for the rare ones.
fn readable(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::Expired | C::ExpiredContext { .. } => "expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => "not valid yet".into(),
            C::NotValidForName => "not valid for name".into(),
            C::NotValidForNameContext {
                expected,
                presented,
            } => format!(
                "not valid for name {}: issued for {}",
                expected.to_str(),
                presented
                    .iter()
                    .map(|p| p
                        .trim_start_matches("DnsName(\"")
                        .trim_end_matches("\")")
                        .to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            C::UnknownIssuer => "unknown issuer: not signed by a trusted CA (self-signed, or a private CA not in AUDIT_PROBE_CA_FILE)".into(),
            C::Revoked => "revoked".into(),
            other => format!("{other:?}"),
        },
        other => other.to_string(),
    }
}

/// Checks the chain as a browser would and records the verdict, then accepts the server so
/// that the probe can go on (it sends nothing secret).
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    seen: Presented,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .err()
            .map(|e| readable(&e));
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(PresentedCert {
                der: end_entity.to_vec(),
                chain_error: verdict,
            });
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
