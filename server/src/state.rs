//! The one state type every handler receives.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::config::Settings;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: PgPool,
    pub settings: Arc<Settings>,
}
