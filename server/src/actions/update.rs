//! `POST /actions/{id}`: an editor or admin sets an action's owner, due date, effort and state
//! (open, or an accepted risk with its reason and expiry). Done is not a choice: it is what the
//! portal records when the findings are gone.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use app::model::Role;
use app::model::actions::{ActionFilter, ActionRefusal, ActionState, Effort};

use super::queries::{self, NewState};
use crate::audited::{self, Change, Stopped};
use crate::auth::{CurrentUser, Page, authorize};
use crate::error::{AppError, AppResult};
use crate::routes::form::ValidForm;
use crate::state::AppState;

/// The longest an accepted risk stands before someone must look at it again.
const LONGEST_ACCEPTANCE_DAYS: i64 = 366;
const LONGEST_TEXT: usize = 2_000;

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct UpdateForm {
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub due_on: String,
    pub state: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub risk_expires_on: String,
    #[serde(default)]
    pub effort: String,
    #[serde(default)]
    pub note: String,
}

fn date(field: &str, text: &str) -> Result<Option<Date>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format)
        .map(Some)
        .map_err(|_| format!("The {field} '{text}' is not a date (YYYY-MM-DD)."))
}

fn text(field: &str, value: &str) -> Result<Option<String>, String> {
    let value = value.trim();
    if value.chars().count() > LONGEST_TEXT {
        return Err(format!(
            "The {field} is longer than {LONGEST_TEXT} characters."
        ));
    }
    Ok((!value.is_empty()).then(|| value.to_string()))
}

/// The form as the action's next state, or what is wrong with it.
pub fn parse(form: &UpdateForm, today: Date) -> Result<NewState, String> {
    let owner = text("owner", &form.owner)?;
    if owner.as_ref().is_some_and(|o| o.chars().count() > 100) {
        return Err("The owner is longer than 100 characters.".into());
    }
    let due_on = date("due date", &form.due_on)?;
    let effort = match form.effort.trim() {
        "" | "default" => None,
        other => Some(
            Effort::parse(other)
                .ok_or_else(|| format!("'{other}' is not an effort; choose quick or longer."))?,
        ),
    };
    let note = text("note", &form.note)?.unwrap_or_default();
    let (state, reason, risk_expires_on) = match ActionState::parse(form.state.trim()) {
        Some(ActionState::Open) => (ActionState::Open, None, None),
        Some(ActionState::Accepted) => {
            let reason = text("reason", &form.reason)?
                .ok_or("An accepted risk needs its reason: why the finding may stay.")?;
            let expiry = date("expiry", &form.risk_expires_on)?
                .ok_or("An accepted risk needs an expiry date, when it is looked at again.")?;
            if expiry <= today {
                return Err(format!(
                    "The expiry {expiry} is not in the future; an accepted risk runs until a later day."
                ));
            }
            if expiry > today + Duration::days(LONGEST_ACCEPTANCE_DAYS) {
                return Err(format!(
                    "The expiry {expiry} is more than a year away; accept the risk for a year at most and look again."
                ));
            }
            (ActionState::Accepted, Some(reason), Some(expiry))
        }
        Some(ActionState::Done) => {
            return Err(
                "Done is the portal's verdict: the action is done when its findings are gone."
                    .into(),
            );
        }
        None => {
            return Err(format!(
                "'{}' is not a state; choose open or accepted risk.",
                form.state.trim()
            ));
        }
    };
    Ok(NewState {
        state,
        owner,
        due_on,
        effort,
        reason,
        risk_expires_on,
        note,
    })
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    Path(id): Path<i64>,
    ValidForm(form): ValidForm<UpdateForm>,
) -> AppResult<Response> {
    let target = format!("action #{id}");
    authorize(&state.db, &user, Role::Editor, "action.update", &target).await?;
    let refuse = async |message: String| -> AppResult<Response> {
        let refusal = ActionRefusal {
            action_id: id,
            message,
        };
        let html =
            super::list::render(&state, &page, ActionFilter::default(), Some(refusal)).await?;
        Ok((StatusCode::BAD_REQUEST, Html(html)).into_response())
    };
    let today = OffsetDateTime::now_utc().date();
    let next = match parse(&form, today) {
        Ok(next) => next,
        Err(message) => return refuse(message).await,
    };
    let change = Change::<(), _> {
        actor: &user,
        action: "action.update",
        target: &target,
        before: None,
        after: Some(&next),
    };
    let written = audited::write(&state.db, change, async |conn| {
        let Some(action) = queries::one_for_update(conn, id).await? else {
            return Err(Stopped::Missing);
        };
        if action.closed_at.is_some() {
            return Err(Stopped::Refused(
                "This action is done: its findings are gone. It reopens by itself if they return."
                    .into(),
            ));
        }
        let unchanged = action.latest.as_ref().is_some_and(|l| {
            l.state == next.state
                && l.owner == next.owner
                && l.due_on == next.due_on
                && l.effort == next.effort
                && l.reason == next.reason
                && l.risk_expires_on == next.risk_expires_on
                && next.note.is_empty()
        });
        if unchanged {
            return Err(Stopped::Refused("Nothing changed.".into()));
        }
        queries::append(conn, id, &next, &user).await?;
        Ok(())
    })
    .await;
    match written {
        Ok(()) => Ok(Redirect::to(&format!("/actions#action-{id}")).into_response()),
        Err(Stopped::Missing) => Err(AppError::NotFound(format!("Action #{id}"))),
        Err(Stopped::Refused(message)) => refuse(message).await,
        Err(Stopped::Database(e)) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn form(state: &str) -> UpdateForm {
        UpdateForm {
            state: state.into(),
            ..UpdateForm::default()
        }
    }

    #[test]
    fn a_form_becomes_the_next_state_or_says_why_not() {
        let today = date!(2026 - 12 - 02);
        let open = parse(
            &UpdateForm {
                owner: " ops ".into(),
                due_on: "2026-12-20".into(),
                effort: "longer".into(),
                ..form("open")
            },
            today,
        )
        .unwrap();
        assert_eq!(open.owner.as_deref(), Some("ops"));
        assert_eq!(open.due_on, Some(date!(2026 - 12 - 20)));
        assert_eq!(open.effort, Some(Effort::Longer));
        assert_eq!(open.reason, None);

        let accepted = parse(
            &UpdateForm {
                reason: "LAN only, behind the VPN".into(),
                risk_expires_on: "2027-03-01".into(),
                ..form("accepted")
            },
            today,
        )
        .unwrap();
        assert_eq!(accepted.state, ActionState::Accepted);
        assert_eq!(accepted.risk_expires_on, Some(date!(2027 - 03 - 01)));

        for (bad, says) in [
            (form("accepted"), "needs its reason"),
            (
                UpdateForm {
                    reason: "why".into(),
                    ..form("accepted")
                },
                "needs an expiry date",
            ),
            (
                UpdateForm {
                    reason: "why".into(),
                    risk_expires_on: "2026-12-02".into(),
                    ..form("accepted")
                },
                "not in the future",
            ),
            (
                UpdateForm {
                    reason: "why".into(),
                    risk_expires_on: "2028-01-01".into(),
                    ..form("accepted")
                },
                "more than a year away",
            ),
            (form("done"), "the portal's verdict"),
            (form("closed"), "not a state"),
            (
                UpdateForm {
                    due_on: "next week".into(),
                    ..form("open")
                },
                "not a date",
            ),
            (
                UpdateForm {
                    effort: "huge".into(),
                    ..form("open")
                },
                "not an effort",
            ),
            (
                UpdateForm {
                    owner: "x".repeat(101),
                    ..form("open")
                },
                "longer than 100",
            ),
        ] {
            let err = parse(&bad, today).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }
}
