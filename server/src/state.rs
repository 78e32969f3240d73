//! The one state type every handler receives.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::auth::oidc::OidcClient;
use crate::config::Settings;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: PgPool,
    pub settings: Arc<Settings>,
    /// The identity provider's client, when an issuer is configured.
    pub oidc: Option<Arc<OidcClient>>,
}

impl AppState {
    pub fn new(db: PgPool, settings: Arc<Settings>) -> anyhow::Result<Self> {
        let oidc = match &settings.auth.oidc {
            Some(o) => Some(Arc::new(OidcClient::new(o.clone())?)),
            None => None,
        };
        Ok(Self { db, settings, oidc })
    }
}
