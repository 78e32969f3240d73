//! The checks of the production-ready criteria, each a finding with its fact and its fix.

use time::OffsetDateTime;

use app::model::{Finding, FindingKind, ServiceFacts, Severity};

use crate::capacity::sizing::{self, MemoryHistory, MemoryVerdict, SizingRules, WasFlagged};
use crate::config::AuditSettings;

/// An OOM kill stays a finding this long after it happened, even once a restart policy has
/// started the container again (and Docker has cleared its flag).
const OOM_KILL_REMEMBERED: time::Duration = time::Duration::days(7);

pub struct FindingInput<'a> {
    pub facts: &'a ServiceFacts,
    /// The same container's restart count at the previous refresh, if it was seen then.
    pub previous_restart_count: Option<i64>,
    pub now: OffsetDateTime,
    /// Memory over the judged window (7 days) with the current sample; None without any sample.
    pub memory: Option<MemoryHistory>,
    /// The memory findings it had at the previous refresh, for hysteresis.
    pub was: WasFlagged,
    pub sizing: SizingRules,
}

fn finding(kind: FindingKind, severity: Severity, fact: String, fix: &str) -> Finding {
    Finding {
        kind,
        severity,
        fact,
        fix: fix.to_string(),
    }
}

fn mib(bytes: i64) -> String {
    format!("{:.0} MiB", bytes as f64 / 1024.0 / 1024.0)
}

/// Every finding for one service, most severe first.
pub fn findings_for(input: &FindingInput, settings: &AuditSettings) -> Vec<Finding> {
    let f = input.facts;
    let mut out = vec![];
    health_findings(f, &mut out);
    restart_findings(input, settings, &mut out);
    resource_findings(input, &mut out);
    exposure_findings(f, settings, &mut out);
    image_findings(f, settings, input.now, &mut out);
    if f.log_errors + f.log_fatals > settings.log_error_threshold {
        out.push(finding(
            FindingKind::LogErrors,
            Severity::Medium,
            format!(
                "{} error and {} fatal lines since the previous refresh (threshold {})",
                f.log_errors, f.log_fatals, settings.log_error_threshold
            ),
            "Read the samples below and fix the cause, or lower the log level of expected noise.",
        ));
    }
    out.sort_by_key(|x| (x.severity, x.kind));
    out
}

fn health_findings(f: &ServiceFacts, out: &mut Vec<Finding>) {
    match (&f.healthcheck, f.health.as_deref()) {
        (None, _) => out.push(finding(
            FindingKind::NoHealthcheck,
            Severity::Medium,
            "the container defines no health check".into(),
            "Add a healthcheck (compose `healthcheck:` or the image's HEALTHCHECK) that proves the service answers.",
        )),
        (Some(_), Some("unhealthy")) if f.state == "running" => out.push(finding(
            FindingKind::Unhealthy,
            Severity::High,
            format!("health check failing ({} in a row)", f.health_failing_streak),
            "Read the health check's output (docker inspect) and fix the service or the check.",
        )),
        (Some(_), _) if f.health_failing_streak > 0 && f.state == "running" => out.push(finding(
            FindingKind::Unhealthy,
            Severity::Medium,
            format!("health check has failed {} time(s) in a row", f.health_failing_streak),
            "Watch the next checks; a service that keeps failing will turn unhealthy.",
        )),
        _ => {}
    }
}

fn restart_findings(input: &FindingInput, settings: &AuditSettings, out: &mut Vec<Finding>) {
    let f = input.facts;
    if matches!(f.restart_policy.as_str(), "" | "no") {
        out.push(finding(
            FindingKind::NoRestartPolicy,
            Severity::Medium,
            format!("restart policy is '{}'", if f.restart_policy.is_empty() { "no" } else { &f.restart_policy }),
            "Set `restart: unless-stopped` (or always / on-failure) so the service returns after a crash or reboot.",
        ));
    }
    let delta = input
        .previous_restart_count
        .map(|prev| f.restart_count - prev);
    let climbing = f.state == "restarting"
        || (f.restart_count >= settings.restart_loop_threshold && delta.is_none_or(|d| d > 0));
    if climbing {
        let since = match delta {
            Some(d) => format!(", +{d} since the previous refresh"),
            None => String::new(),
        };
        out.push(finding(
            FindingKind::RestartLoop,
            Severity::High,
            format!("restarted {} times{since} (state {})", f.restart_count, f.state),
            "Read the log samples for the crash cause; a restart policy hides a crash loop, it does not fix it.",
        ));
    }
    let recent_kill = f
        .last_oom_kill
        .filter(|at| input.now - *at < OOM_KILL_REMEMBERED);
    if f.oom_killed || recent_kill.is_some() {
        let when = recent_kill
            .and_then(|at| {
                at.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .map(|t| format!(" at {t}"))
            .unwrap_or_default();
        out.push(finding(
            FindingKind::OomKilled,
            Severity::High,
            format!(
                "the kernel killed it for running out of memory{when} (limit {})",
                f.memory_limit_bytes
                    .map(mib)
                    .unwrap_or_else(|| "none".into())
            ),
            "Raise the memory limit to cover its peak, or find what grows without bound.",
        ));
    }
}

fn resource_findings(input: &FindingInput, out: &mut Vec<Finding>) {
    let f = input.facts;
    match (f.memory_limit_bytes, input.memory) {
        (None, _) => out.push(finding(
            FindingKind::NoMemoryLimit,
            Severity::Medium,
            "no memory limit: one leak can starve the whole host".into(),
            "Set `mem_limit` (compose) a little above the observed peak.",
        )),
        (Some(limit), Some(history)) => {
            let over = |share: f64| {
                format!(
                    "7-day peak {} of its {} limit ({:.0}%), over {} samples",
                    sizing::size(history.peak),
                    sizing::size(limit),
                    share * 100.0,
                    history.samples
                )
            };
            match sizing::judge(limit, history, input.was, input.sizing) {
                MemoryVerdict::NearLimit { share, recommended } => out.push(Finding {
                    kind: FindingKind::MemoryNearLimit,
                    severity: Severity::Medium,
                    fact: over(share),
                    fix: format!(
                        "Raise the limit to {} (peak × {}) before the kernel kills it, or reduce its use.",
                        sizing::size(recommended),
                        input.sizing.headroom
                    ),
                }),
                MemoryVerdict::Oversized {
                    share,
                    recommended,
                    frees,
                } => out.push(Finding {
                    kind: FindingKind::MemoryOversized,
                    severity: Severity::Low,
                    fact: over(share),
                    fix: format!(
                        "Lower the limit to {} (peak × {}): frees {} of the host's memory.",
                        sizing::size(recommended),
                        input.sizing.headroom,
                        sizing::size(frees)
                    ),
                }),
                MemoryVerdict::Fine | MemoryVerdict::TooLittleHistory => {}
            }
        }
        (Some(_), None) => {}
    }
    if f.cpu_limit.is_none() {
        out.push(finding(
            FindingKind::NoCpuLimit,
            Severity::Low,
            "no CPU limit".into(),
            "Set `cpus:` (compose) so a busy service cannot starve its neighbours.",
        ));
    }
}

fn exposure_findings(f: &ServiceFacts, settings: &AuditSettings, out: &mut Vec<Finding>) {
    for p in f.ports.iter().filter(|p| p.is_public()) {
        let allowed = p
            .host_port
            .parse::<u16>()
            .is_ok_and(|n| settings.allowed_public_ports.contains(&n));
        if !allowed {
            let ip = if p.host_ip.is_empty() {
                "0.0.0.0"
            } else {
                &p.host_ip
            };
            out.push(finding(
                FindingKind::PublicPort,
                Severity::High,
                format!("port {} is published on {ip}:{} (all interfaces)", p.container_port, p.host_port),
                "Publish on 127.0.0.1 only, or drop the port and route through Traefik behind Authelia.",
            ));
        }
    }
    if f.privileged {
        out.push(finding(
            FindingKind::Privileged,
            Severity::High,
            "runs privileged: root on the host in all but name".into(),
            "Remove `privileged: true`; grant only the capabilities or devices it needs.",
        ));
    }
    for m in f
        .mounts
        .iter()
        .filter(|m| m.source.ends_with("docker.sock") || m.destination.ends_with("docker.sock"))
    {
        out.push(finding(
            FindingKind::DockerSocket,
            Severity::High,
            format!("mounts the Docker socket ({} → {}{})", m.source, m.destination, if m.read_only { ", read-only" } else { "" }),
            "Give it a read-only docker-socket-proxy limited to the calls it needs instead (read-only mounts still allow every API call).",
        ));
    }
    for r in &f.routes {
        if !r.hosts.is_empty() && !r.authenticated {
            out.push(finding(
                FindingKind::RouteWithoutAuth,
                Severity::High,
                format!(
                    "Traefik router '{}' serves {} without an authentication middleware",
                    r.router,
                    r.hosts.join(", ")
                ),
                "Add the Authelia forward-auth middleware to the router's middlewares label.",
            ));
        }
        if !r.tls {
            out.push(finding(
                FindingKind::RouteWithoutTls,
                Severity::Medium,
                format!("Traefik router '{}' has no TLS", r.router),
                "Set `traefik.http.routers.<name>.tls=true` (and a certresolver) and serve it on the websecure entrypoint.",
            ));
        }
    }
}

fn image_findings(
    f: &ServiceFacts,
    settings: &AuditSettings,
    now: OffsetDateTime,
    out: &mut Vec<Finding>,
) {
    match image_tag(&f.image_ref) {
        ImageTag::Untagged => out.push(finding(
            FindingKind::ImageUntagged,
            Severity::Medium,
            format!(
                "runs image '{}' with no tag: nobody can tell which version it is",
                short(&f.image_ref)
            ),
            "Run a named, versioned tag (or a tag pinned by digest).",
        )),
        ImageTag::Latest => out.push(finding(
            FindingKind::ImageLatest,
            Severity::Medium,
            format!(
                "runs '{}': 'latest' changes under you and cannot be rolled back",
                f.image_ref
            ),
            "Pin a version tag, e.g. grafana/grafana:11.3.0.",
        )),
        ImageTag::Versioned => {}
    }
    if let Some(created) = f.image_created {
        let age_days = (now - created).whole_days();
        if age_days > settings.image_max_age_days {
            out.push(finding(
                FindingKind::ImageOld,
                Severity::Low,
                format!(
                    "image built {age_days} days ago (limit {} days)",
                    settings.image_max_age_days
                ),
                "Update to a current release; old images carry known vulnerabilities.",
            ));
        }
    }
}

fn short(s: &str) -> String {
    s.chars().take(19).collect()
}

#[derive(Debug, PartialEq, Eq)]
enum ImageTag {
    Versioned,
    Latest,
    Untagged,
}

/// `nginx` and `nginx:latest` are latest; `sha256:…` or a bare id are untagged; `x@sha256:…` is pinned.
fn image_tag(reference: &str) -> ImageTag {
    if reference.is_empty()
        || reference.starts_with("sha256:")
        || (reference.len() >= 12 && reference.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return ImageTag::Untagged;
    }
    if reference.contains('@') {
        return ImageTag::Versioned;
    }
    // The tag follows the last ':' after the last '/', so a registry port is not a tag.
    let last = reference.rsplit('/').next().unwrap_or(reference);
    match last.rsplit_once(':') {
        Some((_, "latest")) | None => ImageTag::Latest,
        Some(_) => ImageTag::Versioned,
    }
}

#[cfg(test)]
mod tests;
