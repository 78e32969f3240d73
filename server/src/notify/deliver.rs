//! Sending what is queued: due messages go out with a timeout; a failure is retried with a
//! growing delay (30 s, 2 min, 8 min, 32 min, then hourly) up to six attempts, each attempt
//! recorded. Channels set to a daily digest get their held messages as one, at the configured
//! hour.

use std::time::Duration;

use sqlx::PgPool;
use time::OffsetDateTime;

use app::model::notify::Mode;

use super::channels::{self, Message};
use super::delivery_queries::{self, Due};
use super::queries;
use crate::config::Settings;

pub const MAX_ATTEMPTS: i32 = 6;

/// How long to wait after the `failed`-th failed attempt.
pub fn retry_delay(failed: i32) -> Duration {
    let exponent = u32::try_from(failed.saturating_sub(1)).unwrap_or(0).min(6);
    Duration::from_secs((30 * 4u64.pow(exponent)).min(3600))
}

/// One client for every channel: a short timeout, and no redirects (a receiver cannot send the
/// portal's message, or its token, somewhere else).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap_or_default()
}

/// Sends one delivery and records the attempt; the outcome, for a page to report.
async fn attempt(
    db: &PgPool,
    settings: &Settings,
    client: &reqwest::Client,
    d: Due,
    now: OffsetDateTime,
) -> sqlx::Result<Result<u16, String>> {
    let Some(channel) = settings
        .notify
        .channels
        .iter()
        .find(|c| c.name == d.channel)
    else {
        let why = format!("the channel '{}' is no longer configured", d.channel);
        delivery_queries::abandon(db, d.id, &why).await?;
        return Ok(Err(why));
    };
    let message = Message {
        delivery_id: d.id,
        kind: d.kind,
        rule: d.rule,
        key: d.key,
        title: d.title,
        body: d.body,
        severity: d.severity,
        link: d.link.map(|path| format!("{}{path}", settings.public_url)),
        at: d.created_at,
    };
    let outcome = channels::send(client, channels::request(channel, &message, now)).await;
    let failed = d.attempts + 1;
    let retry_at = match &outcome {
        Err(_) if failed < MAX_ATTEMPTS => Some(now + retry_delay(failed)),
        _ => None,
    };
    match &outcome {
        Ok(status) => {
            tracing::info!(delivery = d.id, channel = %d.channel, status, "notification sent")
        }
        Err((_, why)) => tracing::warn!(
            delivery = d.id,
            channel = %d.channel,
            attempt = failed,
            retry = retry_at.is_some(),
            why = %why,
            "notification not delivered"
        ),
    }
    let reported = outcome.clone().map_err(|(_, why)| why);
    delivery_queries::record_attempt(db, d.id, outcome, retry_at).await?;
    Ok(reported)
}

/// Sends every due message; how many were tried.
pub async fn send_due(
    db: &PgPool,
    settings: &Settings,
    client: &reqwest::Client,
    now: OffsetDateTime,
) -> sqlx::Result<usize> {
    let due = delivery_queries::due(db, now, 50).await?;
    let n = due.len();
    for d in due {
        // A failed attempt is recorded and logged inside; the loop goes on to the next.
        let _outcome = attempt(db, settings, client, d, now).await?;
    }
    Ok(n)
}

/// Sends one queued message now (the settings page's test); None when there is no such message.
pub async fn send_now(
    db: &PgPool,
    settings: &Settings,
    client: &reqwest::Client,
    id: i64,
) -> sqlx::Result<Option<Result<u16, String>>> {
    match delivery_queries::one(db, id).await? {
        Some(d) => Ok(Some(
            attempt(db, settings, client, d, OffsetDateTime::now_utc()).await?,
        )),
        None => Ok(None),
    }
}

/// The most titles a digest lists before it says how many more.
const DIGEST_LINES: usize = 40;

/// Turns each digest channel's held messages into one, once a day from the digest hour on.
pub async fn make_digests(
    db: &PgPool,
    settings: &Settings,
    now: OffsetDateTime,
) -> sqlx::Result<usize> {
    if now.hour() < settings.notify.digest_hour_utc {
        return Ok(0);
    }
    let modes = queries::modes(db).await?;
    let mut made = 0;
    for channel in &settings.notify.channels {
        if modes.get(&channel.name) != Some(&Mode::Digest) {
            continue;
        }
        let last = delivery_queries::last_digest_at(db, &channel.name).await?;
        if last.is_some_and(|t| t.date() == now.date()) {
            continue;
        }
        let held = delivery_queries::held(db, &channel.name).await?;
        if held.is_empty() {
            continue;
        }
        let mut lines: Vec<String> = held
            .iter()
            .take(DIGEST_LINES)
            .map(|(_, title, _)| format!("- {title}"))
            .collect();
        if held.len() > DIGEST_LINES {
            lines.push(format!("… and {} more", held.len() - DIGEST_LINES));
        }
        let title = format!(
            "Audit Portal: {} condition{} since the last digest",
            held.len(),
            if held.len() == 1 { "" } else { "s" }
        );
        let ids: Vec<i64> = held.iter().map(|(id, _, _)| *id).collect();
        delivery_queries::make_digest(db, &channel.name, &ids, &title, &lines.join("\n")).await?;
        made += 1;
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        let waits: Vec<u64> = (1..=7).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(waits, [30, 120, 480, 1920, 3600, 3600, 3600]);
        assert_eq!(retry_delay(0).as_secs(), 30);
    }
}
