//! The one state type every handler receives.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::auth::host::HostPolicy;
use crate::auth::oidc::OidcClient;
use crate::config::Settings;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: PgPool,
    pub settings: Arc<Settings>,
    /// The identity provider's client, when an issuer is configured.
    pub oidc: Option<Arc<OidcClient>>,
    /// The `Host` names requests may carry.
    pub host_policy: Arc<HostPolicy>,
}

impl AppState {
    pub fn new(db: PgPool, settings: Arc<Settings>) -> anyhow::Result<Self> {
        let oidc = match &settings.auth.oidc {
            Some(o) => Some(Arc::new(OidcClient::new(o.clone())?)),
            None => None,
        };
        let host_policy = Arc::new(HostPolicy::new(
            &settings.public_url,
            settings.auth.demo_sign_in && settings.auth.oidc.is_none(),
        ));
        Ok(Self {
            db,
            settings,
            oidc,
            host_policy,
        })
    }
}
