//! `POST /capacity/baselines`: an admin saves a dated baseline of every current service (CPU and
//! memory p95 over a window, and its routes' latency p95 where they are probed). Baselines are
//! records: the table refuses changes, and a new one is saved instead.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use app::model::Role;

use super::{page, queries};
use crate::audited::{self, Recorded, Stopped};
use crate::auth::{CurrentUser, Page, authorize};
use crate::error::AppResult;
use crate::routes::form::ValidForm;
use crate::state::AppState;

const ACTION: &str = "capacity.baseline";

#[derive(Debug, Default, Deserialize)]
pub struct BaselineForm {
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub window_days: String,
}

/// What a valid form asks for.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct NewBaseline {
    pub label: String,
    pub window_days: i32,
}

pub fn parse(form: &BaselineForm) -> Result<NewBaseline, String> {
    let label = form.label.trim();
    if label.is_empty() {
        return Err("A baseline needs a label, such as \"before the Postgres upgrade\".".into());
    }
    if label.chars().count() > 100 {
        return Err("The label is longer than 100 characters.".into());
    }
    let window = form.window_days.trim();
    let window_days = if window.is_empty() {
        7
    } else {
        window
            .parse::<i32>()
            .ok()
            .filter(|d| (1..=30).contains(d))
            .ok_or_else(|| format!("The window '{window}' is not a number of days from 1 to 30."))?
    };
    Ok(NewBaseline {
        label: label.to_string(),
        window_days,
    })
}

pub async fn save(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<BaselineForm>,
) -> AppResult<Response> {
    authorize(&state.db, &user, Role::Admin, ACTION, "capacity baselines").await?;
    let refuse = async |message: String| -> AppResult<Response> {
        let data = page::load(&state, None, true, Some(message)).await?;
        Ok((StatusCode::BAD_REQUEST, Html(page::render(&page, data))).into_response())
    };
    let wanted = match parse(&form) {
        Ok(w) => w,
        Err(message) => return refuse(message).await,
    };
    let taken_by = user.display_name().to_string();
    let saved = audited::write_recording(&state.db, &user, ACTION, async |conn| {
        let (id, services) =
            queries::save_baseline(conn, &wanted.label, wanted.window_days, &taken_by).await?;
        if services == 0 {
            return Err(Stopped::Refused(format!(
                "No service has history in the last {} days yet: nothing to save as a baseline.",
                wanted.window_days
            )));
        }
        Ok((
            id,
            Recorded::<(), _> {
                target: format!("baseline #{id}"),
                before: None,
                after: Some(serde_json::json!({
                    "label": wanted.label,
                    "window_days": wanted.window_days,
                    "services": services,
                })),
            },
        ))
    })
    .await;
    match saved {
        Ok(id) => Ok(Redirect::to(&format!("/capacity?baseline={id}#baselines")).into_response()),
        Err(Stopped::Refused(message)) => refuse(message).await,
        Err(Stopped::Missing) => refuse("Nothing to save.".into()).await,
        Err(Stopped::Database(e)) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_and_a_window_of_1_to_30_days() {
        let form = |label: &str, window: &str| BaselineForm {
            label: label.into(),
            window_days: window.into(),
        };
        assert_eq!(
            parse(&form(" before upgrade ", "")),
            Ok(NewBaseline {
                label: "before upgrade".into(),
                window_days: 7
            })
        );
        assert_eq!(parse(&form("x", "30")).unwrap().window_days, 30);
        for (bad, says) in [
            (form("  ", "7"), "needs a label"),
            (form(&"x".repeat(101), "7"), "longer than 100"),
            (form("x", "0"), "from 1 to 30"),
            (form("x", "31"), "from 1 to 30"),
            (form("x", "a week"), "not a number"),
        ] {
            assert!(parse(&bad).unwrap_err().contains(says));
        }
    }
}
