//! Editors' checklist writes: an item's status, owner, date and evidence.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use app::model::Role;
use app::model::rollouts::ItemStatus;

use super::show::{parse_id, refuse};
use crate::audited::Change;
use crate::auth::{CurrentUser, Page, authorize};
use crate::error::{AppError, AppResult};
use crate::rollouts::item_queries::ItemEvent;
use crate::routes::form::{ValidForm, draft_of, evidence_link, parse_date};
use crate::state::AppState;

#[derive(Deserialize, Serialize)]
pub struct ItemForm {
    status: String,
    owner: Option<String>,
    due_on: Option<String>,
    note: Option<String>,
    link: Option<String>,
}

pub async fn update_item(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    Path((id, item)): Path<(String, String)>,
    ValidForm(form): ValidForm<ItemForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let item_id = parse_id(&item)?;
    authorize(
        &state.db,
        &user,
        Role::Editor,
        "rollout.item",
        &item_id.to_string(),
    )
    .await?;
    let draft = draft_of(&format!("item-{item_id}"), &form);
    let item = crate::rollouts::item_queries::item(&state.db, item_id)
        .await?
        .filter(|i| i.rollout_id == id)
        .ok_or_else(|| AppError::NotFound(format!("Item {item_id} of rollout {id}")))?;
    let trimmed = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let (owner, note, link) = (
        trimmed(&form.owner),
        trimmed(&form.note).unwrap_or_default(),
        trimmed(&form.link),
    );
    let due_on = match trimmed(&form.due_on) {
        None => None,
        Some(d) => match parse_date(&d) {
            Ok(d) => Some(d),
            Err(e) => return refuse(&state, &page, id, e, &draft).await,
        },
    };
    // The status is parsed here, at the edge: past this point it is one of the four.
    let Some(status) = ItemStatus::parse(&form.status) else {
        let problem = format!("'{}' is not a status.", form.status);
        return refuse(&state, &page, id, problem, &draft).await;
    };
    let problem = if status == ItemStatus::Verified && item.auto_check.is_some() {
        Some(format!(
            "“{}” is verified by the portal from the live inventory, not by hand.",
            item.title
        ))
    } else if status == ItemStatus::Verified && note.is_empty() && link.is_none() {
        Some("Verifying an item needs evidence: a note or a link.".into())
    } else if let Err(e) = evidence_link(link.as_deref()) {
        Some(e)
    } else if note.chars().count() > 2000
        || owner.as_deref().is_some_and(|o| o.chars().count() > 200)
    {
        Some("The note is limited to 2000 characters and the owner to 200.".into())
    } else {
        None
    };
    if let Some(problem) = problem {
        return refuse(&state, &page, id, problem, &draft).await;
    }
    let name = user.display_name().to_string();
    let before = serde_json::json!({ "status": item.status.as_str(), "owner": item.owner, "due_on": item.due_on });
    let after = serde_json::json!({ "status": status.as_str(), "owner": owner, "due_on": due_on, "note": note, "link": link });
    let change = Change {
        actor: &user,
        action: "rollout.item",
        target: &item.title,
        before: Some(before),
        after: Some(after),
    };
    crate::audited::write(&state.db, change, async |conn| -> sqlx::Result<()> {
        crate::rollouts::item_queries::add_item_event(
            conn,
            &ItemEvent {
                item: item_id,
                status,
                source: "person",
                owner: owner.as_deref(),
                due_on,
                note: &note,
                link: link.as_deref(),
                actor: &name,
            },
        )
        .await
    })
    .await?;
    Ok(Redirect::to(&format!("/rollouts/{id}#item-{item_id}")).into_response())
}
