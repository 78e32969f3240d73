//! Routes from the outside, against real HTTPS servers on 127.0.0.1 with certificates made by
//! the test, containers on the private engine carrying the Traefik labels for their hosts, and a
//! stand-in of Traefik's API.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::docker::{Fleet, Spec, socket};
use crate::common::edge::{Behaviour, CertKind, EdgeServer, TestCa, TraefikApiStandIn};
use crate::common::{settings, spawn_app};
use app::model::{FindingKind, Role, ServiceSummary};
use audit_portal::edge::probe::HostTable;
use audit_portal::edge::{Prober, probe_once};
use audit_portal::worker::Worker;
use serde_json::json;
use sqlx::PgPool;

async fn summaries(db: &PgPool, fleet: &Fleet) -> BTreeMap<String, ServiceSummary> {
    audit_portal::inventory::services::summaries(db, Duration::from_secs(600))
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.key.starts_with(&format!("{}/", fleet.project)))
        .map(|s| {
            (
                s.key
                    .trim_start_matches(&format!("{}/", fleet.project))
                    .to_string(),
                s,
            )
        })
        .collect()
}

fn kinds(s: &ServiceSummary) -> Vec<FindingKind> {
    let mut k: Vec<FindingKind> = s.findings.iter().map(|f| f.kind).collect();
    k.sort();
    k
}

/// A healthy container whose router serves `host` over TLS; `auth` adds Authelia's middleware,
/// else the service is marked as signing people in itself (so no "route without auth").
fn routed(host: &str, router: &str, auth: bool) -> Spec {
    let spec = Spec::good()
        .label(&format!(
            "traefik.http.routers.{router}.rule=Host(`{host}`)"
        ))
        .label(&format!("traefik.http.routers.{router}.tls=true"));
    if auth {
        spec.label(&format!(
            "traefik.http.routers.{router}.middlewares=authelia@docker"
        ))
    } else {
        spec.label("audit.auth=oidc")
    }
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn every_route_finding_from_real_https_servers(db: PgPool) {
    use Behaviour::*;
    use CertKind::*;
    let ca = TestCa::new();
    let hosts: &[(&str, CertKind, Behaviour)] = &[
        ("valid.routes.test", Valid, Ok),
        ("expiring.routes.test", ExpiresInDays(5), Ok),
        ("expired.routes.test", Expired, Ok),
        ("wrongname.routes.test", WrongName, Ok),
        ("selfsigned.routes.test", SelfSigned, Ok),
        ("error.routes.test", Valid, Status(500)),
        ("slow.routes.test", Valid, Slow(1_600)),
        (
            "login.routes.test",
            Valid,
            Redirect("https://auth.routes.test/?rd=https%3A%2F%2Flogin.routes.test%2F"),
        ),
        ("open.routes.test", Valid, Ok),
        ("silent.routes.test", Valid, Silent),
        ("garbage.routes.test", Valid, Garbage),
        ("endless.routes.test", Valid, Endless),
        (
            "loop.routes.test",
            Valid,
            Redirect("https://loop.routes.test/"),
        ),
    ];
    let edge = EdgeServer::start(&ca, hosts).await;
    let ca_file = std::env::temp_dir().join(format!("audit-test-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, &ca.pem).unwrap();

    let fleet = Fleet::new("r");
    for (host, _, _) in hosts {
        let name = host.split('.').next().unwrap();
        let auth = matches!(name, "login" | "open");
        fleet.run(name, &routed(host, name, auth));
    }
    for (host, _, _) in hosts {
        fleet.wait_health(host.split('.').next().unwrap(), "healthy");
    }

    let via = edge.addr.to_string();
    let engines = format!("test=unix://{}", socket());
    let ca_path = ca_file.display().to_string();
    let settings = Arc::new(settings(&[
        ("AUDIT_ENGINES", &engines),
        ("AUDIT_PROBE_VIA", &via),
        ("AUDIT_PROBE_CA_FILE", &ca_path),
        // Wide margins on both sides of the slow threshold: a TLS handshake in a debug build on
        // a busy two-core machine took over 300 ms (every route was called slow at 300).
        ("AUDIT_PROBE_TIMEOUT", "3"),
        ("AUDIT_PROBE_SLOW_MS", "1000"),
        ("AUDIT_AUTHELIA_URL", "https://auth.routes.test"),
    ]));
    let mut worker = Worker::new(db.clone(), settings.clone());
    worker.refresh_once().await.unwrap();
    let prober = Prober::new(&settings.edge.probe).unwrap();
    // Three rounds, so the 24-hour p95 has enough samples to call a route slow.
    for _ in 0..3 {
        let started = Instant::now();
        let report = probe_once(&db, &settings, &prober).await.unwrap();
        assert!(report.urls >= hosts.len(), "{report:?}");
        // The silent server and the endless body are cut off by the 3 s deadline, in parallel.
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }
    worker.refresh_once().await.unwrap();

    let found: BTreeMap<String, Vec<FindingKind>> = summaries(&db, &fleet)
        .await
        .iter()
        .map(|(k, s)| (k.clone(), kinds(s)))
        .collect();
    use FindingKind::*;
    let expected: BTreeMap<String, Vec<FindingKind>> = [
        ("valid", vec![]),
        ("expiring", vec![CertExpiring]),
        ("expired", vec![CertInvalid]),
        ("wrongname", vec![CertInvalid]),
        ("selfsigned", vec![CertInvalid]),
        ("error", vec![RouteError]),
        ("slow", vec![RouteSlow]),
        ("login", vec![]),
        ("open", vec![AuthNotEnforced]),
        ("silent", vec![RouteUnreachable]),
        ("garbage", vec![RouteError]),
        ("endless", vec![]),
        ("loop", vec![RouteError]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(found, expected);

    // The facts say what a person needs to act.
    let all = summaries(&db, &fleet).await;
    let fact = |service: &str, kind: FindingKind| {
        all[service]
            .findings
            .iter()
            .find(|f| f.kind == kind)
            .unwrap()
            .fact
            .clone()
    };
    assert!(
        fact("error", RouteError).contains("answers 500"),
        "{}",
        fact("error", RouteError)
    );
    assert!(
        fact("expiring", CertExpiring).contains("expires in 4 day")
            || fact("expiring", CertExpiring).contains("expires in 5 day")
    );
    assert!(
        fact("wrongname", CertInvalid).contains("not valid for name"),
        "{}",
        fact("wrongname", CertInvalid)
    );
    assert!(
        fact("selfsigned", CertInvalid)
            .to_lowercase()
            .contains("issuer"),
        "{}",
        fact("selfsigned", CertInvalid)
    );
    assert!(
        fact("expired", CertInvalid)
            .to_lowercase()
            .contains("expired"),
        "{}",
        fact("expired", CertInvalid)
    );
    assert!(
        fact("silent", RouteUnreachable).contains("no answer within 3 s"),
        "{}",
        fact("silent", RouteUnreachable)
    );
    assert!(fact("loop", RouteError).contains("redirects to itself"));

    // What users get, not what the container says: the healthy container behind a failing
    // route is below 100%, by its routes' probes; a good route stays at 100%.
    let error = &all["error"];
    assert_eq!(error.health.as_deref(), Some("healthy"));
    assert!(error.availability_from_routes);
    assert_eq!(error.availability_24h, Some(0.0));
    assert_eq!(all["valid"].availability_24h, Some(1.0));
    assert_eq!((all["error"].routes, all["error"].routes_failing), (1, 1));

    // Each route records what its probe showed of the sign-in wall.
    let routes = audit_portal::edge::queries::list(&db, None).await.unwrap();
    let verdict = |host: &str| {
        let r = routes.iter().find(|r| r.host == host).unwrap();
        (r.auth_expected, r.auth_verdict)
    };
    assert_eq!(verdict("login.routes.test"), (true, Some(true)));
    assert_eq!(verdict("open.routes.test"), (true, Some(false)));
    assert_eq!(
        verdict("error.routes.test").1,
        None,
        "a 500 proves nothing either way"
    );

    // The pages: /routes lists every route; a service's page shows its route in full.
    let app = spawn_app(db.clone(), (*settings).clone()).await;
    app.sign_in(Role::Viewer).await;
    let (status, html) = app.get_text("/routes?sort=cert").await;
    assert_eq!(status, 200);
    for (host, _, _) in hosts {
        assert!(
            html.contains(&format!("https://{host}/")),
            "{host} missing from /routes"
        );
    }
    let expired_at = html.find("https://expired.routes.test/").unwrap();
    let valid_at = html.find("https://valid.routes.test/").unwrap();
    assert!(expired_at < valid_at, "soonest expiry first");
    let (status, page) = app
        .get_text(&format!("/services/test/{}", fleet.key("expiring")))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("Audit Portal Test CA"), "issuer shown");
    assert!(page.contains("days left"));
    assert!(page.contains("share of successful probes"));
    let (_, filtered) = app.get_text("/services?routes=failing").await;
    assert!(filtered.contains(&fleet.key("error")) || filtered.contains(">error<"));
    assert!(!filtered.contains(&format!("/services/test/{}\"", fleet.key("valid"))));
    let (_, grades) = app.get_text("/grades").await;
    assert!(
        grades.contains("by their routes&#x27; probes")
            || grades.contains("by their routes' probes"),
        "the formula names the kind"
    );
    std::fs::remove_file(ca_file).ok();
}

#[tokio::test]
async fn a_host_that_does_not_resolve_is_unreachable_within_the_deadline() {
    // No DNS: the probe resolves through a hosts table that lacks the name, as /etc/hosts would.
    let settings = settings(&[("AUDIT_PROBE_TIMEOUT", "2")]);
    let mut probe = settings.edge.probe.clone();
    probe.via = None;
    probe.via_http = None;
    let prober = Prober::new(&probe)
        .unwrap()
        .with_hosts(HostTable::default());
    let started = Instant::now();
    let outcome = prober.probe("https://nowhere.routes.test/").await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        outcome.failure,
        Some(audit_portal::edge::probe::Failure::Unreachable)
    );
    assert!(outcome.error.unwrap().contains("does not resolve"));
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn traefiks_own_view_replaces_labels_and_entrypoint_defaults_count(db: PgPool) {
    let fleet = Fleet::new("t");
    // Labels alone: a router with neither TLS nor authentication of its own.
    let plain = |router: &str, host: &str| {
        Spec::good().label(&format!(
            "traefik.http.routers.{router}.rule=Host(`{host}`)"
        ))
    };
    fleet.run("grafana", &plain("grafana", "grafana.routes.test"));
    fleet.run("legacy", &plain("legacy", "legacy.routes.test"));
    fleet.run("nas", &Spec::good());
    for s in ["grafana", "legacy", "nas"] {
        fleet.wait_health(s, "healthy");
    }
    let engines = format!("test=unix://{}", socket());

    // Without the API: the labels give a false "no TLS, no auth" on grafana...
    let without = Arc::new(settings(&[("AUDIT_ENGINES", &engines)]));
    Worker::new(db.clone(), without)
        .refresh_once()
        .await
        .unwrap();
    let before = summaries(&db, &fleet).await;
    assert_eq!(
        kinds(&before["grafana"]),
        [FindingKind::RouteWithoutAuth, FindingKind::RouteWithoutTls]
    );
    // ...which the entrypoint defaults already correct.
    let with_defaults = Arc::new(settings(&[
        ("AUDIT_ENGINES", &engines),
        ("AUDIT_TRAEFIK_TLS_ENTRYPOINTS", "websecure"),
        (
            "AUDIT_TRAEFIK_ENTRYPOINT_MIDDLEWARES",
            "websecure=authelia@file",
        ),
    ]));
    Worker::new(db.clone(), with_defaults)
        .refresh_once()
        .await
        .unwrap();
    assert_eq!(kinds(&summaries(&db, &fleet).await["grafana"]), []);

    // Traefik's API, shaped as Traefik v3's /api/http/* handlers answer.
    let routers = json!([
        {"entryPoints": ["websecure"], "service": "grafana", "rule": "Host(`grafana.routes.test`)",
         "status": "enabled", "using": ["websecure"], "name": "grafana@docker", "provider": "docker"},
        {"entryPoints": ["websecure"], "service": "legacy", "rule": "Host(`legacy.routes.test`)",
         "status": "disabled", "error": ["middleware \"gone@file\" does not exist"],
         "using": ["websecure"], "name": "legacy@docker", "provider": "docker"},
        {"entryPoints": ["websecure"], "service": "nas", "rule": "Host(`nas.routes.test`)",
         "tls": {"options": "default"}, "status": "enabled", "using": ["websecure"],
         "name": "nas@file", "provider": "file"},
        {"entryPoints": ["web"], "service": "printer", "rule": "Host(`printer.routes.test`)",
         "status": "enabled", "using": ["web"], "name": "printer@file", "provider": "file"},
        {"entryPoints": ["traefik"], "service": "api@internal", "rule": "PathPrefix(`/api`)",
         "status": "enabled", "using": ["traefik"], "name": "api@internal", "provider": "internal"}
    ]);
    let middlewares = json!([
        {"forwardAuth": {"address": "http://authelia:9091/api/authz/forward-auth", "trustForwardHeader": true},
         "status": "enabled", "usedBy": ["websecure"], "name": "sso@file", "provider": "file", "type": "forwardauth"}
    ]);
    let services = json!([
        {"loadBalancer": {"servers": [{"url": "http://nas:5000"}], "passHostHeader": true},
         "status": "enabled", "usedBy": ["nas@file"], "name": "nas@file", "provider": "file", "type": "loadbalancer"},
        {"loadBalancer": {"servers": [{"url": "http://10.9.8.7:631"}]},
         "status": "enabled", "usedBy": ["printer@file"], "name": "printer@file", "provider": "file", "type": "loadbalancer"}
    ]);
    let entrypoints = json!([
        {"address": ":443", "http": {"middlewares": ["sso@file"], "tls": {"certResolver": "le"}}, "name": "websecure"},
        {"address": ":80", "http": {}, "name": "web"},
        {"address": ":8080", "name": "traefik"}
    ]);
    let api = TraefikApiStandIn::start(routers, middlewares, services, entrypoints).await;
    let with_api = Arc::new(settings(&[
        ("AUDIT_ENGINES", &engines),
        ("AUDIT_TRAEFIK_API", &api.url),
    ]));
    Worker::new(db.clone(), with_api.clone())
        .refresh_once()
        .await
        .unwrap();
    let after = summaries(&db, &fleet).await;
    assert_eq!(
        kinds(&after["grafana"]),
        [],
        "TLS and Authelia come from the entrypoint"
    );
    assert_eq!(kinds(&after["legacy"]), [FindingKind::RouterError]);
    assert!(after["legacy"].findings[0].fact.contains("gone@file"));
    assert_eq!(
        after["nas"].routes, 1,
        "the file router reaches nas by its service's URL"
    );

    let routes = audit_portal::edge::queries::list(&db, None).await.unwrap();
    let by_router = |name: &str| routes.iter().find(|r| r.router == name).unwrap();
    let grafana = by_router("grafana@docker");
    assert_eq!(grafana.middlewares, ["sso@file"]);
    assert!(grafana.tls && grafana.auth_expected && grafana.source == "traefik");
    assert_eq!(by_router("nas@file").service.as_ref().unwrap().2, "nas");
    let printer = by_router("printer@file");
    assert!(
        printer.service.is_none(),
        "listed although it reaches no container"
    );
    assert_eq!(printer.url, "http://printer.routes.test/");
    assert!(!routes.iter().any(|r| r.router == "api@internal"));

    // An unreachable API is recorded, and routes fall back to labels.
    drop(api);
    Worker::new(db.clone(), with_api)
        .refresh_once()
        .await
        .unwrap();
    let read = audit_portal::edge::queries::traefik_read(&db)
        .await
        .unwrap()
        .unwrap();
    assert!(!read.ok && read.failing_since.is_some(), "{read:?}");
    assert_eq!(
        kinds(&summaries(&db, &fleet).await["grafana"]),
        [FindingKind::RouteWithoutAuth, FindingKind::RouteWithoutTls]
    );
}
