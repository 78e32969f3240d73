//! The OpenID Connect relying party (Authelia): discovery, the authorization code flow with
//! PKCE (S256), `state` and `nonce`, ID token validation, and UserInfo for the profile and groups.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreProviderMetadata,
};
use openidconnect::{
    AccessToken, AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::RwLock;

use crate::config::OidcSettings;

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long discovery (and with it the provider's signing keys) is trusted before being fetched again.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// Clock skew allowed on `iat` in the future, and how old an ID token may be when it arrives.
const IAT_SKEW_SECS: i64 = 60;
const IAT_MAX_AGE_SECS: i64 = 600;

/// The `groups` claim, which Authelia (and the test provider) serve from UserInfo.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct GroupsClaim {
    #[serde(default)]
    pub groups: Vec<String>,
}
impl AdditionalClaims for GroupsClaim {}

/// A sign-in in progress, kept in the session between the redirect and the callback.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingSignIn {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: String,
    /// Set when a fresh authentication was demanded (sign-off): the callback checks `auth_time`.
    pub max_age_secs: Option<u64>,
}

/// What the provider said about the person, after every check passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub username: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub auth_time: i64,
}

struct Discovered {
    client: Client,
    fetched: Instant,
}

pub struct OidcClient {
    settings: OidcSettings,
    http: reqwest::Client,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

impl OidcClient {
    pub fn new(settings: OidcSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            // Following redirects would open the client to SSRF through a hostile provider answer.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .context("building the HTTP client for the identity provider")?;
        Ok(Self {
            settings,
            http,
            discovered: RwLock::new(None),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    /// The provider's metadata and keys, fetched on first use and again after an hour, so the
    /// portal starts even while the provider is down and follows key rotation.
    async fn discovered(&self, refresh: bool) -> anyhow::Result<Arc<Discovered>> {
        if !refresh
            && let Some(d) = self.discovered.read().await.as_ref()
            && d.fetched.elapsed() < DISCOVERY_TTL
        {
            return Ok(d.clone());
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .context("the issuer is not a valid URL")?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| anyhow!("discovery at {} failed: {e}", self.settings.issuer))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(
                self.settings.client_secret.expose().to_string(),
            )),
        )
        .set_redirect_uri(
            RedirectUrl::new(self.settings.redirect_url.clone())
                .context("the redirect URL is not valid")?,
        );
        let d = Arc::new(Discovered {
            client,
            fetched: Instant::now(),
        });
        *self.discovered.write().await = Some(d.clone());
        Ok(d)
    }

    /// The provider's sign-in URL and what the callback will need to check.
    /// `max_age` asks for a fresh authentication (and `prompt=login`).
    pub async fn begin(
        &self,
        next: String,
        max_age: Option<Duration>,
    ) -> anyhow::Result<(String, PendingSignIn)> {
        let d = self.discovered(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = d
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("groups".into()))
            .set_pkce_challenge(challenge);
        if let Some(age) = max_age {
            request = request.set_max_age(age).add_prompt(CoreAuthPrompt::Login);
        }
        let (url, state, nonce) = request.url();
        let pending = PendingSignIn {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next,
            max_age_secs: max_age.map(|a| a.as_secs()),
        };
        Ok((url.to_string(), pending))
    }

    /// Exchanges the code (once: a code is single-use) and validates everything. Errors are
    /// written for the person reading the sign-in page: they name what failed, never a secret.
    pub async fn finish(&self, pending: &PendingSignIn, code: &str) -> anyhow::Result<Identity> {
        let d = self.discovered(false).await?;
        let token = d
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .context("the provider has no token endpoint")?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| anyhow!("the code exchange was refused: {}", oauth_error(&e)))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| anyhow!("the provider returned no ID token"))?;
        let (d, claims) = match self.verify(&d, id_token, pending) {
            Ok(claims) => (d, claims),
            // A key the cached JWKS lacks may be a rotation: fetch the keys again and check the
            // same ID token once more (the code is spent; it is not exchanged twice).
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) => {
                let fresh = self.discovered(true).await?;
                let claims = self
                    .verify(&fresh, id_token, pending)
                    .map_err(|e| anyhow!("the ID token is not valid: {e}"))?;
                (fresh, claims)
            }
            Err(e) => bail!("the ID token is not valid: {e}"),
        };
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let auth_time = match (claims.auth_time(), pending.max_age_secs) {
            (Some(t), _) => t.timestamp(),
            // When a fresh authentication was asked for, a token that does not say when the
            // person authenticated proves nothing: refuse rather than assume "now".
            (None, Some(_)) => bail!(
                "the provider did not say when you last authenticated (no auth_time), so the fresh sign-in this needs cannot be confirmed"
            ),
            (None, None) => now,
        };
        if let Some(max_age) = pending.max_age_secs
            && now - auth_time > max_age as i64 + IAT_SKEW_SECS
        {
            bail!(
                "the provider did not authenticate you again (auth_time is {} s old)",
                now - auth_time
            );
        }
        let subject = claims.subject().clone();
        let mut identity = Identity {
            issuer: self.settings.issuer.clone(),
            subject: subject.as_str().to_string(),
            username: claims.preferred_username().map(|u| u.as_str().to_string()),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_string()),
            email: claims.email().map(|e| e.as_str().to_string()),
            groups: vec![],
            auth_time,
        };
        // Authelia 4.39+ serves the profile and groups from UserInfo only: read it and merge.
        let info = self
            .user_info(&d, token.access_token().clone(), subject)
            .await?;
        identity.username = info
            .preferred_username()
            .map(|u| u.as_str().to_string())
            .or(identity.username);
        identity.name = info
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string())
            .or(identity.name);
        identity.email = info
            .email()
            .map(|e| e.as_str().to_string())
            .or(identity.email);
        identity.groups = info.additional_claims().groups.clone();
        Ok(identity)
    }

    /// The ID token's signature, issuer, audience, expiry, issue time and nonce.
    fn verify<'t>(
        &self,
        d: &Discovered,
        id_token: &'t openidconnect::core::CoreIdToken,
        pending: &PendingSignIn,
    ) -> Result<&'t openidconnect::core::CoreIdTokenClaims, openidconnect::ClaimsVerificationError>
    {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let verifier = d
            .client
            .id_token_verifier()
            .set_issue_time_verifier_fn(move |iat| {
                let iat = iat.timestamp();
                if iat > now + IAT_SKEW_SECS {
                    Err("the ID token was issued in the future".into())
                } else if iat < now - IAT_MAX_AGE_SECS {
                    Err("the ID token was issued too long ago".into())
                } else {
                    Ok(())
                }
            });
        id_token.claims(&verifier, &Nonce::new(pending.nonce.clone()))
    }

    async fn user_info(
        &self,
        d: &Discovered,
        token: AccessToken,
        subject: openidconnect::SubjectIdentifier,
    ) -> anyhow::Result<UserInfoClaims<GroupsClaim, CoreGenderClaim>> {
        let request = d
            .client
            .user_info(token, Some(subject))
            .context("the provider has no UserInfo endpoint")?;
        request
            .request_async(&self.http)
            .await
            .map_err(|e| anyhow!("reading UserInfo failed: {e}"))
    }

    /// The provider's sign-out page, when configured (see `OidcSettings::sign_out_url`).
    pub fn sign_out_url(&self) -> Option<&str> {
        self.settings.sign_out_url.as_deref()
    }
}

/// The provider's own error code and description, without the request details.
fn oauth_error<E: std::error::Error>(e: &E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
