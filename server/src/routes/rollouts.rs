//! `/rollouts`: the list and new rollouts from a template; `/rollouts/{id}`: the matrix, the
//! decision, the checklist and their forms (matrix and decision for admins, checklist for editors).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use app::model::drafts::FormDraft;
use app::model::rollouts::{
    CandidateView, CriterionView, DecisionView, ItemEventView, ItemView, RolloutDetail, ScoreCell,
};
use app::model::{Role, Section};
use app::pages::rollout_detail::{RolloutData, RolloutPage};
use app::pages::rollouts::{RolloutsData, RolloutsPage};
use app::render_page;

use crate::audited::{Change, Stopped};
use crate::auth::{CurrentUser, Page, SessionUser, authorize};
use crate::db;
use crate::db::rollouts::{FromTemplate, ItemEvent};
use crate::error::{AppError, AppResult};
use crate::rollouts::checks::Check;
use crate::rollouts::matrix;
use crate::routes::form::{ValidForm, draft_of, evidence_link, parse_date};
use crate::state::AppState;

fn parse_id(text: &str) -> AppResult<i64> {
    text.parse()
        .map_err(|_| AppError::NotFound(format!("Rollout {text}")))
}

/// What an automatic item's check proves, in words.
fn describe(check: Check, host: &str) -> String {
    match check {
        Check::Decision => "a decision is recorded".into(),
        Check::Container => "a container of the chosen system runs and is healthy".into(),
        Check::Router => format!("a Traefik router's rule matches {host}"),
        Check::Authelia => "that router uses the Authelia middleware".into(),
        Check::Tls => "that router has TLS".into(),
        Check::Allowlist => "that router uses an IP allow-list middleware".into(),
        Check::RestartHealth => "the container has a restart policy and a health check".into(),
        Check::Doc => "a doc for the service passes the documentation checklist".into(),
        Check::Backup => {
            "a backup job covers it, on time, passing and with a fresh restore test".into()
        }
        Check::Monitoring => {
            "it passes its health check and its route answers the portal's probes".into()
        }
    }
}

async fn load(state: &AppState, id: i64) -> AppResult<RolloutDetail> {
    let (summary, allowlist, criteria, candidates, scores, weights_by, decision, items, timeline) =
        tokio::try_join!(
            db::rollouts::summary(&state.db, id),
            db::rollouts::allowlist_middleware(&state.db, id),
            db::rollouts::criteria(&state.db, id),
            db::rollouts::candidates(&state.db, id),
            db::rollouts::scores(&state.db, id),
            db::rollouts::weights_by(&state.db, id),
            db::rollouts::decision(&state.db, id),
            db::rollouts::items(&state.db, id),
            db::rollouts::timeline(&state.db, id, 100),
        )
        .map_err(|e| match e {
            sqlx::Error::RowNotFound => AppError::NotFound(format!("Rollout {id}")),
            e => e.into(),
        })?;
    let summary = summary.ok_or_else(|| AppError::NotFound(format!("Rollout {id}")))?;
    let weights: Vec<u8> = criteria.iter().map(|c| c.weight).collect();
    let candidates = candidates
        .into_iter()
        .map(|c| {
            let cells: Vec<Option<ScoreCell>> = criteria
                .iter()
                .map(|k| {
                    scores
                        .iter()
                        .find(|s| s.candidate_id == c.id && s.criterion_id == k.id)
                        .map(|s| ScoreCell {
                            score: s.score as u8,
                            note: s.note.clone(),
                            by: s.actor_name.clone(),
                            at: s.at,
                        })
                })
                .collect();
            let marks: Vec<Option<u8>> =
                cells.iter().map(|c| c.as_ref().map(|c| c.score)).collect();
            CandidateView {
                id: c.id,
                total: matrix::total(&weights, &marks).to_string(),
                scored: marks.iter().flatten().count(),
                name: c.name,
                service_match: c.service_match,
                cells,
            }
        })
        .collect();
    let items = items
        .into_iter()
        .map(|i| {
            let check = i.auto_check.as_deref().and_then(Check::parse);
            ItemView {
                id: i.id,
                title: i.title,
                check: check.map(|c| describe(c, &summary.host)),
                status: i.status,
                owner: i.owner,
                due_on: i.due_on,
                note: i.note,
                link: i.link,
                by: i.actor_name,
                at: i.at,
                fact: check.and(i.portal_fact).filter(|f| !f.is_empty()),
                fact_at: check.and(i.portal_at),
            }
        })
        .collect();
    Ok(RolloutDetail {
        allowlist_middleware: allowlist,
        criteria: criteria
            .into_iter()
            .map(|c| CriterionView {
                id: c.id,
                name: c.name,
                weight: c.weight,
            })
            .collect(),
        candidates,
        weights_by,
        decision: decision.map(|d| DecisionView {
            candidate: d.candidate,
            rationale: d.rationale,
            by: d.actor_name,
            at: d.at,
        }),
        items,
        timeline: timeline
            .into_iter()
            .map(|t| ItemEventView {
                item: t.title,
                status: t.status,
                source: t.source,
                note: t.note,
                by: t.actor_name,
                at: t.at,
            })
            .collect(),
        summary,
    })
}

async fn render_list(state: &AppState, page: &Page, error: Option<String>) -> AppResult<String> {
    let data = RolloutsData {
        rollouts: db::rollouts::summaries(&state.db).await?,
        can_admin: page.can(Role::Admin),
        error,
        now: OffsetDateTime::now_utc(),
    };
    Ok(render_page(
        page.meta("Rollouts", Section::Rollouts),
        move || {
            view! { <RolloutsPage data=data/> }
        },
    ))
}

async fn render(
    state: &AppState,
    page: &Page,
    id: i64,
    error: Option<String>,
    draft: Option<FormDraft>,
) -> AppResult<String> {
    let detail = load(state, id).await?;
    let title = detail.summary.name.clone();
    let data = RolloutData {
        detail,
        can_admin: page.can(Role::Admin),
        can_edit: page.can(Role::Editor),
        error,
        draft,
        now: OffsetDateTime::now_utc(),
    };
    Ok(render_page(
        page.meta(title, Section::Rollouts),
        move || {
            view! { <RolloutPage data=data/> }
        },
    ))
}

async fn refuse(
    state: &AppState,
    page: &Page,
    id: i64,
    message: String,
    draft: &FormDraft,
) -> AppResult<Response> {
    let html = render(state, page, id, Some(message), Some(draft.clone())).await?;
    Ok((StatusCode::BAD_REQUEST, Html(html)).into_response())
}

/// The start of every admin write on a rollout: the id, the role check (refusals recorded), and
/// the rollout as it stands.
async fn admin_write(
    state: &AppState,
    user: &SessionUser,
    id: &str,
    action: &str,
) -> AppResult<(i64, RolloutDetail)> {
    let id = parse_id(id)?;
    authorize(&state.db, user, Role::Admin, action, &id.to_string()).await?;
    Ok((id, load(state, id).await?))
}

pub async fn list(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    Ok(Html(render_list(&state, &page, None).await?))
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> AppResult<Html<String>> {
    let id = parse_id(&id)?;
    Ok(Html(render(&state, &page, id, None, None).await?))
}

/// Writes one change and its audit record through the audited unit of work.
async fn audited<F>(
    state: &AppState,
    user: &SessionUser,
    action: &str,
    target: &str,
    after: serde_json::Value,
    write: F,
) -> AppResult<()>
where
    F: AsyncFnOnce(&mut sqlx::PgConnection) -> sqlx::Result<()>,
{
    let change = Change::<(), _> {
        actor: user,
        action,
        target,
        before: None,
        after: Some(after),
    };
    crate::audited::write(&state.db, change, write).await?;
    Ok(())
}

/// Re-runs the automatic checks from what Postgres holds (no Docker call), so a decision shows
/// its effect at once instead of after the next refresh.
async fn recheck(state: &AppState) -> AppResult<()> {
    let report = crate::docs::live::current_report(&state.db, &state.settings.docs).await?;
    let stale_after = crate::worker::stale_after(&state.settings);
    let backups = crate::evidence::gather_backups(&state.db, &state.settings).await?;
    crate::rollouts::live::check_all(&state.db, &report.docs, stale_after, &backups.jobs).await?;
    Ok(())
}

#[derive(Deserialize, Serialize)]
pub struct ScoreForm {
    candidate: String,
    criterion: String,
    score: String,
    note: Option<String>,
}

pub async fn score(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<ScoreForm>,
) -> AppResult<Response> {
    let (id, detail) = admin_write(&state, &user, &id, "rollout.score").await?;
    let draft = draft_of("score", &form);
    let candidate = detail
        .candidates
        .iter()
        .find(|c| c.id.to_string() == form.candidate);
    let criterion = detail
        .criteria
        .iter()
        .find(|c| c.id.to_string() == form.criterion);
    let (Some(candidate), Some(criterion)) = (candidate, criterion) else {
        return refuse(
            &state,
            &page,
            id,
            "Choose a candidate and a criterion of this rollout.".into(),
            &draft,
        )
        .await;
    };
    let score = match matrix::parse_score(&form.score) {
        Ok(s) => s,
        Err(e) => return refuse(&state, &page, id, e, &draft).await,
    };
    let note = form.note.as_deref().unwrap_or_default().trim();
    if note.chars().count() > 1000 {
        return refuse(
            &state,
            &page,
            id,
            "The note is limited to 1000 characters.".into(),
            &draft,
        )
        .await;
    }
    let (cid, kid, name) = (candidate.id, criterion.id, user.display_name().to_string());
    let target = format!(
        "{} / {} / {}",
        detail.summary.name, candidate.name, criterion.name
    );
    let after = serde_json::json!({ "score": score, "note": note });
    audited(&state, &user, "rollout.score", &target, after, async |tx| {
        db::rollouts::add_score(tx, cid, kid, score, note, &name).await
    })
    .await?;
    Ok(Redirect::to(&format!("/rollouts/{id}#matrix-h")).into_response())
}

pub async fn weights(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    Path(id): Path<String>,
    ValidForm(fields): ValidForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (id, detail) = admin_write(&state, &user, &id, "rollout.weights").await?;
    let draft = FormDraft {
        form: "weights".into(),
        fields: fields.clone(),
    };
    let mut named = Vec::new();
    for c in &detail.criteria {
        let Some((_, value)) = fields
            .iter()
            .find(|(k, _)| *k == format!("weight_{}", c.id))
        else {
            return refuse(
                &state,
                &page,
                id,
                format!("The weight of '{}' is missing.", c.name),
                &draft,
            )
            .await;
        };
        named.push((c.name.as_str(), value.as_str()));
    }
    let parsed = match matrix::parse_weights(&named) {
        Ok(w) => w,
        Err(e) => return refuse(&state, &page, id, e, &draft).await,
    };
    let pairs: Vec<(i64, u8)> = detail
        .criteria
        .iter()
        .map(|c| c.id)
        .zip(parsed.iter().copied())
        .collect();
    let name = user.display_name().to_string();
    let after = serde_json::json!(
        named
            .iter()
            .zip(&parsed)
            .map(|((n, _), w)| (n.to_string(), *w))
            .collect::<Vec<_>>()
    );
    audited(
        &state,
        &user,
        "rollout.weights",
        &detail.summary.name,
        after,
        async |tx| db::rollouts::save_weights(tx, id, &pairs, &name).await,
    )
    .await?;
    Ok(Redirect::to(&format!("/rollouts/{id}#matrix-h")).into_response())
}

#[derive(Deserialize, Serialize)]
pub struct CandidateForm {
    name: String,
    service_match: String,
}

pub async fn add_candidate(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<CandidateForm>,
) -> AppResult<Response> {
    let (id, detail) = admin_write(&state, &user, &id, "rollout.candidate").await?;
    let draft = draft_of("candidate", &form);
    let name = form.name.trim();
    let needle = form.service_match.trim().to_lowercase();
    if name.is_empty()
        || name.chars().count() > 100
        || needle.is_empty()
        || needle.chars().count() > 100
    {
        return refuse(
            &state,
            &page,
            id,
            "Give the candidate a name and what its service or image is called.".into(),
            &draft,
        )
        .await;
    }
    if detail
        .candidates
        .iter()
        .any(|c| c.name.eq_ignore_ascii_case(name))
    {
        return refuse(
            &state,
            &page,
            id,
            format!("{name} is a candidate already."),
            &draft,
        )
        .await;
    }
    let position = detail.candidates.len() as i32;
    let after = serde_json::json!({ "name": name, "service_match": needle });
    audited(
        &state,
        &user,
        "rollout.candidate",
        &detail.summary.name,
        after,
        async |tx| {
            db::rollouts::add_candidate(tx, id, name, &needle, position)
                .await
                .map(|_| ())
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/rollouts/{id}#matrix-h")).into_response())
}

#[derive(Deserialize, Serialize)]
pub struct DecisionForm {
    candidate: String,
    rationale: String,
}

pub async fn decide(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<DecisionForm>,
) -> AppResult<Response> {
    let (id, detail) = admin_write(&state, &user, &id, "rollout.decide").await?;
    let draft = draft_of("decision", &form);
    let Some(candidate) = detail
        .candidates
        .iter()
        .find(|c| c.id.to_string() == form.candidate)
    else {
        return refuse(
            &state,
            &page,
            id,
            "Choose one of this rollout's candidates.".into(),
            &draft,
        )
        .await;
    };
    let rationale = form.rationale.trim();
    if rationale.is_empty() || rationale.chars().count() > 4000 {
        return refuse(
            &state,
            &page,
            id,
            "A decision states its rationale (up to 4000 characters).".into(),
            &draft,
        )
        .await;
    }
    let (cid, name) = (candidate.id, user.display_name().to_string());
    let after = serde_json::json!({ "candidate": candidate.name, "total": candidate.total, "rationale": rationale });
    audited(
        &state,
        &user,
        "rollout.decide",
        &detail.summary.name,
        after,
        async |tx| db::rollouts::add_decision(tx, id, cid, rationale, &name).await,
    )
    .await?;
    recheck(&state).await?;
    Ok(Redirect::to(&format!("/rollouts/{id}#decision-h")).into_response())
}

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
    let item = db::rollouts::item(&state.db, item_id)
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
    let problem = if !matches!(
        form.status.as_str(),
        "todo" | "in_progress" | "done" | "verified"
    ) {
        Some(format!("'{}' is not a status.", form.status))
    } else if form.status == "verified" && item.auto_check.is_some() {
        Some(format!(
            "“{}” is verified by the portal from the live inventory, not by hand.",
            item.title
        ))
    } else if form.status == "verified" && note.is_empty() && link.is_none() {
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
    let before =
        serde_json::json!({ "status": item.status, "owner": item.owner, "due_on": item.due_on });
    let after = serde_json::json!({ "status": form.status, "owner": owner, "due_on": due_on, "note": note, "link": link });
    let change = Change {
        actor: &user,
        action: "rollout.item",
        target: &item.title,
        before: Some(before),
        after: Some(after),
    };
    crate::audited::write(&state.db, change, async |conn| -> sqlx::Result<()> {
        db::rollouts::add_item_event(
            conn,
            &ItemEvent {
                item: item_id,
                status: &form.status,
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

#[derive(Deserialize)]
pub struct TemplateForm {
    template: String,
    name: String,
    slug: String,
    host: String,
    allowlist_middleware: Option<String>,
    candidates: Option<String>,
    goal: Option<String>,
}

/// `Twenty=twenty, EspoCRM=espocrm` → [(Twenty, twenty), (EspoCRM, espocrm)].
fn parse_candidates(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, needle)) if !name.trim().is_empty() && !needle.trim().is_empty() => {
                Ok((name.trim().to_string(), needle.trim().to_lowercase()))
            }
            _ => Err(format!(
                "'{pair}': write candidates as Name=match, e.g. Odoo=odoo."
            )),
        })
        .collect()
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<TemplateForm>,
) -> AppResult<Response> {
    authorize(&state.db, &user, Role::Admin, "rollout.create", &form.slug).await?;
    let fail = async |message: String| -> AppResult<Response> {
        Ok((
            StatusCode::BAD_REQUEST,
            Html(render_list(&state, &page, Some(message)).await?),
        )
            .into_response())
    };
    let template = match form.template.parse::<i64>() {
        Ok(t) if db::rollouts::summary(&state.db, t).await?.is_some() => t,
        _ => return fail("Choose an existing rollout as the template.".into()).await,
    };
    let (name, slug, host) = (
        form.name.trim(),
        form.slug.trim(),
        form.host.trim().to_ascii_lowercase(),
    );
    if name.is_empty() || name.chars().count() > 200 {
        return fail("Give the rollout a name (up to 200 characters).".into()).await;
    }
    if slug.is_empty()
        || slug.len() > 60
        || !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return fail("The short name uses a-z, 0-9 and '-' only.".into()).await;
    }
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return fail(format!("'{host}' is not a host name.")).await;
    }
    let candidates = match parse_candidates(form.candidates.as_deref().unwrap_or_default()) {
        Ok(c) => c,
        Err(e) => return fail(e).await,
    };
    let allowlist = form
        .allowlist_middleware
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let goal = form.goal.as_deref().unwrap_or_default().trim();
    let actor = user.display_name().to_string();
    let change = Change::<(), _> {
        actor: &user,
        action: "rollout.create",
        target: slug,
        before: None,
        after: Some(
            serde_json::json!({ "template": template, "name": name, "host": host, "candidates": candidates }),
        ),
    };
    let created = crate::audited::write(&state.db, change, async |conn| -> Result<i64, Stopped> {
        if db::rollouts::slug_taken(&mut *conn, slug).await? {
            return Err(Stopped::Refused(format!(
                "A rollout called '{slug}' exists already."
            )));
        }
        let id = db::rollouts::create_from_template(
            conn,
            &FromTemplate {
                template,
                slug,
                name,
                goal,
                host: &host,
                allowlist_middleware: allowlist,
                candidates: &candidates,
                actor: &actor,
            },
        )
        .await?;
        Ok(id)
    })
    .await;
    let id = match created {
        Ok(id) => id,
        Err(Stopped::Refused(message)) => return fail(message).await,
        Err(Stopped::Missing) => return Err(AppError::NotFound(format!("Rollout {slug}"))),
        Err(Stopped::Database(e)) => return Err(e.into()),
    };
    recheck(&state).await?;
    Ok(Redirect::to(&format!("/rollouts/{id}")).into_response())
}
