//! `/settings/notifications`: admins choose the rules and each channel's mode, and send a test
//! message through a channel. Channels and their secrets come from the configuration and are
//! shown by kind and host only.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use app::model::notify::{ChannelView, Mode, NotificationsView, Rule, RuleSetting};
use app::model::{Role, Section};
use app::pages::notifications::NotificationsPage;
use app::render_page;

use super::{deliver, delivery_queries, queries};
use crate::audited::{Change, Recorded};
use crate::auth::{CurrentUser, Page, authorize};
use crate::error::{AppError, AppResult};
use crate::routes::form::ValidForm;
use crate::state::AppState;

async fn render(
    state: &AppState,
    page: &Page,
    notice: Option<String>,
    error: Option<String>,
) -> AppResult<String> {
    let (rules, modes, deliveries) = tokio::try_join!(
        queries::rules(&state.db),
        queries::modes(&state.db),
        delivery_queries::recent(&state.db, 30),
    )?;
    let channels = state
        .settings
        .notify
        .channels
        .iter()
        .map(|c| ChannelView {
            name: c.name.clone(),
            kind: c.kind.as_str().into(),
            shown_url: c.shown_url(),
            has_secret: c.secret.is_some(),
            mode: modes.get(&c.name).copied().unwrap_or(Mode::Immediate),
        })
        .collect();
    let data = NotificationsView {
        rules,
        channels,
        deliveries,
        digest_hour_utc: state.settings.notify.digest_hour_utc,
        notice,
        error,
        now: OffsetDateTime::now_utc(),
    };
    Ok(render_page(
        page.meta("Notifications", Section::None),
        move || {
            view! { <NotificationsPage data=data/> }
        },
    ))
}

fn admin_only(page: &Page) -> AppResult<()> {
    if page.can(Role::Admin) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Notifications are set up by admins.".into(),
        ))
    }
}

#[derive(Deserialize)]
pub struct ShowQuery {
    tested: Option<i64>,
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<ShowQuery>,
) -> AppResult<Html<String>> {
    admin_only(&page)?;
    let notice = match (q.tested, q.saved.as_deref()) {
        (Some(id), _) => Some(test_outcome(&state, id).await?),
        (None, Some("rules")) => Some("Rules saved.".to_string()),
        (None, Some("mode")) => Some("Channel mode saved.".to_string()),
        _ => None,
    };
    Ok(Html(render(&state, &page, notice, None).await?))
}

/// What became of a test message, in words.
async fn test_outcome(state: &AppState, id: i64) -> AppResult<String> {
    let delivery = delivery_queries::delivery(&state.db, id).await?;
    Ok(match delivery.filter(|d| d.kind == "test") {
        Some(d) if d.state == "sent" => format!("Test message sent to {}.", d.channel),
        Some(d) => format!(
            "The test message to {} was not delivered: {}. It will be retried.",
            d.channel,
            d.last_error.as_deref().unwrap_or("no answer yet")
        ),
        None => "No such test message.".to_string(),
    })
}

/// `POST /settings/notifications/rules`: every rule's checkbox and the days of "open longer than".
pub async fn save_rules(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<HashMap<String, String>>,
) -> AppResult<Response> {
    const ACTION: &str = "notify.rules";
    authorize(&state.db, &user, Role::Admin, ACTION, "rules").await?;
    let days_text = form
        .get("days_finding_open")
        .map(|d| d.trim())
        .unwrap_or_default();
    let days = if days_text.is_empty() {
        Rule::DEFAULT_DAYS
    } else {
        match days_text
            .parse::<i32>()
            .ok()
            .filter(|d| (1..=365).contains(d))
        {
            Some(d) => d,
            None => {
                let message = format!(
                    "'{days_text}' is not a number of days from 1 to 365; nothing was saved."
                );
                let html = render(&state, &page, None, Some(message)).await?;
                return Ok((StatusCode::BAD_REQUEST, Html(html)).into_response());
            }
        }
    };
    let before = queries::rules(&state.db).await?;
    let after: Vec<RuleSetting> = Rule::ALL
        .into_iter()
        .map(|rule| RuleSetting {
            rule,
            enabled: form.contains_key(&format!("rule_{}", rule.slug())),
            days,
        })
        .collect();
    let describe = |rules: &[RuleSetting]| {
        json!(
            rules
                .iter()
                .map(|r| (
                    r.rule.slug(),
                    if r.rule.takes_days() {
                        json!({"on": r.enabled, "days": r.days})
                    } else {
                        json!(r.enabled)
                    }
                ))
                .collect::<HashMap<_, _>>()
        )
    };
    let change = Change {
        actor: &user,
        action: ACTION,
        target: "rules",
        before: Some(describe(&before)),
        after: Some(describe(&after)),
    };
    let by = user.display_name().to_string();
    crate::audited::write(&state.db, change, async |conn| -> sqlx::Result<()> {
        queries::save_rules(conn, &after, &by).await
    })
    .await?;
    Ok(Redirect::to("/settings/notifications?saved=rules").into_response())
}

fn channel_named<'a>(state: &'a AppState, name: &str) -> AppResult<&'a crate::config::Channel> {
    state
        .settings
        .notify
        .channels
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| AppError::NotFound(format!("A channel named '{name}'")))
}

#[derive(Deserialize)]
pub struct ModeForm {
    mode: String,
}

/// `POST /settings/notifications/channels/{name}/mode`: immediate or a daily digest.
pub async fn set_mode(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    Path(name): Path<String>,
    ValidForm(form): ValidForm<ModeForm>,
) -> AppResult<Response> {
    const ACTION: &str = "notify.mode";
    authorize(&state.db, &user, Role::Admin, ACTION, &name).await?;
    let channel = channel_named(&state, &name)?;
    let Some(mode) = Mode::parse(&form.mode) else {
        let message = format!(
            "'{}' is not a mode (immediate or digest); nothing was saved.",
            form.mode
        );
        let html = render(&state, &page, None, Some(message)).await?;
        return Ok((StatusCode::BAD_REQUEST, Html(html)).into_response());
    };
    let before = queries::modes(&state.db)
        .await?
        .get(&channel.name)
        .copied()
        .unwrap_or(Mode::Immediate);
    let change = Change {
        actor: &user,
        action: ACTION,
        target: &channel.name,
        before: Some(before.slug()),
        after: Some(mode.slug()),
    };
    let by = user.display_name().to_string();
    crate::audited::write(&state.db, change, async |conn| -> sqlx::Result<()> {
        queries::set_mode(conn, &channel.name, mode, &by).await
    })
    .await?;
    Ok(Redirect::to("/settings/notifications?saved=mode").into_response())
}

/// The test button's form carries nothing but its CSRF token.
#[derive(Deserialize)]
pub struct TestForm {}

/// `POST /settings/notifications/channels/{name}/test`: queues a test message, recorded as who
/// asked, and sends it at once; a failure stays queued for the usual retries.
pub async fn send_test(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(name): Path<String>,
    ValidForm(_): ValidForm<TestForm>,
) -> AppResult<Response> {
    const ACTION: &str = "notify.test";
    authorize(&state.db, &user, Role::Admin, ACTION, &name).await?;
    let channel = channel_named(&state, &name)?;
    let who = user.display_name().to_string();
    let title = "Audit Portal: test message".to_string();
    let body = format!("{who} sent this test from the notification settings.");
    let id = crate::audited::write_recording(
        &state.db,
        &user,
        ACTION,
        async |conn| -> sqlx::Result<_> {
            let id = delivery_queries::queue(
                conn,
                &delivery_queries::NewDelivery {
                    channel: &channel.name,
                    kind: "test",
                    condition_id: None,
                    title: &title,
                    body: &body,
                    severity: "info",
                    link: Some("/settings/notifications"),
                    state: "pending",
                    requested_by: Some(&who),
                },
            )
            .await?;
            let recorded = Recorded::<(), _> {
                target: channel.name.clone(),
                before: None,
                after: Some(json!({ "delivery": id })),
            };
            Ok((id, recorded))
        },
    )
    .await?;
    deliver::send_now(&state.db, &state.settings, &deliver::client(), id).await?;
    Ok(Redirect::to(&format!("/settings/notifications?tested={id}")).into_response())
}
