//! `/capacity`, `/dependencies` and `/versions`, and the service page's resource and dependency
//! sections.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::format::{bytes, timestamp};
use crate::components::forms::CsrfField;
use crate::components::widgets::TimeAgo;
use crate::model::capacity::{
    BaselineRow, BaselineSummary, CapacityPage, EngineCapacity, ResourceWindow, RightSizing,
    ServiceResources,
};
use crate::model::service_query::url_encode;

pub(crate) fn service_href(engine: &str, key: &str) -> String {
    format!("/services/{}/{}", url_encode(engine), url_encode(key))
}

fn pct(share: Option<f64>) -> String {
    share.map_or("–".into(), |s| format!("{:.1}%", s * 100.0))
}

fn cpu(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.1}%"))
}

fn mem(v: Option<i64>) -> String {
    v.map_or("–".into(), bytes)
}

pub(crate) fn sources(via: &[String]) -> String {
    via.join(", ")
}

#[component]
pub fn CapacityOverviewPage(data: CapacityPage, now: OffsetDateTime) -> impl IntoView {
    let CapacityPage {
        engines,
        rightsizing,
        headroom_factor,
        min_samples,
        regression_percent,
        baselines,
        compared,
        can_save,
        refusal,
    } = data;
    let engines_view = engines
        .into_iter()
        .map(|e| view! { <EngineSection engine=e/> })
        .collect_view();
    view! {
        <h1>"Capacity"</h1>
        <p class="lead">"Each host's memory against what its containers use and are promised, the limits the history says to change, and baselines to compare with. See also the "
            <a href="/dependencies">"dependency map"</a>" and the "<a href="/versions">"image versions"</a>"."</p>
        <p class="downloads"><a href="/capacity/CAPACITY_REPORT.md">"Capacity report (Markdown)"</a>" · "
            <a href="/capacity/RIGHT_SIZING.md">"Right-sizing list (Markdown)"</a></p>
        {engines_view}
        <RightSizingSection rows=rightsizing headroom=headroom_factor min_samples=min_samples/>
        <BaselinesSection baselines=baselines compared=compared can_save=can_save refusal=refusal
            percent=regression_percent now=now/>
    }
}

#[component]
fn EngineSection(engine: EngineCapacity) -> impl IntoView {
    let id = format!("engine-{}", engine.name);
    let labelled_by = id.clone();
    let heading = format!("Engine {}", engine.name);
    let used = engine.used_share();
    let limits = engine.limits_share();
    let trigger = match (engine.trigger_reached(), engine.headroom_to_trigger()) {
        (true, _) => {
            view! { <span class="badge sev-high">"reached: plan the upgrade"</span> }.into_any()
        }
        (false, Some(left)) => {
            view! { <span>{format!("not reached: {} left before it", bytes(left))}</span> }
                .into_any()
        }
        (false, None) => {
            view! { <span class="muted">"unknown until the engine reports its memory"</span> }
                .into_any()
        }
    };
    let host = if engine.memory_bytes.is_none() {
        "The engine has not described its host yet (it has not answered a refresh).".to_string()
    } else {
        format!(
            "{} CPUs · {} memory · kernel {} · {} · storage driver {} · Docker {}",
            engine.cpus.map_or("?".into(), |c| c.to_string()),
            mem(engine.memory_bytes),
            engine.kernel_version.clone().unwrap_or_else(|| "?".into()),
            engine
                .operating_system
                .clone()
                .unwrap_or_else(|| "unknown OS".into()),
            engine.storage_driver.clone().unwrap_or_else(|| "?".into()),
            engine.docker_version.clone().unwrap_or_else(|| "?".into()),
        )
    };
    let unlimited = format!(
        "{} container{}, using {}",
        engine.unlimited,
        if engine.unlimited == 1 { "" } else { "s" },
        bytes(engine.unlimited_used)
    );
    view! {
        <section aria-labelledby=labelled_by class="engine-capacity">
            <h2 id=id>{heading}</h2>
            <p class="muted host-facts">{host}</p>
            <table class="facts">
                <tbody>
                    <tr><th scope="row">"Running containers"</th><td>{engine.running}</td></tr>
                    <tr><th scope="row">"Memory used by containers"</th>
                        <td class="memory-used">{format!("{} ({} of the host)", bytes(engine.memory_used), pct(used))}</td></tr>
                    <tr><th scope="row">"Sum of memory limits"</th>
                        <td class="limits-sum">{format!("{} ({} of the host)", bytes(engine.limits_sum), pct(limits))}</td></tr>
                    <tr><th scope="row">"Without a memory limit"</th>
                        <td>{unlimited}</td></tr>
                    <tr><th scope="row">{format!("Upgrade trigger (used above {:.0}%)", engine.trigger_percent)}</th>
                        <td class="trigger">{trigger}</td></tr>
                </tbody>
            </table>
            {engine.trend_svg.map(|svg| view! { <div class="chart-wrap" inner_html=svg></div> })}
        </section>
    }
}

#[component]
fn RightSizingSection(rows: Vec<RightSizing>, headroom: f64, min_samples: i64) -> impl IntoView {
    let freed: i64 = rows.iter().map(|r| r.frees.max(0)).sum();
    let empty = rows.is_empty();
    let body = rows
        .into_iter()
        .map(|r| {
            let change = if r.frees >= 0 {
                format!("frees {}", bytes(r.frees))
            } else {
                format!("takes {}", bytes(-r.frees))
            };
            view! {
                <tr>
                    <td><a href=service_href(&r.engine, &r.key)>{r.name.clone()}</a><small class="muted">" ("{r.engine.clone()}")"</small></td>
                    <td class="num">{bytes(r.limit)}</td>
                    <td class="num">{bytes(r.peak_7d)}</td>
                    <td class="num">{r.samples}</td>
                    <td class="num recommended">{bytes(r.recommended)}</td>
                    <td>{change}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="rightsizing-h">
            <h2 id="rightsizing-h">"Right-sizing"</h2>
            <p class="muted">{format!("From each running service's 7-day memory peak, once it has at least {min_samples} samples: a peak at 90% of the limit calls for more, one under 10% of a limit of 512 MiB or more for less. The recommendation is the peak × {headroom}, rounded up.")}</p>
            {if empty {
                view! { <p>"No limit needs changing."</p> }.into_any()
            } else {
                view! {
                    <p class="summary-line">{format!("Lowering the oversized limits frees {}.", bytes(freed))}</p>
                    <table class="rightsizing">
                        <thead><tr><th scope="col">"Service"</th><th scope="col">"Limit"</th><th scope="col">"7-day peak"</th>
                            <th scope="col">"Samples"</th><th scope="col">"Recommended"</th><th scope="col">"Change"</th></tr></thead>
                        <tbody>{body}</tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn BaselinesSection(
    baselines: Vec<BaselineSummary>,
    compared: Option<(BaselineSummary, Vec<BaselineRow>)>,
    can_save: bool,
    refusal: Option<String>,
    percent: f64,
    now: OffsetDateTime,
) -> impl IntoView {
    let chosen = compared.as_ref().map(|(b, _)| b.id);
    let options = baselines
        .iter()
        .map(|b| {
            let text = format!("{} ({}, by {})", b.label, timestamp(b.taken_at), b.taken_by);
            view! { <option value=b.id.to_string() selected=Some(b.id) == chosen>{text}</option> }
        })
        .collect_view();
    let any = !baselines.is_empty();
    let form = can_save.then(|| {
        view! {
            <form method="post" action="/capacity/baselines" class="inline-form">
                <CsrfField/>
                <label>"Label "<input type="text" name="label" required maxlength="100" placeholder="before the Postgres upgrade"/></label>
                <label>" Window (days) "<input type="number" name="window_days" min="1" max="30" value="7"/></label>
                <button type="submit">"Save a baseline"</button>
            </form>
        }
    });
    let refusal = refusal.map(|m| view! { <p class="form-error" role="alert">{m}</p> });
    let comparison = compared.map(|(b, rows)| {
        let worse = rows.iter().filter(|r| !r.regressed.is_empty()).count();
        let body = rows
            .into_iter()
            .map(|r| {
                let class = if r.regressed.is_empty() { "" } else { "regressed" };
                let verdict = if r.regressed.is_empty() { "–".to_string() } else { r.regressed.join("; ") };
                view! {
                    <tr class=class>
                        <td><a href=service_href(&r.engine, &r.key)>{r.name.clone()}</a></td>
                        <td class="num">{cpu(r.cpu.0)}</td><td class="num">{cpu(r.cpu.1)}</td>
                        <td class="num">{mem(r.memory.0)}</td><td class="num">{mem(r.memory.1)}</td>
                        <td class="num">{r.latency_ms.0.map_or("–".into(), |v| format!("{v:.0} ms"))}</td>
                        <td class="num">{r.latency_ms.1.map_or("–".into(), |v| format!("{v:.0} ms"))}</td>
                        <td>{verdict}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h3>{format!("Now against '{}'", b.label)}</h3>
            <p class="muted">"Saved "<TimeAgo at=b.taken_at now=now/>{format!(" by {} over {} days, {} services. Now: the last 24 hours. Worse by more than {percent:.0}%: {worse}.", b.taken_by, b.window_days, b.services)}</p>
            <table class="baseline-compare">
                <thead><tr><th scope="col">"Service"</th><th scope="col">"CPU p95 then"</th><th scope="col">"now"</th>
                    <th scope="col">"Memory p95 then"</th><th scope="col">"now"</th>
                    <th scope="col">"Latency p95 then"</th><th scope="col">"now"</th><th scope="col">"Regressed"</th></tr></thead>
                <tbody>{body}</tbody>
            </table>
        }
    });
    view! {
        <section aria-labelledby="baselines-h" id="baselines">
            <h2 id="baselines-h">"Baselines"</h2>
            <p class="muted">{format!("A baseline keeps each service's CPU and memory p95 (and its routes' latency p95) over a window. A service more than {percent:.0}% worse over the last day is a performance regression finding.")}</p>
            {refusal}
            {form}
            {any.then(|| view! {
                <form method="get" action="/capacity#baselines" class="inline-form">
                    <label>"Compare with "<select name="baseline">{options}</select></label>
                    <button type="submit">"Compare"</button>
                </form>
            })}
            {(!any).then(|| view! { <p>"No baseline saved yet."</p> })}
            {comparison}
        </section>
    }
}

#[component]
pub fn ResourcesSection(resources: ServiceResources) -> impl IntoView {
    let rows = resources
        .windows
        .into_iter()
        .map(|w: ResourceWindow| {
            view! {
                <tr>
                    <th scope="row">{w.label}</th>
                    <td class="num">{cpu(w.cpu_avg)}</td>
                    <td class="num">{cpu(w.cpu_p95)}</td>
                    <td class="num">{w.memory_avg.map_or("–".into(), |m| bytes(m as i64))}</td>
                    <td class="num">{mem(w.memory_peak)}</td>
                    <td class="num">{bytes(w.block_io)}</td>
                    <td class="num">{bytes(w.net_io)}</td>
                    <td class="num">{w.samples}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="resources-h" class="resources">
            <h2 id="resources-h">"Resources"</h2>
            <table class="resource-windows">
                <thead><tr><th scope="col">"Window"</th><th scope="col">"CPU avg"</th><th scope="col">"CPU p95"</th>
                    <th scope="col">"Memory avg"</th><th scope="col">"Memory peak"</th><th scope="col">"Block I/O"</th>
                    <th scope="col">"Network I/O"</th><th scope="col">"Samples"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <p class="muted">"CPU in percent of one CPU; p95 of the hourly averages."</p>
            {resources.cpu_svg.map(|svg| view! { <div class="chart-wrap" inner_html=svg></div> })}
            {resources.memory_svg.map(|svg| view! { <div class="chart-wrap" inner_html=svg></div> })}
        </section>
    }
}
