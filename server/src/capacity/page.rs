//! `GET /capacity`: each engine's host and memory against its containers' with the trend and
//! the upgrade trigger, the right-sizing list, and the baselines with a comparison.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Html;
use leptos::prelude::*;
use plotters::style::RGBColor;
use serde::Deserialize;
use time::OffsetDateTime;

use app::model::capacity::{BaselineRow, CapacityPage, EngineCapacity, RightSizing};
use app::model::{Role, Section};
use app::pages::capacity::CapacityOverviewPage;
use app::render_page;

use super::history::p95;
use super::queries;
use super::regression::{self, Comparison, Figures};
use super::sizing::{self, MemoryHistory, MemoryVerdict, SizingRules, WasFlagged};
use crate::auth::Page;
use crate::charts::{Overlays, Series, Threshold, YAxis, share_over_time};
use crate::config::Settings;
use crate::error::AppResult;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct CapacityParams {
    pub baseline: Option<String>,
}

/// Every engine with its trend over 30 days.
pub async fn engines(db: &sqlx::PgPool, settings: &Settings) -> sqlx::Result<Vec<EngineCapacity>> {
    let mut out = vec![];
    for (id, mut engine) in queries::engines(db).await? {
        engine.trigger_percent = settings.capacity.memory_trigger_for(&engine.name);
        let trend = queries::engine_trend(db, id, 30).await?;
        engine.trend_svg = trend_chart(&engine, &trend);
        out.push(engine);
    }
    Ok(out)
}

fn trend_chart(engine: &EngineCapacity, hours: &[queries::EngineHour]) -> Option<String> {
    let share = |v: f64, host: Option<i64>| host.filter(|m| *m > 0).map(|m| v / m as f64);
    let used: Vec<(OffsetDateTime, f64)> = hours
        .iter()
        .filter_map(|h| share(h.1, h.3).map(|s| (h.0, s)))
        .collect();
    if used.is_empty() {
        return None;
    }
    let limits: Vec<(OffsetDateTime, f64)> = hours
        .iter()
        .filter_map(|h| share(h.2 as f64, h.3).map(|s| (h.0, s.min(1.0))))
        .collect();
    let trigger = [Threshold {
        label: "upgrade trigger",
        value: engine.trigger_percent / 100.0,
    }];
    Some(share_over_time(
        &format!(
            "Memory of {} per hour, 30 days (share of the host)",
            engine.name
        ),
        &YAxis {
            description: "% of host memory",
            unit: "%",
            full_scale: 100.0,
        },
        &[
            Series {
                label: "used by containers",
                points: used,
                color: RGBColor(67, 147, 195),
            },
            Series {
                label: "sum of limits (capped at 100%)",
                points: limits,
                color: RGBColor(214, 96, 77),
            },
        ],
        &Overlays {
            thresholds: &trigger,
            ..Default::default()
        },
        720,
        240,
    ))
}

/// The services whose limit the history says to change, with the recommendation.
pub async fn rightsizing(db: &sqlx::PgPool, settings: &Settings) -> sqlx::Result<Vec<RightSizing>> {
    let rules = SizingRules {
        headroom: settings.capacity.headroom,
        min_samples: settings.capacity.min_samples,
    };
    let rows = queries::sizing_inputs(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let history = MemoryHistory {
                peak: r.peak?,
                samples: r.samples.unwrap_or(0),
            };
            let was = WasFlagged {
                near: r.near,
                oversized: r.oversized,
            };
            let recommended = match sizing::judge(r.limit, history, was, rules) {
                MemoryVerdict::NearLimit { recommended, .. } => recommended,
                MemoryVerdict::Oversized { recommended, .. } => recommended,
                MemoryVerdict::Fine | MemoryVerdict::TooLittleHistory => return None,
            };
            Some(RightSizing {
                engine: r.engine,
                key: r.key,
                name: r.name,
                limit: r.limit,
                peak_7d: history.peak,
                samples: history.samples,
                recommended,
                frees: r.limit - recommended,
            })
        })
        .collect())
}

/// A baseline's services, then and now, with what regressed.
pub async fn comparison(
    db: &sqlx::PgPool,
    settings: &Settings,
    baseline_id: i64,
) -> sqlx::Result<Vec<BaselineRow>> {
    let rows = queries::compared(db, baseline_id).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let now = Figures {
                cpu_p95: p95(&r.cpu_now.unwrap_or_default()),
                memory_p95: p95(&r.memory_now.unwrap_or_default()).map(|v| v as i64),
                latency_p95_ms: p95(&r.latency_now.unwrap_or_default()),
            };
            let then = Figures {
                cpu_p95: r.cpu_then,
                memory_p95: r.memory_then,
                latency_p95_ms: r.latency_then,
            };
            let compared = Comparison {
                then,
                now,
                now_samples: r.samples_now.unwrap_or(0),
                ..Default::default()
            };
            let regressed = if compared.now_samples >= settings.capacity.min_samples {
                regression::regressed(&compared, settings.capacity.regression_percent)
            } else {
                vec![]
            };
            BaselineRow {
                engine: r.engine,
                key: r.key,
                name: r.name,
                cpu: (then.cpu_p95, now.cpu_p95),
                memory: (then.memory_p95, now.memory_p95),
                latency_ms: (then.latency_p95_ms, now.latency_p95_ms),
                regressed,
            }
        })
        .collect())
}

/// The page's data; `baseline` is the one compared (the latest when not given).
pub async fn load(
    state: &AppState,
    baseline: Option<i64>,
    can_save: bool,
    refusal: Option<String>,
) -> AppResult<CapacityPage> {
    let (engines, rightsizing, baselines) = tokio::try_join!(
        engines(&state.db, &state.settings),
        rightsizing(&state.db, &state.settings),
        queries::baselines(&state.db),
    )?;
    let chosen = match baseline {
        Some(id) => baselines.iter().find(|b| b.id == id).cloned(),
        None => baselines.first().cloned(),
    };
    let compared = match chosen {
        Some(b) => Some((
            b.clone(),
            comparison(&state.db, &state.settings, b.id).await?,
        )),
        None => None,
    };
    Ok(CapacityPage {
        engines,
        rightsizing,
        headroom_factor: state.settings.capacity.headroom,
        min_samples: state.settings.capacity.min_samples,
        regression_percent: state.settings.capacity.regression_percent,
        baselines,
        compared,
        can_save,
        refusal,
    })
}

pub fn render(page: &Page, data: CapacityPage) -> String {
    let now = OffsetDateTime::now_utc();
    render_page(page.meta("Capacity", Section::Capacity), move || {
        view! { <CapacityOverviewPage data=data now=now/> }
    })
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<CapacityParams>,
) -> AppResult<Html<String>> {
    // An unknown or malformed baseline id shows the latest, as a bookmark to a gone one should.
    let baseline = params
        .baseline
        .as_deref()
        .and_then(|b| b.trim().parse().ok());
    let can_save = page.can(Role::Admin);
    let data = match baseline {
        // The usual view (against the latest baseline) is built once per state of the data.
        None => {
            let generation = state.read_model.current(&state.db).await?;
            let shared = generation
                .capacity
                .get_or_try_init(|| async { load(&state, None, false, None).await.map(Arc::new) })
                .await?;
            CapacityPage {
                can_save,
                ..(**shared).clone()
            }
        }
        Some(_) => load(&state, baseline, can_save, None).await?,
    };
    Ok(Html(render(&page, data)))
}
