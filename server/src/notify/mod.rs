//! Notifications: the conditions admins want to hear about (a new high finding, an engine down,
//! the letter changing, ...) sent to ntfy, Gotify or a signed webhook. After each refresh the
//! worker opens a condition once and queues a message per channel ([`watch`]); a sender loop
//! beside it delivers them with retries and daily digests ([`deliver`]). The settings page
//! ([`page`]) chooses the rules, each channel's mode, and sends a test.

pub mod channels;
pub mod conditions;
pub mod deliver;
pub mod delivery_queries;
pub mod page;
pub mod queries;
pub mod watch;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;

/// How often the sender looks for due messages.
const SEND_EVERY: Duration = Duration::from_secs(5);

/// The sender loop, run by the worker that leads; ends with `shutdown`.
pub async fn run(pool: PgPool, settings: Arc<Settings>, shutdown: CancellationToken) {
    if settings.notify.channels.is_empty() {
        return;
    }
    let client = deliver::client();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(SEND_EVERY) => {}
        }
        let now = time::OffsetDateTime::now_utc();
        if let Err(e) = deliver::make_digests(&pool, &settings, now).await {
            tracing::warn!(error = %e, "notification digests not made");
        }
        if let Err(e) = deliver::send_due(&pool, &settings, &client, now).await {
            tracing::warn!(error = %e, "notifications not sent");
        }
    }
}
