//! `/docs`: documentation coverage against the live inventory, what to write next, and the
//! editors' tracker (claims and attestations).

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::format;
use crate::components::forms::CsrfField;
use crate::components::widgets::TimeAgo;
use crate::model::docs::{CoverageFigures, CoverageReport, DocStatus};
use crate::model::service_query::url_encode;

#[derive(Clone, Debug)]
pub struct DocsView {
    pub report: CoverageReport,
    /// Inline SVG of the coverage trend, drawn by the server.
    pub chart_svg: String,
    pub can_edit: bool,
    pub error: Option<String>,
    pub now: OffsetDateTime,
}

fn pct(part: i64, whole: i64) -> String {
    format::percent(CoverageFigures::share(part, whole))
}

#[component]
pub fn DocsPage(data: DocsView) -> impl IntoView {
    let DocsView {
        report,
        chart_svg,
        can_edit,
        error,
        now,
    } = data;
    let o = report.overall.clone();
    let target_count = (report.target_share * o.services as f64).ceil() as i64;
    let still_needed = (target_count - o.documented).max(0);
    let progress = if target_count == 0 {
        100.0
    } else {
        (o.documented as f64 / target_count as f64 * 100.0).min(100.0)
    };
    let per_engine = report
        .per_engine
        .iter()
        .map(|(engine, f)| {
            view! {
                <tr>
                    <th scope="row">{engine.clone()}</th>
                    <td class="num">{f.services}</td>
                    <td class="num">{format!("{} ({})", f.documented, pct(f.documented, f.services))}</td>
                    <td class="num">{format!("{} ({})", f.passing, pct(f.passing, f.services))}</td>
                    <td class="num">{format!("{} ({})", f.fresh, pct(f.fresh, f.services))}</td>
                </tr>
            }
        })
        .collect_view();
    let stale: Vec<DocStatus> = report.docs.iter().filter(|d| !d.fresh).cloned().collect();
    let failing: Vec<DocStatus> = report.docs.iter().filter(|d| !d.passing).cloned().collect();
    view! {
        <h1>"Documentation"</h1>
        {(!report.docs_dir_configured).then(|| view! {
            <p class="notice warn">"No docs folder is configured (AUDIT_DOCS_DIR): every running service counts as undocumented."</p>
        })}
        {error.map(|e| view! { <p class="notice error-text" role="alert">{e}</p> })}
        <section class="cards" aria-label="Coverage figures">
            <div class="card">
                <h2>"Documented"</h2>
                <p class="big">{pct(o.documented, o.services)}</p>
                <p>{format!("{} of {} running services", o.documented, o.services)}</p>
            </div>
            <div class="card">
                <h2>"Passing the checklist"</h2>
                <p class="big">{pct(o.passing, o.services)}</p>
                <p>{format!("{} of {}", o.passing, o.services)}</p>
            </div>
            <div class="card">
                <h2>"Fresh"</h2>
                <p class="big">{pct(o.fresh, o.services)}</p>
                <p>{format!("verified within {} days", report.freshness_days)}</p>
            </div>
            <div class="card">
                <h2>"Target"</h2>
                <p class="big">{format::percent(report.target_share)}</p>
                <progress max="100" value=format!("{progress:.0}") aria-label="progress towards the target">{format!("{progress:.0}%")}</progress>
                <p>{if still_needed == 0 { "Target reached.".to_string() } else { format!("{still_needed} more service(s) to document to reach {target_count}.") }}</p>
            </div>
        </section>
        <figure class="chart-figure">
            <div inner_html=chart_svg></div>
            <figcaption>"Coverage over time, with the target line. One point per day and per change."</figcaption>
        </figure>
        <div class="table-wrap">
            <table>
                <caption>"Per engine"</caption>
                <thead><tr><th scope="col">"Engine"</th><th scope="col" class="num">"Running"</th><th scope="col" class="num">"Documented"</th><th scope="col" class="num">"Passing"</th><th scope="col" class="num">"Fresh"</th></tr></thead>
                <tbody>{per_engine}</tbody>
            </table>
        </div>
        <Undocumented report=report.clone() can_edit=can_edit now=now/>
        <DocList heading="Failing the checklist" empty="Every doc passes." docs=failing can_edit=false/>
        <DocList heading="Stale" empty="Every doc is fresh." docs=stale can_edit=can_edit/>
        <DocList heading="Orphan docs (no such service is running)" empty="No orphans: every doc matches a service." docs=report.orphans.clone() can_edit=false/>
        <Problems problems=report.problems.clone()/>
        {can_edit.then(|| view! {
            <form method="post" action="/docs/rescan" class="inline"><CsrfField/><button type="submit">"Rescan the docs folder now"</button></form>
        })}
    }
}

#[component]
fn Undocumented(report: CoverageReport, can_edit: bool, now: OffsetDateTime) -> impl IntoView {
    let empty = report.undocumented.is_empty();
    let rows = report
        .undocumented
        .into_iter()
        .map(|u| {
            let claim = match u.claim.clone() {
                Some(c) => view! {
                    <span class="claim">"Claimed by "<strong>{c.by.clone()}</strong>" "<TimeAgo at=c.at now=now/>
                        {c.due.map(|d| format!(", due {d}"))}</span>
                    {can_edit.then(|| view! {
                        <form method="post" action="/docs/release" class="inline">
                            <CsrfField/>
                            <input type="hidden" name="engine" value=c.engine.clone()/>
                            <input type="hidden" name="key" value=c.key.clone()/>
                            <button type="submit" class="link-button">"Release"</button>
                        </form>
                    })}
                }
                .into_any(),
                None if can_edit => view! {
                    <form method="post" action="/docs/claim" class="claim-form">
                        <CsrfField/>
                        <input type="hidden" name="engine" value=u.engine.clone()/>
                        <input type="hidden" name="key" value=u.key.clone()/>
                        <label>"Due "<input type="date" name="due"/></label>
                        <label class="visually-hidden" for=format!("note-{}-{}", u.engine, u.key)>"Note"</label>
                        <input type="text" name="note" id=format!("note-{}-{}", u.engine, u.key) maxlength="500" placeholder="note (optional)"/>
                        <button type="submit">"Claim"</button>
                    </form>
                }
                .into_any(),
                None => view! { <span class="muted">"unclaimed"</span> }.into_any(),
            };
            view! {
                <tr>
                    <td class="num">{u.rank}</td>
                    <th scope="row"><a href=format!("/services/{}/{}", url_encode(&u.engine), url_encode(&u.key))>{u.name.clone()}</a>
                        <br/><small class="muted">{u.engine.clone()}" · "{u.key.clone()}</small></th>
                    <td>{u.reason.clone()}</td>
                    <td>{claim}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="undoc-h">
            <h2 id="undoc-h">"Undocumented, in the order to write them"</h2>
            <p class="muted">"Ranked by findings, then Traefik routes and published ports, then restarts and log errors."</p>
            <div class="table-wrap">
                <table>
                    <caption class="visually-hidden">"Undocumented services"</caption>
                    <thead><tr><th scope="col" class="num">"#"</th><th scope="col">"Service"</th><th scope="col">"Why here"</th><th scope="col">"Claim"</th></tr></thead>
                    <tbody>
                        {rows}
                        {empty.then(|| view! { <tr><td colspan="4" class="empty">"Every running service has a doc."</td></tr> })}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn DocList(
    heading: &'static str,
    empty: &'static str,
    docs: Vec<DocStatus>,
    can_edit: bool,
) -> impl IntoView {
    let id = format!(
        "h-{}",
        heading
            .split_whitespace()
            .next()
            .unwrap_or("x")
            .to_lowercase()
    );
    let is_empty = docs.is_empty();
    let items = docs
        .into_iter()
        .map(|d| {
            let failed: Vec<String> = d.checks.iter().filter(|c| !c.passed).map(|c| format!("{}: {}", c.name, c.reason)).collect();
            let link = format!("/docs/{}", url_encode(d.services.first().map(String::as_str).unwrap_or(&d.path)));
            view! {
                <li>
                    <a href=link>{d.title.clone().unwrap_or_else(|| d.path.clone())}</a>" "<code>{d.path.clone()}</code>
                    <ul class="reasons">{failed.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                    {can_edit.then(|| view! { <VerifyForm path=d.path.clone()/> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby=id.clone()>
            <h2 id=id.clone()>{heading}</h2>
            {is_empty.then(|| view! { <p class="muted">{empty}</p> })}
            <ul class="doc-list">{items}</ul>
        </section>
    }
}

/// "Verification commands run today" for one doc.
#[component]
pub fn VerifyForm(path: String) -> impl IntoView {
    view! {
        <form method="post" action="/docs/verify" class="claim-form">
            <CsrfField/>
            <input type="hidden" name="path" value=path/>
            <input type="text" name="note" required=true maxlength="500" placeholder="what you ran and saw" aria-label="Verification note"/>
            <button type="submit">"I ran the verification commands today"</button>
        </form>
    }
}

#[component]
fn Problems(problems: Vec<(String, String)>) -> impl IntoView {
    (!problems.is_empty()).then(|| {
        let items = problems
            .into_iter()
            .map(|(path, reason)| view! { <li><code>{path}</code>": "{reason}</li> })
            .collect_view();
        view! {
            <section aria-labelledby="problems-h">
                <h2 id="problems-h">"Files skipped"</h2>
                <ul class="doc-list">{items}</ul>
            </section>
        }
    })
}
