//! Admins' rubric changes: validated as a whole and saved as a new version.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use app::model::Role;
use app::model::drafts::FormDraft;

use super::show::refuse;
use crate::audited::{self, Recorded};
use crate::auth::{CurrentUser, Page, authorize};
use crate::error::AppResult;
use crate::grade::live;
use crate::routes::form::ValidForm;
use crate::state::AppState;

/// A new rubric version from the edit form: `name_i`/`weight_i` per category, `thresholds` as
/// "A+++=95, A+=90, …", and the failing letter. Validated by [`Rubric::new`] before anything is saved.
pub async fn change_rubric(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<std::collections::HashMap<String, String>>,
) -> AppResult<Response> {
    authorize(&state.db, &user, Role::Admin, "grade.rubric", "rubric").await?;
    let draft = FormDraft {
        form: "rubric".into(),
        fields: form.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    };
    let (version, current) = live::rubric(&state.db).await?;
    let mut categories = vec![];
    for i in 0..current.categories.len() {
        let name = form.get(&format!("name_{i}")).cloned().unwrap_or_default();
        let weight = form
            .get(&format!("weight_{i}"))
            .cloned()
            .unwrap_or_default();
        categories.push((name, weight));
    }
    let same_names = categories
        .iter()
        .map(|(n, _)| n.as_str())
        .eq(current.categories.iter().map(|c| c.name.as_str()));
    if !same_names {
        return refuse(
            &state,
            &page,
            "The categories changed while you edited; reload the page.".into(),
            &draft,
        )
        .await;
    }
    let mut thresholds = vec![];
    for part in form
        .get("thresholds")
        .map(String::as_str)
        .unwrap_or_default()
        .split([',', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let Some((letter, minimum)) = part.split_once('=') else {
            return refuse(
                &state,
                &page,
                format!("'{part}' is not letter=minimum."),
                &draft,
            )
            .await;
        };
        thresholds.push((letter.trim().to_string(), minimum.trim().to_string()));
    }
    let failing = form
        .get("failing")
        .map(|f| f.trim().to_string())
        .unwrap_or_default();
    if failing.is_empty() {
        return refuse(
            &state,
            &page,
            "Name the letter below every threshold.".into(),
            &draft,
        )
        .await;
    }
    let rubric = match crate::grade::rubric::Rubric::new(
        categories.clone(),
        thresholds.clone(),
        failing.clone(),
    )
    .and_then(|r| r.with_caps(form.get("caps").map(String::as_str).unwrap_or_default()))
    {
        Ok(r) => r,
        Err(e) => {
            return refuse(
                &state,
                &page,
                format!("The rubric was not saved: {e}."),
                &draft,
            )
            .await;
        }
    };
    let cap_lines = |r: &crate::grade::rubric::Rubric| {
        r.caps
            .iter()
            .map(|c| c.line())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (new_caps, old_caps) = (cap_lines(&rubric), cap_lines(&current));
    let normalized = |r: &crate::grade::rubric::Rubric| {
        (
            r.categories
                .iter()
                .map(|c| (c.name.clone(), format!("{:.2}", c.weight.percent())))
                .collect::<Vec<_>>(),
            r.thresholds
                .iter()
                .map(|t| (t.letter.clone(), t.minimum.to_string()))
                .collect::<Vec<_>>(),
        )
    };
    let (new_categories, new_thresholds) = normalized(&rubric);
    let (old_categories, old_thresholds) = normalized(&current);
    let before = serde_json::json!({ "version": version, "categories": old_categories, "thresholds": old_thresholds, "failing": current.failing, "caps": old_caps });
    // The record names the version the write assigned.
    audited::write_recording(
        &state.db,
        &user,
        "grade.rubric",
        async |conn| -> sqlx::Result<_> {
            let saved = crate::grade::queries::add_rubric(
                conn,
                &user,
                &new_categories,
                &new_thresholds,
                &failing,
                &new_caps,
            )
            .await?;
            let after = serde_json::json!({ "version": saved, "categories": new_categories, "thresholds": new_thresholds, "failing": failing, "caps": new_caps });
            let recorded = Recorded {
                target: "rubric".to_string(),
                before: Some(before),
                after: Some(after),
            };
            Ok(((), recorded))
        },
    )
    .await?;
    live::snapshot(&state.db, &state.settings.docs).await?;
    Ok(Redirect::to("/grades").into_response())
}
