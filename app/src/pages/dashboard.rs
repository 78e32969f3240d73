//! `/`: the dashboard, what management and the team look at first.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::format;
use crate::components::widgets::TimeAgo;
use crate::model::actions::ActionCounts;
use crate::model::docs::CoverageFigures;
use crate::model::phases::PhaseSummary;
use crate::model::rollouts::RolloutSummary;
use crate::model::{EngineStatus, FindingKind, InventoryCounts, Severity};
use crate::pages::rollouts::Readiness;

#[derive(Clone, Debug)]
pub struct DashboardView {
    pub counts: InventoryCounts,
    pub engines: Vec<EngineStatus>,
    /// Open findings by kind and severity, most frequent first.
    pub findings: Vec<(FindingKind, Severity, i64)>,
    /// Documentation coverage of running services, and its target.
    pub docs: CoverageFigures,
    pub docs_target: f64,
    pub grade: DashboardGrade,
    pub phases: Vec<PhaseSummary>,
    pub rollouts: Vec<RolloutSummary>,
    pub actions: ActionCounts,
    pub now: OffsetDateTime,
}

/// The grade as the dashboard shows it: total, letter, change, a small trend chart.
#[derive(Clone, Debug)]
pub struct DashboardGrade {
    pub total: String,
    pub letter: String,
    pub cap: Option<String>,
    /// e.g. "+2.10 in 7 days"; None without history that old.
    pub change_7d: Option<String>,
    pub change_30d: Option<String>,
    pub chart_svg: String,
}

#[component]
pub fn DashboardPage(data: DashboardView) -> impl IntoView {
    let DashboardView {
        counts,
        engines,
        findings,
        docs,
        docs_target,
        grade,
        phases,
        rollouts,
        actions,
        now,
    } = data;
    let count = |status: &str| phases.iter().filter(|p| p.status() == status).count();
    let phase_line = format!(
        "{} signed off, {} conditional, {} awaiting sign-off, {} in progress, {} in rework.",
        count("signed off"),
        count("conditional"),
        count("awaiting sign-off"),
        count("in progress"),
        count("rework")
    );
    let last_decision = phases
        .iter()
        .filter_map(|p| {
            p.last_decision_at.map(|at| {
                (
                    at,
                    p.number.clone(),
                    p.last_decision.clone().unwrap_or_default(),
                )
            })
        })
        .max();
    // Phases whose own grade claims the measured grade contradicts: the first thing to read.
    let contested: Vec<(i64, String, Vec<String>)> = phases
        .iter()
        .map(|p| (p.id, p.number.clone(), p.contradictions()))
        .filter(|(_, _, c)| !c.is_empty())
        .collect();
    let contested = (!contested.is_empty()).then(|| {
        view! {
            <section class="notice warn" aria-labelledby="contested-h">
                <h2 id="contested-h">"Claims the evidence contradicts"</h2>
                <ul>{contested.into_iter().map(|(id, number, found)| view! {
                    <li><a href=format!("/phases/{id}")>{number}</a>": "{found.join(" ")}</li>
                }).collect_view()}</ul>
            </section>
        }
    });
    let rollout_cards = rollouts
        .into_iter()
        .map(|r| {
            view! {
                <section class="card" aria-labelledby=format!("roll-h-{}", r.id)>
                    <h2 id=format!("roll-h-{}", r.id)><a href=format!("/rollouts/{}", r.id)>{format!("{} rollout", r.name)}</a></h2>
                    <p class="big">{format::percent(r.readiness())}</p>
                    <p><Readiness r=r.clone()/></p>
                    <p class="muted">{match r.chosen.clone() {
                        Some(c) => format!("Chosen: {c}."),
                        None => "No system chosen yet.".to_string(),
                    }}</p>
                </section>
            }
        })
        .collect_view();
    let down = engines.iter().filter(|e| !e.reachable || e.stale).count();
    let last_refresh = engines.iter().filter_map(|e| e.last_success_at).max();
    let top = findings
        .into_iter()
        .take(8)
        .map(|(kind, sev, n)| {
            view! {
                <li>
                    <a href=format!("/services?finding={}", kind.slug())>{kind.title()}</a>" "
                    <span class=format!("badge sev-{}", sev.as_str())>{sev.as_str()}</span>
                    " "{format!("{n} service{}", if n == 1 { "" } else { "s" })}
                </li>
            }
        })
        .collect_view();
    view! {
        <h1>"Dashboard"</h1>
        <div class="cards">
            <section class="card" aria-labelledby="inv-h">
                <h2 id="inv-h"><a href="/services">"Service inventory"</a></h2>
                <p class="big">{counts.containers}</p>
                <p>{counts.sentence()}</p>
                <p class="muted">
                    {match last_refresh {
                        Some(at) => view! { "Last refresh "<TimeAgo at=at now=now/>"." }.into_any(),
                        None => view! { "No refresh has completed yet." }.into_any(),
                    }}
                    {(down > 0).then(|| view! { " "<a class="error-text" href="/engines">{format!("{down} engine(s) down or stale.")}</a> })}
                </p>
            </section>
            <section class="card" aria-labelledby="find-h">
                <h2 id="find-h">"Most common findings"</h2>
                <ul class="plain">{top}</ul>
            </section>
            <section class="card" aria-labelledby="grade-h">
                <h2 id="grade-h"><a href="/grades">"Production-readiness grade"</a></h2>
                <p class="big">{grade.total.clone()}" "<span class="letter">{grade.letter.clone()}</span></p>
                {grade.cap.clone().map(|c| view! { <p class="error-text">{c}</p> })}
                <p class="muted">{format!("{} · {}",
                    grade.change_7d.clone().unwrap_or_else(|| "no 7-day history yet".into()),
                    grade.change_30d.clone().unwrap_or_else(|| "no 30-day history yet".into()))}</p>
                <div class="mini-chart" inner_html=grade.chart_svg.clone()></div>
            </section>
            <section class="card" aria-labelledby="actions-h">
                <h2 id="actions-h"><a href="/actions">"Action plan"</a></h2>
                <p class="big">{actions.open}</p>
                <p>{format!("open action(s), most grade points first; {} accepted risk(s).", actions.accepted)}</p>
                {(actions.overdue > 0).then(|| view! { <p class="error-text">{format!("{} overdue.", actions.overdue)}</p> })}
            </section>
            <section class="card" aria-labelledby="docs-h">
                <h2 id="docs-h"><a href="/docs">"Documentation coverage"</a></h2>
                <p class="big">{format::percent(docs.documented_share())}</p>
                <p>{format!("{} of {} running services documented; {} pass the checklist, {} fresh.", docs.documented, docs.services, docs.passing, docs.fresh)}</p>
                <p class="muted">{format!("Target {}.", format::percent(docs_target))}</p>
            </section>
            <section class="card" aria-labelledby="phase-h">
                <h2 id="phase-h"><a href="/phases">"Phases"</a></h2>
                <p class="big">{phases.len()}</p>
                <p>{phase_line}</p>
                <p class="muted">{match last_decision {
                    Some((at, number, decision)) => view! { {format!("Last decision: {number} {decision} ")}<TimeAgo at=at now=now/> }.into_any(),
                    None => view! { "No phase signed off yet." }.into_any(),
                }}</p>
            </section>
            {rollout_cards}
        </div>
        {contested}
    }
}
