//! Each automatic check on plain inventory data, passing and failing with its fact.

use std::collections::BTreeMap;

use super::*;
use crate::inspection::traefik::routes;

fn odoo(labels: &[(&str, &str)], health: Option<&str>) -> LiveService {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    LiveService {
        engine: "lady".into(),
        key: "erp/odoo".into(),
        facts: ServiceFacts {
            state: "running".into(),
            health: health.map(String::from),
            healthcheck: health.map(|_| "curl -f localhost:8069".into()),
            restart_policy: "unless-stopped".into(),
            image_ref: "odoo:17".into(),
            routes: routes(
                &labels,
                &["authelia@docker".to_string()],
                &crate::config::EntrypointDefaults::default(),
            ),
            labels,
            ..Default::default()
        },
        stale: false,
        findings: vec![],
        route_probed_ok: false,
    }
}

fn chosen() -> Chosen {
    Chosen {
        name: "Odoo".into(),
        service_match: "odoo".into(),
        decided: "Odoo, chosen by Alice on 2026-11-20".into(),
    }
}

fn outcome(check: Check, services: &[LiveService], chosen: Option<&Chosen>) -> Outcome {
    run(
        check,
        &Context {
            chosen,
            host: "accounting.quietly.online",
            allowlist_middleware: Some("vpn-only@file"),
            services,
            docs: &[],
            backup_jobs: &[],
        },
    )
}

const ROUTER: (&str, &str) = (
    "traefik.http.routers.odoo.rule",
    "Host(`accounting.quietly.online`)",
);

#[test]
fn nothing_is_proved_before_a_decision() {
    let services = [odoo(&[ROUTER], Some("healthy"))];
    for check in Check::ALL {
        let o = outcome(check, &services, None);
        assert!(!o.verified, "{check:?}");
    }
    assert_eq!(
        outcome(Check::Container, &services, None).fact,
        "No system has been chosen yet."
    );
}

#[test]
fn the_container_must_exist_and_be_healthy() {
    let c = chosen();
    assert_eq!(
        outcome(Check::Container, &[], Some(&c)).fact,
        "No container matching 'odoo' (Odoo) on any engine."
    );
    let starting = [odoo(&[], Some("starting"))];
    assert_eq!(
        outcome(Check::Container, &starting, Some(&c)).fact,
        "erp/odoo on lady is running but its health is starting."
    );
    let healthy = [odoo(&[], Some("healthy"))];
    assert!(outcome(Check::Container, &healthy, Some(&c)).verified);
    assert!(outcome(Check::RestartHealth, &healthy, Some(&c)).verified);
    let mut stale = odoo(&[], Some("healthy"));
    stale.stale = true;
    assert_eq!(
        outcome(Check::Container, &[stale], Some(&c)).fact,
        "erp/odoo on lady was last seen running, but the engine lady has not answered since."
    );
    let unchecked = [odoo(&[], None)];
    assert!(!outcome(Check::Container, &unchecked, Some(&c)).verified);
    assert_eq!(
        outcome(Check::RestartHealth, &unchecked, Some(&c)).fact,
        "erp/odoo has no health check."
    );
}

#[test]
fn router_authelia_tls_and_allowlist_step_by_step() {
    let c = chosen();
    let check = |labels: &[(&str, &str)], check: Check| {
        outcome(check, &[odoo(labels, Some("healthy"))], Some(&c))
    };
    let other_host = [("traefik.http.routers.odoo.rule", "Host(`erp.example.org`)")];
    assert_eq!(
        check(&other_host, Check::Router).fact,
        "No Traefik router for accounting.quietly.online on erp/odoo (routers: odoo)."
    );
    assert!(check(&[ROUTER], Check::Router).verified);
    assert!(!check(&[ROUTER], Check::Authelia).verified);
    assert!(!check(&[ROUTER], Check::Tls).verified);
    assert!(!check(&[ROUTER], Check::Allowlist).verified);

    let with_auth = [
        ROUTER,
        ("traefik.http.routers.odoo.middlewares", "authelia@docker"),
    ];
    assert!(check(&with_auth, Check::Authelia).verified);
    let with_tls = [
        ROUTER,
        ("traefik.http.routers.odoo.tls.certresolver", "letsencrypt"),
    ];
    assert!(check(&with_tls, Check::Tls).verified);

    // An allow-list defined in labels, or the configured file-provider name.
    let labelled = [
        ROUTER,
        (
            "traefik.http.routers.odoo.middlewares",
            "authelia@docker,vpn@docker",
        ),
        (
            "traefik.http.middlewares.vpn.ipallowlist.sourcerange",
            "10.8.0.0/24",
        ),
    ];
    let o = check(&labelled, Check::Allowlist);
    assert!(o.verified, "{}", o.fact);
    let legacy = [
        ROUTER,
        ("traefik.http.routers.odoo.middlewares", "office"),
        (
            "traefik.http.middlewares.office.ipwhitelist.sourcerange",
            "10.8.0.0/24",
        ),
    ];
    assert!(check(&legacy, Check::Allowlist).verified);
    let file = [
        ROUTER,
        ("traefik.http.routers.odoo.middlewares", "vpn-only@file"),
    ];
    assert!(check(&file, Check::Allowlist).verified);
    let undefined = [
        ROUTER,
        ("traefik.http.routers.odoo.middlewares", "ratelimit@docker"),
    ];
    assert_eq!(
        check(&undefined, Check::Allowlist).fact,
        "Router 'odoo' uses no IP allow-list middleware (known: vpn-only@file)."
    );
}

#[test]
fn the_service_doc_must_pass_the_checklist() {
    use app::model::docs::{DocCheck, DocStatus};
    let c = chosen();
    let services = [odoo(&[], Some("healthy"))];
    let doc = |passing: bool| DocStatus {
        path: "services/odoo.md".into(),
        title: Some("Odoo".into()),
        services: vec!["erp/odoo".into()],
        engine: Some("lady".into()),
        owner: None,
        last_verified: None,
        attested: None,
        fresh: passing,
        passing,
        checks: vec![DocCheck {
            name: "Backup and restore".into(),
            passed: passing,
            reason: String::new(),
        }],
        covers: vec![("lady".into(), "erp/odoo".into())],
    };
    let run_with = |docs: &[DocStatus]| {
        run(
            Check::Doc,
            &Context {
                chosen: Some(&c),
                host: "accounting.quietly.online",
                allowlist_middleware: None,
                services: &services,
                docs,
                backup_jobs: &[],
            },
        )
    };
    assert_eq!(run_with(&[]).fact, "No doc covers erp/odoo on lady.");
    assert_eq!(
        run_with(&[doc(false)]).fact,
        "services/odoo.md fails the checklist (Backup and restore)."
    );
    assert!(run_with(&[doc(true)]).verified);
}

#[test]
fn check_names_round_trip() {
    for c in Check::ALL {
        assert_eq!(Check::parse(c.as_str()), Some(c));
    }
    assert_eq!(Check::parse("nope"), None);
}

#[test]
fn backups_and_monitoring_verify_from_the_heartbeats_and_the_probes() {
    let c = chosen();
    let mut s = odoo(&[ROUTER], Some("healthy"));
    let jobs = crate::evidence::backups::effective_jobs(
        &[],
        &[("lady/erp/odoo".to_string(), "erp-nightly".to_string())],
    );
    let run_with =
        |check: Check, s: &LiveService, jobs: &[crate::evidence::backups::EffectiveJob]| {
            run(
                check,
                &Context {
                    chosen: Some(&c),
                    host: "accounting.quietly.online",
                    allowlist_middleware: None,
                    services: std::slice::from_ref(s),
                    docs: &[],
                    backup_jobs: jobs,
                },
            )
        };
    assert!(
        run_with(Check::Backup, &s, &[])
            .fact
            .starts_with("No backup job covers lady/erp/odoo")
    );
    assert!(run_with(Check::Backup, &s, &jobs).verified);
    s.findings.push(FindingKind::RestoreUntested);
    assert_eq!(
        run_with(Check::Backup, &s, &jobs).fact,
        "Job erp-nightly covers lady/erp/odoo, but: Restore not tested."
    );
    assert!(!run_with(Check::Monitoring, &s, &jobs).verified);
    s.route_probed_ok = true;
    assert!(run_with(Check::Monitoring, &s, &jobs).verified);
}
