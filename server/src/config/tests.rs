//! Configuration parsing: defaults, precedence, and one clear error per bad value.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    Settings::load_from(None, &env(pairs))
}

#[test]
fn defaults_are_usable() {
    let s = load(&[]).expect("defaults");
    assert_eq!(s.listen.to_string(), "127.0.0.1:3000");
    assert_eq!(s.public_url, "http://127.0.0.1:3000");
    assert!(s.database_url.is_none());
    assert_eq!(s.refresh.interval, Duration::from_secs(30));
    assert_eq!(
        s.audit.allowed_public_ports,
        vec![80, 443, 25, 465, 587, 993]
    );
    assert!(s.engines.is_empty());
}

#[test]
fn bad_listen_names_the_key() {
    let err = load(&[("AUDIT_LISTEN", "nonsense")]).unwrap_err();
    assert_eq!(err.key, "AUDIT_LISTEN");
    assert_eq!(
        err.to_string(),
        "configuration: AUDIT_LISTEN: 'nonsense' is not a socket address such as 127.0.0.1:3000"
    );
}

#[test]
fn database_url_is_secret_and_checked() {
    let s = load(&[("DATABASE_URL", "postgres://app:pw@127.0.0.1/audit")]).expect("valid");
    assert!(!format!("{s:?}").contains("pw@"));
    assert!(
        s.describe()
            .contains("postgres://app:[redacted]@127.0.0.1/audit")
    );
    let err = load(&[("DATABASE_URL", "mysql://root:pw@x")]).unwrap_err();
    assert_eq!(err.key, "DATABASE_URL");
    assert!(!err.to_string().contains("pw"), "{err}");
}

#[test]
fn engines_from_environment() {
    let s = load(&[
        (
            "AUDIT_ENGINES",
            "master=unix:///var/run/docker.sock, lady=tcp://lady.internal:2376",
        ),
        ("AUDIT_ENGINE_LADY_TLS_DIR", "/etc/audit/lady"),
    ])
    .expect("valid");
    assert_eq!(s.engines.len(), 2);
    assert_eq!(
        s.engines[0].endpoint,
        EngineEndpoint::Unix("/var/run/docker.sock".into())
    );
    assert_eq!(
        s.engines[1].endpoint,
        EngineEndpoint::Tcp {
            address: "lady.internal:2376".into(),
            tls_dir: Some("/etc/audit/lady".into())
        }
    );
    for (bad, needle) in [
        ("master", "must be name=endpoint"),
        ("m a=unix:///x", "engine name"),
        ("m=http://x:1", "must start with unix:// or tcp://"),
        ("m=tcp://x", "is not host:port"),
        ("m=unix://rel/path", "must be absolute"),
        ("m=unix:///a,m=unix:///b", "listed twice"),
    ] {
        let err = load(&[("AUDIT_ENGINES", bad)]).unwrap_err();
        assert!(err.problem.contains(needle), "{bad}: {err}");
    }
}

#[test]
fn numbers_are_range_checked() {
    let err = load(&[("AUDIT_REFRESH_INTERVAL", "0")]).unwrap_err();
    assert_eq!(err.key, "AUDIT_REFRESH_INTERVAL");
    let err = load(&[("AUDIT_REFRESH_INTERVAL", "ten")]).unwrap_err();
    assert!(err.problem.contains("'ten' is not a number of seconds"));
    let err = load(&[("AUDIT_REFRESH_INTERVAL", "5"), ("AUDIT_CALL_TIMEOUT", "5")]).unwrap_err();
    assert!(
        err.problem.contains("shorter than the refresh interval"),
        "{err}"
    );
    let s = load(&[("AUDIT_REFRESH_INTERVAL", "5")]).expect("timeout follows a short interval");
    assert!(s.refresh.call_timeout < s.refresh.interval);
    let err = load(&[("AUDIT_ALLOWED_PORTS", "80,https")]).unwrap_err();
    assert!(err.problem.contains("'https' is not a port number"));
}

#[test]
fn file_values_and_environment_precedence() {
    let dir = std::env::temp_dir().join(format!("audit-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("audit.toml");
    std::fs::write(
        &path,
        r#"
listen = "127.0.0.1:4000"
public_url = "https://audit.quietly.online/"
[refresh]
interval_secs = 60
[audit]
allowed_public_ports = [443]
[[engines]]
name = "master"
endpoint = "unix:///run/docker.sock"
"#,
    )
    .expect("write");
    let s = Settings::load_from(Some(&path), &env(&[("AUDIT_LISTEN", "127.0.0.1:5000")]))
        .expect("valid");
    assert_eq!(s.listen.port(), 5000, "environment wins");
    assert_eq!(s.public_url, "https://audit.quietly.online");
    assert_eq!(s.refresh.interval.as_secs(), 60);
    assert_eq!(s.audit.allowed_public_ports, vec![443]);
    assert_eq!(s.engines[0].name, "master");

    std::fs::write(&path, "listen = 3000\n").expect("write");
    let err = Settings::load_from(Some(&path), &[]).unwrap_err();
    assert!(err.problem.starts_with("line 1:"), "{err}");
    assert!(!err.to_string().contains('\n'));

    std::fs::write(&path, "[refresh]\nintervall_secs = 3\n").expect("write");
    let err = Settings::load_from(Some(&path), &[]).unwrap_err();
    assert!(err.problem.contains("unknown field"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn oidc_settings_need_client_credentials_and_hide_the_secret() {
    let err = load(&[("AUDIT_OIDC_ISSUER", "https://auth.quietly.online")]).unwrap_err();
    assert_eq!(err.key, "AUDIT_OIDC_CLIENT_ID");
    let s = load(&[
        ("AUDIT_PUBLIC_URL", "https://audit.quietly.online"),
        ("AUDIT_OIDC_ISSUER", "https://auth.quietly.online/"),
        ("AUDIT_OIDC_CLIENT_ID", "audit-portal"),
        ("AUDIT_OIDC_CLIENT_SECRET", "very-secret-value"),
    ])
    .expect("valid");
    let oidc = s.auth.oidc.as_ref().expect("oidc");
    assert_eq!(oidc.issuer, "https://auth.quietly.online");
    assert_eq!(
        oidc.redirect_url,
        "https://audit.quietly.online/auth/callback"
    );
    assert!(!format!("{s:?}").contains("very-secret-value"));
    assert!(!s.describe().contains("very-secret-value"));
    assert!(s.describe().contains("client_secret [redacted]"));
    assert_eq!(
        oidc.sign_out_url, None,
        "no provider sign-out page unless given"
    );
}

#[test]
fn the_provider_sign_out_page_must_be_an_absolute_url() {
    let oidc = [
        ("AUDIT_OIDC_ISSUER", "https://auth.quietly.online"),
        ("AUDIT_OIDC_CLIENT_ID", "audit-portal"),
        ("AUDIT_OIDC_CLIENT_SECRET", "s"),
    ];
    let with = |url: &'static str| {
        let mut env = oidc.to_vec();
        env.push(("AUDIT_OIDC_SIGN_OUT_URL", url));
        load(&env)
    };
    let s = with("https://auth.quietly.online/logout").expect("valid");
    assert_eq!(
        s.auth.oidc.unwrap().sign_out_url.as_deref(),
        Some("https://auth.quietly.online/logout")
    );
    let err = with("auth.quietly.online/logout").unwrap_err();
    assert_eq!(err.key, "AUDIT_OIDC_SIGN_OUT_URL");
    assert!(
        err.problem.contains("absolute http(s) URL"),
        "{}",
        err.problem
    );
}

#[test]
fn the_demo_sign_in_is_loopback_only_and_never_with_an_issuer() {
    let s = load(&[("AUDIT_DEMO_SIGN_IN", "true")]).expect("valid");
    assert!(s.check_can_serve().is_ok());
    assert!(s.auth.check_usable(true, true).is_ok());
    let err = s.auth.check_usable(false, true).unwrap_err();
    assert_eq!(err.key, "AUDIT_DEMO_SIGN_IN");
    let public = load(&[
        ("AUDIT_DEMO_SIGN_IN", "true"),
        ("AUDIT_PUBLIC_URL", "https://audit.quietly.online"),
    ])
    .expect("valid for check-config");
    let err = public.check_can_serve().unwrap_err();
    assert!(err.problem.contains("AUDIT_PUBLIC_URL"), "{}", err.problem);
    let localhost = load(&[
        ("AUDIT_DEMO_SIGN_IN", "true"),
        ("AUDIT_PUBLIC_URL", "http://localhost:3000"),
    ])
    .expect("valid");
    assert!(localhost.check_can_serve().is_ok());
    let err = load(&[
        ("AUDIT_DEMO_SIGN_IN", "true"),
        ("AUDIT_OIDC_ISSUER", "https://auth.quietly.online"),
        ("AUDIT_OIDC_CLIENT_ID", "a"),
        ("AUDIT_OIDC_CLIENT_SECRET", "b"),
    ])
    .unwrap_err();
    assert_eq!(err.key, "AUDIT_DEMO_SIGN_IN");
    let none = load(&[]).expect("valid without sign-in for check-config and migrate");
    assert!(
        none.auth
            .check_usable(true, true)
            .unwrap_err()
            .problem
            .contains("sign-in is not configured")
    );
    let err = load(&[("AUDIT_GROUP_EDITOR", "audit-admins")]).unwrap_err();
    assert!(err.problem.contains("three different"));
}

#[test]
fn edge_settings_parse_and_refuse_bad_values_by_name() {
    let s = load(&[
        ("AUDIT_PROBE_VIA", "traefik:443"),
        (
            "AUDIT_PROBE_URLS",
            "https://status.example/, http://x.example:8080/health",
        ),
        (
            "AUDIT_TRAEFIK_ENTRYPOINT_MIDDLEWARES",
            "websecure=authelia@file, websecure=headers@file",
        ),
        ("AUDIT_TRAEFIK_TLS_ENTRYPOINTS", "websecure"),
        ("AUDIT_AUTHELIA_URL", "https://Auth.Example/"),
    ])
    .expect("valid edge settings");
    assert_eq!(s.edge.probe.via.as_deref(), Some("traefik:443"));
    assert_eq!(s.edge.probe.via_http.as_deref(), Some("traefik:80"));
    assert_eq!(s.edge.probe.extra_urls.len(), 2);
    assert_eq!(
        s.edge.entrypoints.middlewares["websecure"],
        ["authelia@file", "headers@file"]
    );
    assert_eq!(s.edge.authelia_host.as_deref(), Some("auth.example"));
    assert_eq!(s.edge.probe.interval, Duration::from_secs(60));

    let key_of = |pairs: &[(&str, &str)]| load(pairs).unwrap_err().key;
    assert_eq!(key_of(&[("AUDIT_PROBE_VIA", "traefik")]), "AUDIT_PROBE_VIA");
    assert_eq!(
        key_of(&[("AUDIT_PROBE_URLS", "ftp://x/")]),
        "AUDIT_PROBE_URLS"
    );
    assert_eq!(
        key_of(&[("AUDIT_TRAEFIK_ENTRYPOINT_MIDDLEWARES", "websecure")]),
        "AUDIT_TRAEFIK_ENTRYPOINT_MIDDLEWARES"
    );
    assert_eq!(
        key_of(&[
            ("AUDIT_PROBE_INTERVAL", "10"),
            ("AUDIT_PROBE_TIMEOUT", "10")
        ]),
        "AUDIT_PROBE_TIMEOUT"
    );
    assert_eq!(
        key_of(&[("AUDIT_TRAEFIK_API", "traefik:8080")]),
        "AUDIT_TRAEFIK_API"
    );
    assert_eq!(
        key_of(&[("AUDIT_PROBE_CA_FILE", "/nonexistent/ca.pem")]),
        "AUDIT_PROBE_CA_FILE"
    );
}

#[test]
fn the_traefik_api_secret_comes_from_a_file_and_is_never_printed() {
    let dir = std::env::temp_dir().join(format!("audit-traefik-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let basic = dir.join("basic");
    std::fs::write(&basic, "monitor:s3cret-value\n").expect("write");
    let s = load(&[
        ("AUDIT_TRAEFIK_API", "http://traefik:8080/"),
        ("AUDIT_TRAEFIK_API_AUTH_FILE", basic.to_str().expect("path")),
    ])
    .expect("settings");
    let api = s.edge.traefik_api.expect("api");
    assert_eq!(api.url, "http://traefik:8080");
    assert!(matches!(&api.auth, Some(ApiAuth::Basic { user, .. }) if user == "monitor"));
    assert!(!format!("{api:?}").contains("s3cret"));
    let bearer = dir.join("bearer");
    std::fs::write(&bearer, "Bearer abc.def\n").expect("write");
    let s = load(&[
        ("AUDIT_TRAEFIK_API", "http://traefik:8080"),
        (
            "AUDIT_TRAEFIK_API_AUTH_FILE",
            bearer.to_str().expect("path"),
        ),
    ])
    .expect("settings");
    assert!(
        matches!(s.edge.traefik_api.and_then(|a| a.auth), Some(ApiAuth::Bearer(t)) if t.expose() == "abc.def")
    );
    std::fs::remove_dir_all(dir).ok();
}
