//! The relying party against a provider of our own that signs whatever ID token a scenario asks
//! for: every broken token or flow is refused with a clear page and creates no session; a valid
//! one signs in (so the refusals are not an artefact of a broken provider).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::{settings, spawn_app};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, EmptyAdditionalClaims, IssuerUrl, JsonWebKeyId, Nonce, PrivateSigningKey,
    StandardClaims, SubjectIdentifier,
};
use serde_json::{Value, json};
use sqlx::PgPool;

const KEY_1: &str = include_str!("../fixtures/test-signing-key-1.pem");
const KEY_2: &str = include_str!("../fixtures/test-signing-key-2.pem");
const CLIENT_ID: &str = "audit-portal";
const SUBJECT: &str = "9b2e5c1a-7f3d-4e8a-b6c0-2d4f6a8b0c1e";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Scenario {
    Valid,
    WrongNonce,
    WrongIssuer,
    WrongAudience,
    Expired,
    OtherKey,
    AlgNone,
    /// A valid token whose `auth_time` is ten minutes old: the provider did not ask again.
    StaleAuth,
    /// A valid token that does not say when the person authenticated.
    NoAuthTime,
    /// Signed with a key the provider has just added to its JWKS (key rotation).
    RotatedKey,
}

#[derive(Clone)]
struct Provider {
    issuer: String,
    scenario: Arc<Mutex<Scenario>>,
    /// The nonce of the latest authorization request, as the portal sent it.
    nonce: Arc<Mutex<String>>,
    /// Code exchanges the token endpoint answered (a code must be exchanged once only).
    exchanges: Arc<AtomicUsize>,
    /// Whether the JWKS also publishes the second key, under its own id.
    rotated: Arc<AtomicBool>,
}

fn key(pem: &str) -> CoreRsaPrivateSigningKey {
    key_with_id(pem, "key-1")
}

fn key_with_id(pem: &str, id: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(id.into()))).unwrap()
}

async fn discovery(State(p): State<Provider>) -> Json<Value> {
    Json(json!({
        "issuer": p.issuer,
        "authorization_endpoint": format!("{}/authorize", p.issuer),
        "token_endpoint": format!("{}/token", p.issuer),
        "userinfo_endpoint": format!("{}/userinfo", p.issuer),
        "jwks_uri": format!("{}/jwks", p.issuer),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(State(p): State<Provider>) -> Json<CoreJsonWebKeySet> {
    let mut keys = vec![key(KEY_1).as_verification_key()];
    if p.rotated.load(Ordering::SeqCst) {
        keys.push(key_with_id(KEY_2, "key-2").as_verification_key());
    }
    Json(CoreJsonWebKeySet::new(keys))
}

async fn token(State(p): State<Provider>) -> Json<Value> {
    p.exchanges.fetch_add(1, Ordering::SeqCst);
    let scenario = *p.scenario.lock().unwrap();
    let nonce = match scenario {
        Scenario::WrongNonce => "not-the-nonce-you-sent".to_string(),
        _ => p.nonce.lock().unwrap().clone(),
    };
    let issuer = match scenario {
        Scenario::WrongIssuer => "http://127.0.0.1:1/someone-else".to_string(),
        _ => p.issuer.clone(),
    };
    let audience = if scenario == Scenario::WrongAudience {
        "another-client"
    } else {
        CLIENT_ID
    };
    let now = Utc::now();
    let (issued, expires) = if scenario == Scenario::Expired {
        (now - Duration::minutes(2), now - Duration::minutes(1))
    } else {
        (now, now + Duration::minutes(5))
    };
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(issuer).unwrap(),
        vec![Audience::new(audience.into())],
        expires,
        issued,
        StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new(SUBJECT.into())),
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(nonce)))
    .set_auth_time(match scenario {
        Scenario::StaleAuth => Some(now - Duration::minutes(10)),
        Scenario::NoAuthTime => None,
        _ => Some(now),
    });
    let id_token = match scenario {
        Scenario::AlgNone => {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
            let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
            format!("{header}.{payload}.")
        }
        _ => {
            let signer = match scenario {
                Scenario::OtherKey => key(KEY_2),
                Scenario::RotatedKey => key_with_id(KEY_2, "key-2"),
                _ => key(KEY_1),
            };
            let token = CoreIdToken::new(
                claims,
                &signer,
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                None,
                None,
            )
            .unwrap();
            serde_json::to_value(&token)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    Json(
        json!({ "access_token": "test-access-token", "token_type": "Bearer", "expires_in": 300, "id_token": id_token }),
    )
}

async fn userinfo() -> Json<Value> {
    Json(
        json!({ "sub": SUBJECT, "preferred_username": "alice", "name": "Alice Admin", "groups": ["audit-admins"] }),
    )
}

async fn start_provider() -> Provider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let provider = Provider {
        issuer,
        scenario: Arc::new(Mutex::new(Scenario::Valid)),
        nonce: Arc::new(Mutex::new(String::new())),
        exchanges: Arc::new(AtomicUsize::new(0)),
        rotated: Arc::new(AtomicBool::new(false)),
    };
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .route("/userinfo", get(userinfo))
        .with_state(provider.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    provider
}

/// Starts a sign-in: the portal's redirect to the provider, whose query holds state and nonce.
async fn begin(app: &crate::common::TestApp, provider: &Provider) -> (String, String) {
    let response = app.get("/auth/login?next=%2Fservices").await;
    assert_eq!(response.status(), 303);
    let location = reqwest::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert!(
        location
            .as_str()
            .starts_with(&format!("{}/authorize", provider.issuer))
    );
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(
        param("code_challenge_method").as_deref(),
        Some("S256"),
        "PKCE with S256"
    );
    assert!(param("code_challenge").is_some());
    assert_eq!(
        param("scope").as_deref(),
        Some("openid profile email groups")
    );
    let state = param("state").unwrap();
    *provider.nonce.lock().unwrap() = param("nonce").unwrap();
    (state, location.to_string())
}

async fn signed_in(app: &crate::common::TestApp) -> bool {
    app.get("/services").await.status() == 200
}

async fn portal(db: PgPool, provider: &Provider) -> crate::common::TestApp {
    let s = settings(&[
        ("AUDIT_OIDC_ISSUER", &provider.issuer),
        ("AUDIT_OIDC_CLIENT_ID", CLIENT_ID),
        ("AUDIT_OIDC_CLIENT_SECRET", "rp-test-secret"),
    ]);
    spawn_app(db, s).await
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_valid_sign_in_works_and_its_replay_does_not(db: PgPool) {
    let provider = start_provider().await;
    let app = portal(db.clone(), &provider).await;
    let (state, _) = begin(&app, &provider).await;
    let callback = format!("/auth/callback?code=abc&state={state}");
    let response = app.get(&callback).await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    assert_eq!(response.headers()["location"], "/services");
    let (_, page) = app.get_text("/services").await;
    assert!(
        page.contains("Alice Admin") && page.contains(">admin<"),
        "UserInfo's name and groups were merged"
    );
    let (issuer, subject): (String, String) = sqlx::query_as(
        "SELECT actor_issuer, actor_subject FROM audit_log WHERE action = 'auth.sign_in'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        (issuer.as_str(), subject.as_str()),
        (provider.issuer.as_str(), SUBJECT),
        "identified by issuer + sub"
    );

    // The same callback again, in a browser with no sign-in in progress: refused.
    let other = portal(db, &provider).await;
    let (status, page) = other.get_text(&callback).await;
    assert_eq!(status, 401);
    assert!(page.contains("No sign-in was in progress"), "{page}");
    assert!(!signed_in(&other).await);
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn broken_tokens_are_refused_and_create_no_session(db: PgPool) {
    let provider = start_provider().await;
    for (scenario, expected) in [
        (Scenario::WrongNonce, "nonce"),
        (Scenario::WrongIssuer, "issuer"),
        (Scenario::WrongAudience, "audience"),
        (Scenario::Expired, "expired"),
        (Scenario::OtherKey, "signature"),
        (Scenario::AlgNone, "not valid"),
    ] {
        *provider.scenario.lock().unwrap() = scenario;
        let app = portal(db.clone(), &provider).await;
        let (state, _) = begin(&app, &provider).await;
        let (status, page) = app
            .get_text(&format!("/auth/callback?code=abc&state={state}"))
            .await;
        assert_eq!(status, 401, "{scenario:?}");
        assert!(
            page.contains("Sign-in failed"),
            "{scenario:?}: a readable page"
        );
        assert!(
            page.to_lowercase().contains(expected),
            "{scenario:?}: the reason names '{expected}': {page}"
        );
        assert!(
            !signed_in(&app).await,
            "{scenario:?}: no session was created"
        );
    }
    let sign_ins: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(sign_ins, 0);
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_missing_or_foreign_state_is_refused(db: PgPool) {
    let provider = start_provider().await;
    let app = portal(db.clone(), &provider).await;
    begin(&app, &provider).await;
    let (status, page) = app.get_text("/auth/callback?code=abc").await;
    assert_eq!(status, 401);
    assert!(page.contains("state mismatch"), "{page}");
    assert!(!signed_in(&app).await);

    // State from another browser's sign-in.
    let victim = portal(db.clone(), &provider).await;
    let (their_state, _) = begin(&victim, &provider).await;
    begin(&app, &provider).await;
    let (status, _) = app
        .get_text(&format!("/auth/callback?code=abc&state={their_state}"))
        .await;
    assert_eq!(status, 401);
    assert!(!signed_in(&app).await);

    // A forged refusal (someone else's link) neither shows its text nor cancels this browser's
    // sign-in in progress.
    let (state, _) = begin(&app, &provider).await;
    let (status, page) = app
        .get_text(
            "/auth/callback?error=access_denied&error_description=Call%20555-0100%20to%20unlock%20your%20account",
        )
        .await;
    assert_eq!(status, 401);
    assert!(page.contains("state mismatch"), "{page}");
    assert!(!page.contains("555-0100"), "{page}");
    let response = app
        .get(&format!("/auth/callback?code=abc&state={state}"))
        .await;
    assert_eq!(response.status(), 303, "the real answer still signs in");
    assert!(signed_in(&app).await);

    // The provider's own refusal, with this browser's state: only its standard code is shown.
    let refused = portal(db.clone(), &provider).await;
    let (state, _) = begin(&refused, &provider).await;
    let (status, page) = refused
        .get_text(&format!(
            "/auth/callback?state={state}&error=access_denied&error_description=%3Cscript%3Ex%3C%2Fscript%3E%20call%20555-0100"
        ))
        .await;
    assert_eq!(status, 401);
    assert!(page.contains("access_denied"), "{page}");
    assert!(
        !page.contains("555-0100") && !page.contains("script"),
        "{page}"
    );
    let (state, _) = begin(&refused, &provider).await;
    let (_, page) = refused
        .get_text(&format!(
            "/auth/callback?state={state}&error=%3Cb%3Eyour_account_is_locked%3C%2Fb%3E"
        ))
        .await;
    assert!(
        page.contains("unknown error") && !page.contains("your_account_is_locked"),
        "{page}"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn on_https_the_session_cookie_carries_the_host_prefix(db: PgPool) {
    let provider = start_provider().await;
    let s = settings(&[
        ("AUDIT_OIDC_ISSUER", &provider.issuer),
        ("AUDIT_OIDC_CLIENT_ID", CLIENT_ID),
        ("AUDIT_OIDC_CLIENT_SECRET", "rp-test-secret"),
    ]);
    let app = crate::common::spawn_app_with_scheme(db, s, "https").await;
    let response = app.get("/auth/login?next=%2Fservices").await;
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("__Host-audit_session="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"),
        "{cookie}"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_rotated_signing_key_is_fetched_and_the_code_is_exchanged_once(db: PgPool) {
    let provider = start_provider().await;
    let mut app = portal(db.clone(), &provider).await;
    let (state, _) = begin(&app, &provider).await;
    let response = app
        .get(&format!("/auth/callback?code=abc&state={state}"))
        .await;
    assert_eq!(response.status(), 303, "first sign-in caches the JWKS");
    assert_eq!(provider.exchanges.load(Ordering::SeqCst), 1);

    // The provider rotates to a new key the portal's cached JWKS does not hold yet.
    provider.rotated.store(true, Ordering::SeqCst);
    *provider.scenario.lock().unwrap() = Scenario::RotatedKey;
    // Another browser on the same portal, whose provider client holds the old keys.
    app.client = crate::common::new_client();
    let (state, _) = begin(&app, &provider).await;
    let response = app
        .get(&format!("/auth/callback?code=abc&state={state}"))
        .await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    assert_eq!(
        provider.exchanges.load(Ordering::SeqCst),
        2,
        "the spent code was not exchanged a second time"
    );
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn a_sign_off_on_a_stale_sign_in_asks_the_provider_to_authenticate_again(db: PgPool) {
    let provider = start_provider().await;
    let mut s = settings(&[
        ("AUDIT_OIDC_ISSUER", &provider.issuer),
        ("AUDIT_OIDC_CLIENT_ID", CLIENT_ID),
        ("AUDIT_OIDC_CLIENT_SECRET", "rp-test-secret"),
    ]);
    s.auth.reauth_max_age = std::time::Duration::from_secs(1);
    let app = spawn_app(db.clone(), s).await;
    let (state, _) = begin(&app, &provider).await;
    let response = app
        .get(&format!("/auth/callback?code=abc&state={state}"))
        .await;
    assert_eq!(response.status(), 303);
    let response = app
        .post_form(
            "/phases",
            "/phases/create",
            &[("number", "PHASE-40"), ("title", "Re-authentication")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let phase = response.headers()["location"].to_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    let signoff_path = format!("{phase}/signoff");
    let sign = || {
        app.post_form(
            &phase,
            &signoff_path,
            &[
                ("decision", "approved"),
                ("comment", "kept across the provider"),
            ],
        )
    };
    let response = sign().await;
    assert_eq!(response.status(), 303);
    let login = response.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(login, format!("/auth/login?fresh=1&next={phase}"));

    // The portal asks for a fresh authentication: max_age and prompt=login.
    let fresh = |scenario: Scenario| {
        let (app, provider, login) = (&app, &provider, login.clone());
        async move {
            *provider.scenario.lock().unwrap() = scenario;
            let response = app.get(&login).await;
            assert_eq!(response.status(), 303);
            let url =
                reqwest::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
            let param = |name: &str| {
                url.query_pairs()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
            };
            assert_eq!(param("max_age").as_deref(), Some("1"));
            assert_eq!(param("prompt").as_deref(), Some("login"));
            *provider.nonce.lock().unwrap() = param("nonce").unwrap();
            app.get_text(&format!(
                "/auth/callback?code=abc&state={}",
                param("state").unwrap()
            ))
            .await
        }
    };
    // A provider that answers with the old authentication is not believed.
    let (status, page) = fresh(Scenario::StaleAuth).await;
    assert_eq!(status, 401);
    assert!(page.contains("did not authenticate you again"), "{page}");
    let signoffs = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM phase_signoffs")
            .fetch_one(&db)
            .await
            .unwrap()
    };
    assert_eq!(signoffs().await, 0);
    // A provider that does not say when the person authenticated proves nothing either.
    let (status, page) = fresh(Scenario::NoAuthTime).await;
    assert_eq!(status, 401);
    assert!(page.contains("no auth_time"), "{page}");
    assert_eq!(signoffs().await, 0);

    let (status, _) = fresh(Scenario::Valid).await;
    assert_eq!(status, 303);
    let (_, page) = app.get_text(&phase).await;
    assert!(
        page.contains("kept across the provider"),
        "the draft survived"
    );
    let response = sign().await;
    assert_eq!(response.status(), 303);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .contains("/signoffs/")
    );
    assert_eq!(signoffs().await, 1);
    let auth_time: i64 = sqlx::query_scalar("SELECT auth_time FROM phase_signoffs")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(
        chrono::Utc::now().timestamp() - auth_time <= 5,
        "the record holds the fresh authentication's time"
    );
}
