//! The checklist items the inventory can prove, checked on plain data: the chosen system's
//! container, its Traefik router for the configured host, Authelia, TLS, the VPN allow-list,
//! restart policy and health check, its documentation, its backups (from the heartbeats) and
//! its monitoring (a passing health check and a route that answers the probes).

use app::model::TraefikRoute;
use app::model::docs::DocStatus;
use app::model::{FindingKind, ServiceFacts};

use crate::inspection::traefik::{allowlist_middlewares, same_middleware};

/// What the portal checks for an item; stored as text on the item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    Decision,
    Container,
    Router,
    Authelia,
    Tls,
    Allowlist,
    RestartHealth,
    Doc,
    Backup,
    Monitoring,
}

impl Check {
    pub const ALL: [Check; 10] = [
        Check::Decision,
        Check::Container,
        Check::Router,
        Check::Authelia,
        Check::Tls,
        Check::Allowlist,
        Check::RestartHealth,
        Check::Doc,
        Check::Backup,
        Check::Monitoring,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Check::Decision => "decision",
            Check::Container => "container",
            Check::Router => "router",
            Check::Authelia => "authelia",
            Check::Tls => "tls",
            Check::Allowlist => "allowlist",
            Check::RestartHealth => "restart_health",
            Check::Doc => "doc",
            Check::Backup => "backup",
            Check::Monitoring => "monitoring",
        }
    }

    pub fn parse(text: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// A service of the live inventory, as the checks need it.
#[derive(Clone, Debug)]
pub struct LiveService {
    pub engine: String,
    pub key: String,
    pub facts: ServiceFacts,
    /// Its engine has not answered lately: the facts are the last known ones.
    pub stale: bool,
    /// Its open findings, by kind.
    pub findings: Vec<FindingKind>,
    /// Whether one of its routes answered its latest probe.
    pub route_probed_ok: bool,
}

/// The candidate a rollout decided on.
#[derive(Clone, Debug)]
pub struct Chosen {
    pub name: String,
    /// Matched against service keys and image references, case-insensitively (e.g. "odoo").
    pub service_match: String,
    /// "ERPNext, chosen by … on …": the decision item's fact.
    pub decided: String,
}

pub struct Context<'a> {
    pub chosen: Option<&'a Chosen>,
    pub host: &'a str,
    /// A middleware name that counts as the allow-list even though no label defines it
    /// (Traefik's file provider, e.g. `vpn-only@file`).
    pub allowlist_middleware: Option<&'a str>,
    pub services: &'a [LiveService],
    pub docs: &'a [DocStatus],
    /// The backup jobs (configuration and labels), by the services they cover.
    pub backup_jobs: &'a [crate::evidence::backups::EffectiveJob],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub verified: bool,
    pub fact: String,
}

fn yes(fact: String) -> Outcome {
    Outcome {
        verified: true,
        fact,
    }
}

fn no(fact: String) -> Outcome {
    Outcome {
        verified: false,
        fact,
    }
}

impl Context<'_> {
    /// The chosen system's services: running ones first.
    fn system(&self) -> Result<(&Chosen, Vec<&LiveService>), Outcome> {
        let chosen = self
            .chosen
            .ok_or_else(|| no("No system has been chosen yet.".into()))?;
        let needle = chosen.service_match.to_lowercase();
        let mut found: Vec<&LiveService> = self
            .services
            .iter()
            .filter(|s| {
                s.key.to_lowercase().contains(&needle)
                    || s.facts.image_ref.to_lowercase().contains(&needle)
            })
            .collect();
        found.sort_by_key(|s| s.facts.state != "running");
        if found.is_empty() {
            return Err(no(format!(
                "No container matching '{}' ({}) on any engine.",
                chosen.service_match, chosen.name
            )));
        }
        Ok((chosen, found))
    }

    /// The router serving the configured host on the chosen system's containers.
    fn router(&self) -> Result<(&LiveService, &TraefikRoute), Outcome> {
        let (_, services) = self.system()?;
        let host = self.host.to_lowercase();
        for s in &services {
            if let Some(route) = s.facts.routes.iter().find(|r| r.hosts.contains(&host)) {
                return Ok((s, route));
            }
        }
        let routers: Vec<String> = services
            .iter()
            .flat_map(|s| s.facts.routes.iter().map(|r| r.router.clone()))
            .collect();
        Err(no(format!(
            "No Traefik router for {} on {} (routers: {}).",
            self.host,
            services[0].key,
            if routers.is_empty() {
                "none".into()
            } else {
                routers.join(", ")
            }
        )))
    }

    fn allowlists(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .services
            .iter()
            .flat_map(|s| allowlist_middlewares(&s.facts.labels))
            .collect();
        names.extend(self.allowlist_middleware.map(String::from));
        names
    }
}

pub fn run(check: Check, cx: &Context) -> Outcome {
    match check {
        Check::Decision => match cx.chosen {
            Some(c) => yes(c.decided.clone()),
            None => no("No decision recorded yet.".into()),
        },
        Check::Container => match cx.system() {
            Err(o) => o,
            Ok((_, services)) => {
                let s = services[0];
                let at = format!("{} on {}", s.key, s.engine);
                // Health is a live fact: an engine that stopped answering proves nothing now.
                // (Labels and restart policy are configuration, still known from the last read.)
                if s.stale {
                    return no(format!(
                        "{at} was last seen {}, but the engine {} has not answered since.",
                        s.facts.state, s.engine
                    ));
                }
                match (s.facts.state.as_str(), s.facts.health.as_deref()) {
                    ("running", Some("healthy")) => yes(format!(
                        "{at} is running and healthy ({}).",
                        s.facts.image_ref
                    )),
                    ("running", Some(h)) => no(format!("{at} is running but its health is {h}.")),
                    ("running", None) => no(format!(
                        "{at} is running but has no health check, so nothing says it is healthy."
                    )),
                    (state, _) => no(format!("{at} is {state}.")),
                }
            }
        },
        Check::Router => match cx.router() {
            Err(o) => o,
            Ok((s, r)) => yes(format!(
                "Router '{}' on {} has the rule {}.",
                r.router, s.key, r.rule
            )),
        },
        Check::Authelia => match cx.router() {
            Err(o) => o,
            Ok((_, r)) if r.authenticated => yes(format!(
                "Router '{}' is behind Authelia (middlewares: {}).",
                r.router,
                r.middlewares.join(", ")
            )),
            Ok((_, r)) => no(format!(
                "Router '{}' has no Authelia middleware (middlewares: {}).",
                r.router,
                if r.middlewares.is_empty() {
                    "none".into()
                } else {
                    r.middlewares.join(", ")
                }
            )),
        },
        Check::Tls => match cx.router() {
            Err(o) => o,
            Ok((_, r)) if r.tls => yes(format!("Router '{}' serves TLS.", r.router)),
            Ok((_, r)) => no(format!(
                "Router '{}' has no TLS (no tls=true or tls.certresolver label).",
                r.router
            )),
        },
        Check::Allowlist => match cx.router() {
            Err(o) => o,
            Ok((_, r)) => {
                let known = cx.allowlists();
                match r
                    .middlewares
                    .iter()
                    .find(|m| known.iter().any(|k| same_middleware(m, k)))
                {
                    Some(m) => yes(format!(
                        "Router '{}' uses the IP allow-list middleware {m}.",
                        r.router
                    )),
                    None => no(format!(
                        "Router '{}' uses no IP allow-list middleware (known: {}).",
                        r.router,
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    )),
                }
            }
        },
        Check::RestartHealth => match cx.system() {
            Err(o) => o,
            Ok((_, services)) => {
                let s = services[0];
                let policy = s.facts.restart_policy.as_str();
                let restarts = matches!(policy, "always" | "unless-stopped" | "on-failure");
                match (restarts, s.facts.healthcheck.is_some()) {
                    (true, true) => yes(format!(
                        "{} restarts ({policy}) and has a health check.",
                        s.key
                    )),
                    (false, _) => no(format!(
                        "{} has restart policy '{}'.",
                        s.key,
                        if policy.is_empty() { "no" } else { policy }
                    )),
                    (true, false) => no(format!("{} has no health check.", s.key)),
                }
            }
        },
        Check::Doc => match cx.system() {
            Err(o) => o,
            Ok((_, services)) => {
                let s = services[0];
                let doc = cx.docs.iter().find(|d| {
                    d.covers
                        .iter()
                        .any(|(engine, key)| *engine == s.engine && *key == s.key)
                });
                match doc {
                    None => no(format!("No doc covers {} on {}.", s.key, s.engine)),
                    Some(d) if d.passing => {
                        yes(format!("{} passes the documentation checklist.", d.path))
                    }
                    Some(d) => {
                        let failing: Vec<&str> = d
                            .checks
                            .iter()
                            .filter(|c| !c.passed)
                            .map(|c| c.name.as_str())
                            .collect();
                        no(format!(
                            "{} fails the checklist ({}).",
                            d.path,
                            failing.join(", ")
                        ))
                    }
                }
            }
        },
        Check::Backup => match cx.system() {
            Err(o) => o,
            Ok((_, services)) => {
                let s = services[0];
                let at = format!("{}/{}", s.engine, s.key);
                let jobs: Vec<&str> = cx
                    .backup_jobs
                    .iter()
                    .filter(|j| j.covers.contains(&at))
                    .map(|j| j.job.as_str())
                    .collect();
                const BACKUP: [FindingKind; 4] = [
                    FindingKind::BackupMissing,
                    FindingKind::BackupLate,
                    FindingKind::BackupFailing,
                    FindingKind::RestoreUntested,
                ];
                let wrong: Vec<&str> = s
                    .findings
                    .iter()
                    .filter(|k| BACKUP.contains(k))
                    .map(|k| k.title())
                    .collect();
                match (jobs.is_empty(), wrong.is_empty()) {
                    (true, _) => no(format!(
                        "No backup job covers {at} (declare one in [[backups]] or label it audit.backup=<job>)."
                    )),
                    (false, true) => yes(format!(
                        "Job {} covers {at}: backups on time and the restore tested.",
                        jobs.join(", ")
                    )),
                    (false, false) => no(format!(
                        "Job {} covers {at}, but: {}.",
                        jobs.join(", "),
                        wrong.join(", ")
                    )),
                }
            }
        },
        Check::Monitoring => match cx.system() {
            Err(o) => o,
            Ok((_, services)) => {
                let s = services[0];
                let healthy = s.facts.state == "running"
                    && s.facts.health.as_deref() == Some("healthy")
                    && !s.stale;
                match (healthy, s.route_probed_ok) {
                    (true, true) => yes(format!(
                        "{} passes its health check and its route answers the portal's probes.",
                        s.key
                    )),
                    (false, _) => no(format!(
                        "{} has no passing health check right now ({}).",
                        s.key,
                        s.facts.health.as_deref().unwrap_or("none")
                    )),
                    (true, false) => no(format!(
                        "{} is healthy, but no route of it has answered a probe (uptime is not measured).",
                        s.key
                    )),
                }
            }
        },
    }
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
