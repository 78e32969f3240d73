//! What the probes and Traefik say is wrong with a service's routes, as findings; and how one
//! probe is judged (a success for availability, or which kind of failure).

use std::collections::{BTreeMap, HashMap};

use time::{Duration, OffsetDateTime};

use app::model::{Finding, FindingKind, Severity, TraefikRoute};

use super::probe::ProbeOutcome;
use crate::config::EdgeSettings;

/// Under this many days left, an expiry date that has not moved for [`RENEWAL_WINDOW`] means
/// renewal is not happening (ACME clients renew about 30 days ahead).
const RENEWAL_DUE_DAYS: i64 = 20;
const RENEWAL_WINDOW: Duration = Duration::days(7);
/// Samples needed before a p95 is trusted for `route_slow`.
const MIN_SLOW_SAMPLES: i64 = 3;

/// The latest probe of one URL and what is remembered across probes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProbeState {
    pub url: String,
    pub probed_at: Option<OffsetDateTime>,
    pub ok: bool,
    /// "unreachable", "protocol", "status", "redirect_loop", "certificate"; None when ok.
    pub failure: Option<String>,
    pub status: Option<i32>,
    pub latency_ms: Option<i32>,
    pub redirect_to: Option<String>,
    pub error: Option<String>,
    pub chain_error: Option<String>,
    pub cert_not_after: Option<OffsetDateTime>,
    pub cert_issuer: Option<String>,
    pub cert_names: Vec<String>,
    /// Since when the certificate has had this expiry date.
    pub cert_not_after_since: Option<OffsetDateTime>,
    /// The latest answer that was neither a server error nor a 404.
    pub last_answer_at: Option<OffsetDateTime>,
    pub p95_24h_ms: Option<f64>,
    pub samples_24h: i64,
}

/// Judges a fresh probe against what was known of the URL, giving the state to store.
pub fn judge(o: &ProbeOutcome, previous: Option<&ProbeState>) -> ProbeState {
    let answered_before = previous.and_then(|p| p.last_answer_at).is_some();
    let chain_error = o.cert.as_ref().and_then(|c| c.chain_error.clone());
    let failure = match (o.failure, o.status) {
        (Some(f), _) => Some(f.as_str().to_string()),
        (None, Some(s)) if s >= 500 => Some("status".into()),
        (None, Some(404)) if answered_before => Some("status".into()),
        _ if o.redirect_to.as_deref() == Some(o.url.as_str()) => Some("redirect_loop".into()),
        _ if chain_error.is_some() => Some("certificate".into()),
        _ => None,
    };
    let answered = o.failure.is_none() && o.status.is_some_and(|s| s < 500 && s != 404);
    let not_after = o.cert.as_ref().and_then(|c| c.not_after);
    let since = match previous {
        Some(p) if p.cert_not_after == not_after && not_after.is_some() => p.cert_not_after_since,
        _ => not_after.map(|_| o.at),
    };
    ProbeState {
        url: o.url.clone(),
        probed_at: Some(o.at),
        ok: failure.is_none(),
        failure,
        status: o.status.map(i32::from),
        latency_ms: o.latency_ms.map(|l| l.min(i32::MAX as i64) as i32),
        redirect_to: o.redirect_to.clone(),
        error: o.error.clone(),
        chain_error,
        cert_not_after: not_after,
        cert_issuer: o.cert.as_ref().map(|c| c.issuer.clone()),
        cert_names: o.cert.as_ref().map(|c| c.names.clone()).unwrap_or_default(),
        cert_not_after_since: since,
        last_answer_at: if answered {
            Some(o.at)
        } else {
            previous.and_then(|p| p.last_answer_at)
        },
        p95_24h_ms: previous.and_then(|p| p.p95_24h_ms),
        samples_24h: previous.map_or(0, |p| p.samples_24h),
    }
}

/// Whether the answer shows the sign-in wall: Some(true) for a redirect to Authelia (to any
/// other host when Authelia's address is not configured) or a 401/403; Some(false) for content
/// (2xx); None when the answer tells neither (an error, a redirect within the site).
pub fn auth_enforced(p: &ProbeState, authelia_host: Option<&str>) -> Option<bool> {
    let status = p.status?;
    if matches!(status, 401 | 403) {
        return Some(true);
    }
    if (200..300).contains(&status) {
        return Some(false);
    }
    if !(300..400).contains(&status) {
        return None;
    }
    let host = |u: &str| {
        reqwest::Url::parse(u)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    };
    let target = p.redirect_to.as_deref().and_then(host)?;
    match authelia_host {
        Some(a) if target == a => Some(true),
        None if Some(&target) != host(&p.url).as_ref() => Some(true),
        _ => None,
    }
}

/// Every finding of a service's routes; one per kind, its fact naming each URL concerned.
/// `signs_in_itself`: the service runs its own sign-in (`audit.auth=oidc`), so a 200 login page
/// is not a missing wall.
pub fn route_findings(
    routes: &[TraefikRoute],
    probes: &HashMap<String, ProbeState>,
    settings: &EdgeSettings,
    signs_in_itself: bool,
    now: OffsetDateTime,
) -> Vec<Finding> {
    let mut by_kind: BTreeMap<FindingKind, (Severity, Vec<String>)> = BTreeMap::new();
    let mut add = |kind: FindingKind, severity: Severity, fact: String| {
        let entry = by_kind.entry(kind).or_insert((severity, vec![]));
        entry.0 = entry.0.min(severity);
        if !entry.1.contains(&fact) {
            entry.1.push(fact);
        }
    };
    for r in routes {
        let disabled = r
            .status
            .as_deref()
            .is_some_and(|s| !s.eq_ignore_ascii_case("enabled"));
        if disabled || !r.errors.is_empty() {
            add(
                FindingKind::RouterError,
                Severity::Medium,
                format!(
                    "Traefik reports router '{}' as {}{}",
                    r.router,
                    r.status.as_deref().unwrap_or("in error"),
                    if r.errors.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", r.errors.join("; "))
                    }
                ),
            );
        }
        for url in r.urls() {
            let Some(p) = probes.get(&url).filter(|p| p.probed_at.is_some()) else {
                continue;
            };
            probe_findings(r, p, settings, signs_in_itself, now, &mut add);
        }
    }
    grouped(by_kind)
}

/// The findings of one configured URL, which no router describes (so no authentication check).
pub fn url_findings(p: &ProbeState, settings: &EdgeSettings, now: OffsetDateTime) -> Vec<Finding> {
    let mut by_kind: BTreeMap<FindingKind, (Severity, Vec<String>)> = BTreeMap::new();
    let mut add = |kind: FindingKind, severity: Severity, fact: String| {
        by_kind
            .entry(kind)
            .or_insert((severity, vec![]))
            .1
            .push(fact);
    };
    if p.probed_at.is_some() {
        probe_findings(&TraefikRoute::default(), p, settings, true, now, &mut add);
    }
    grouped(by_kind)
}

fn grouped(by_kind: BTreeMap<FindingKind, (Severity, Vec<String>)>) -> Vec<Finding> {
    by_kind
        .into_iter()
        .map(|(kind, (severity, facts))| Finding {
            kind,
            severity,
            fact: facts.join("; "),
            fix: fix(kind).to_string(),
        })
        .collect()
}

fn probe_findings(
    r: &TraefikRoute,
    p: &ProbeState,
    settings: &EdgeSettings,
    signs_in_itself: bool,
    now: OffsetDateTime,
    add: &mut impl FnMut(FindingKind, Severity, String),
) {
    let url = &p.url;
    let error = p.error.as_deref().unwrap_or("no detail");
    match p.failure.as_deref() {
        Some("unreachable") => add(
            FindingKind::RouteUnreachable,
            Severity::High,
            format!("{url}: {error}"),
        ),
        Some("protocol") => add(
            FindingKind::RouteError,
            Severity::High,
            format!("{url} answered with something that is not HTTP ({error})"),
        ),
        Some("status") => add(
            FindingKind::RouteError,
            Severity::High,
            match p.status {
                Some(404) => format!("{url} answers 404 although it answered before"),
                Some(s) => format!("{url} answers {s}"),
                None => format!("{url} answers with an error"),
            },
        ),
        Some("redirect_loop") => add(
            FindingKind::RouteError,
            Severity::High,
            format!("{url} redirects to itself"),
        ),
        _ => {}
    }
    if let Some(p95) = p.p95_24h_ms
        && p.samples_24h >= MIN_SLOW_SAMPLES
        && p95 > settings.probe.slow_ms as f64
    {
        add(
            FindingKind::RouteSlow,
            Severity::Medium,
            format!(
                "{url}: p95 {:.0} ms over 24 h (threshold {} ms, {} probes)",
                p95, settings.probe.slow_ms, p.samples_24h
            ),
        );
    }
    if let Some(chain) = &p.chain_error {
        add(
            FindingKind::CertInvalid,
            Severity::High,
            format!("{url}: {chain}"),
        );
    } else if let Some(not_after) = p.cert_not_after {
        let days = (not_after - now).whole_days();
        if days < settings.probe.cert_warn_days {
            add(
                FindingKind::CertExpiring,
                if days < 7 {
                    Severity::High
                } else {
                    Severity::Medium
                },
                format!(
                    "{url}: the certificate expires in {days} day(s) ({})",
                    date(not_after)
                ),
            );
        }
        let unchanged_since = p.cert_not_after_since.unwrap_or(now);
        if days < RENEWAL_DUE_DAYS && now - unchanged_since >= RENEWAL_WINDOW {
            add(
                FindingKind::CertNotRenewing,
                Severity::High,
                format!(
                    "{url}: {days} day(s) left and the expiry date has not moved since {}",
                    date(unchanged_since)
                ),
            );
        }
    }
    if r.authenticated
        && !signs_in_itself
        && auth_enforced(p, settings.authelia_host.as_deref()) == Some(false)
    {
        add(
            FindingKind::AuthNotEnforced,
            Severity::High,
            format!(
                "{url} is behind {} by its configuration but answered {} with content to a request without a session",
                r.middlewares.join(", "),
                p.status.unwrap_or_default()
            ),
        );
    }
}

fn date(t: OffsetDateTime) -> String {
    t.date().to_string()
}

fn fix(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::RouterError => {
            "Open Traefik's dashboard for the router's error (a missing service, middleware or certificate resolver) and fix its configuration."
        }
        FindingKind::RouteError => {
            "Read the service's logs for the failing requests; check that Traefik's service points at the right container and port."
        }
        FindingKind::RouteUnreachable => {
            "Check that Traefik runs and serves this host (DNS, entrypoint, certificate) and that the probe can reach it."
        }
        FindingKind::RouteSlow => {
            "Find what makes the first page slow (database, cold caches, CPU limit) or raise the threshold if it is expected."
        }
        FindingKind::CertInvalid => {
            "Serve a certificate for this name from a trusted CA (check the certresolver and the router's tls.domains)."
        }
        FindingKind::CertExpiring => {
            "Make sure the ACME resolver renews it (Traefik renews 30 days ahead) or replace it now."
        }
        FindingKind::CertNotRenewing => {
            "Renewal is failing: read Traefik's ACME log lines for this domain (rate limits, DNS challenge credentials)."
        }
        FindingKind::AuthNotEnforced => {
            "The forward-auth middleware is configured but not applied: check its name and provider on the router, and Authelia's access rules for this domain."
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::probe::CertFacts;

    fn outcome(url: &str, status: Option<u16>) -> ProbeOutcome {
        ProbeOutcome {
            url: url.into(),
            at: OffsetDateTime::now_utc(),
            status,
            latency_ms: Some(5),
            redirect_to: None,
            failure: None,
            error: None,
            cert: None,
        }
    }

    #[test]
    fn a_404_is_an_error_only_after_the_route_answered() {
        let first = judge(&outcome("https://a/", Some(404)), None);
        assert!(first.ok && first.last_answer_at.is_none());
        let answered = judge(&outcome("https://a/", Some(200)), Some(&first));
        assert!(answered.ok && answered.last_answer_at.is_some());
        let later = judge(&outcome("https://a/", Some(404)), Some(&answered));
        assert_eq!(later.failure.as_deref(), Some("status"));
        assert!(!judge(&outcome("https://a/", Some(502)), None).ok);
    }

    #[test]
    fn renewal_is_judged_by_how_long_the_expiry_date_stood_still() {
        let now = OffsetDateTime::now_utc();
        let mut o = outcome("https://a/", Some(200));
        o.cert = Some(CertFacts {
            not_after: Some(now + Duration::days(10)),
            ..Default::default()
        });
        let mut state = judge(&o, None);
        let settings = crate::config::Settings::load_from(None, &[])
            .expect("defaults")
            .edge;
        let route = TraefikRoute {
            router: "a".into(),
            hosts: vec!["a".into()],
            tls: true,
            ..Default::default()
        };
        let probes = |s: &ProbeState| [(s.url.clone(), s.clone())].into_iter().collect();
        let kinds = |s: &ProbeState| -> Vec<FindingKind> {
            route_findings(
                std::slice::from_ref(&route),
                &probes(s),
                &settings,
                false,
                now,
            )
            .into_iter()
            .map(|f| f.kind)
            .collect()
        };
        assert_eq!(kinds(&state), [FindingKind::CertExpiring]);
        state.cert_not_after_since = Some(now - Duration::days(8));
        assert_eq!(
            kinds(&state),
            [FindingKind::CertExpiring, FindingKind::CertNotRenewing]
        );
    }

    #[test]
    fn the_sign_in_wall_is_a_redirect_to_authelia_or_a_refusal() {
        let state = |status: i32, to: Option<&str>| ProbeState {
            url: "https://app.x/".into(),
            status: Some(status),
            redirect_to: to.map(String::from),
            ..Default::default()
        };
        let authelia = Some("auth.x");
        assert_eq!(
            auth_enforced(&state(302, Some("https://auth.x/?rd=1")), authelia),
            Some(true)
        );
        // A redirect within the site (to https, to its own login) tells neither way.
        assert_eq!(
            auth_enforced(&state(302, Some("https://app.x/login")), authelia),
            None
        );
        assert_eq!(auth_enforced(&state(502, None), authelia), None);
        assert_eq!(auth_enforced(&state(401, None), authelia), Some(true));
        assert_eq!(auth_enforced(&state(200, None), authelia), Some(false));
        assert_eq!(
            auth_enforced(&state(302, Some("https://sso.y/")), None),
            Some(true)
        );
    }
}
