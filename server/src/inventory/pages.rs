//! The inventory pages and downloads: `/services`, a service's page, `/engines`, CSV and JSON.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect};
use leptos::prelude::*;
use serde::Deserialize;
use time::OffsetDateTime;

use app::model::service_query::{RawServiceQuery, ServiceQuery};
use app::model::{Role, Section, ServiceSummary};
use app::pages::engines::EnginesPage;
use app::pages::service_detail::ServiceDetailPage;
use app::pages::services::{ServicesPage, ServicesView};
use app::render_page;

use crate::audited::Change;
use crate::auth::{CurrentUser, Page, authorize};
use crate::error::{AppError, AppResult};
use crate::readmodel::{Generation, ServicesData};
use crate::state::AppState;
use crate::worker::stale_after;

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    query: RawServiceQuery,
    refreshed: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<ListParams>,
) -> AppResult<Html<String>> {
    let query = ServiceQuery::parse(params.query);
    let generation = state.read_model.current(&state.db).await?;
    let table = services_data(&state, &generation).await?;
    let rows = generation.services_rows(format!("{query:?}"), || {
        let rows = table.matching(&query);
        let shown = rows.len();
        (
            app::pages::services::rows_html(rows, OffsetDateTime::now_utc()),
            shown,
        )
    });
    let notice = params
        .refreshed
        .map(|_| "Refresh requested: the worker is reading every engine now.".to_string());
    let data = ServicesView {
        counts: table.counts.clone(),
        engines: table.engines.clone(),
        query,
        rows_html: rows.0,
        shown: rows.1,
        can_refresh: page.can(Role::Admin),
    };
    let meta = page.meta("Services", Section::Services).with_notice(notice);
    Ok(Html(render_page(
        meta,
        move || view! { <ServicesPage data=data/> },
    )))
}

/// The services table of the data as it is now, built once per change (see `readmodel`).
pub(crate) async fn services_data(
    state: &AppState,
    generation: &Generation,
) -> AppResult<Arc<ServicesData>> {
    let data = generation
        .services
        .get_or_try_init(|| async {
            let stale = stale_after(&state.settings);
            let (mut rows, counts, engines) = tokio::try_join!(
                crate::inventory::services::summaries(&state.db, stale),
                crate::inventory::services::counts(&state.db, stale),
                crate::inventory::engines::names(&state.db),
            )?;
            link_docs(state, &mut rows).await?;
            Ok::<_, AppError>(Arc::new(ServicesData {
                rows,
                counts,
                engines,
            }))
        })
        .await?;
    Ok(data.clone())
}

pub async fn detail(
    State(state): State<AppState>,
    page: Page,
    Path((engine, key)): Path<(String, String)>,
) -> AppResult<Html<String>> {
    let detail =
        crate::inventory::services::detail(&state.db, &engine, &key, stale_after(&state.settings))
            .await?
            .ok_or_else(|| {
                AppError::NotFound(format!("The service '{key}' on engine '{engine}'"))
            })?;
    let title = detail.summary.display_name.clone();
    let now = OffsetDateTime::now_utc();
    let kinds: Vec<&str> = detail
        .summary
        .findings
        .iter()
        .map(|f| f.kind.slug())
        .collect();
    let (actions, resources, dependencies) = tokio::try_join!(
        crate::actions::queries::for_service(&state.db, &engine, &key, &kinds, now.date()),
        crate::capacity::service::resources(&state.db, &engine, &key, &detail.facts, now),
        crate::capacity::service::dependencies(&state.db, &engine, &key, &title),
    )?;
    Ok(Html(render_page(
        page.meta(title, Section::Services),
        move || {
            view! {
                <ServiceDetailPage detail=detail actions=actions now=now
                    resources=resources dependencies=dependencies/>
            }
        },
    )))
}

pub async fn engines(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let engines =
        crate::inventory::engines::statuses(&state.db, stale_after(&state.settings)).await?;
    let now = OffsetDateTime::now_utc();
    Ok(Html(render_page(
        page.meta("Engines", Section::Services),
        move || {
            view! { <EnginesPage engines=engines now=now/> }
        },
    )))
}

pub async fn csv(State(state): State<AppState>) -> AppResult<impl IntoResponse> {
    let mut rows =
        crate::inventory::services::summaries(&state.db, stale_after(&state.settings)).await?;
    ServiceQuery::default().apply(&mut rows);
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"services.csv\"",
        ),
    ];
    Ok((headers, services_csv(&rows)))
}

/// Fills the Docs column with the doc that documents each service, if any.
async fn link_docs(state: &AppState, rows: &mut [ServiceSummary]) -> AppResult<()> {
    let report = crate::docs::live::current_report(&state.db, &state.settings.docs).await?;
    for row in rows.iter_mut() {
        row.doc = report
            .docs
            .iter()
            .find(|d| {
                d.covers
                    .iter()
                    .any(|(e, k)| *e == row.engine && *k == row.key)
            })
            .map(|d| {
                d.services
                    .first()
                    .cloned()
                    .unwrap_or_else(|| d.path.clone())
            });
    }
    Ok(())
}

/// "Refresh now" (admins): recorded in the audit trail, then the worker is woken through Postgres
/// (it may run in another replica). CSRF and origin were checked by the middleware.
pub async fn refresh_now(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Redirect> {
    const ACTION: &str = "inventory.refresh";
    authorize(&state.db, &user, Role::Admin, ACTION, "all engines").await?;
    let change = Change::<(), ()> {
        actor: &user,
        action: ACTION,
        target: "all engines",
        before: None,
        after: None,
    };
    crate::audited::write(&state.db, change, async |conn| -> sqlx::Result<()> {
        crate::inventory::engines::request_refresh(conn).await
    })
    .await?;
    Ok(Redirect::to("/services?refreshed=1"))
}

fn services_csv(rows: &[ServiceSummary]) -> String {
    let mut out = String::from(
        "engine,service,name,group,image,state,health,stale,removed,availability_24h,cpu_percent,memory_bytes,memory_limit_bytes,high,medium,low,findings\n",
    );
    for s in rows {
        let findings: Vec<&str> = s.findings.iter().map(|f| f.kind.slug()).collect();
        let fields = [
            s.engine.clone(),
            s.key.clone(),
            s.display_name.clone(),
            s.group.clone().unwrap_or_default(),
            s.image_ref.clone(),
            s.state.clone(),
            s.health.clone().unwrap_or_default(),
            s.stale.to_string(),
            s.removed_at.is_some().to_string(),
            s.availability_24h
                .map(|a| format!("{a:.4}"))
                .unwrap_or_default(),
            s.cpu_percent.map(|c| format!("{c:.2}")).unwrap_or_default(),
            s.memory_usage_bytes
                .map(|m| m.to_string())
                .unwrap_or_default(),
            s.memory_limit_bytes
                .map(|m| m.to_string())
                .unwrap_or_default(),
            s.count(app::model::Severity::High).to_string(),
            s.count(app::model::Severity::Medium).to_string(),
            s.count(app::model::Severity::Low).to_string(),
            findings.join(" "),
        ];
        let line: Vec<String> = fields
            .iter()
            .map(|f| crate::routes::csv::field(f))
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}
