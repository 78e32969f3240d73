//! `/rollouts/{id}`: the evaluation matrix and the decision, the checklist with the portal's own
//! checks and people's evidence, and the timeline of status changes.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::forms::CsrfField;
use crate::components::widgets::TimeAgo;
use crate::model::drafts::FormDraft;
use crate::model::rollouts::{CandidateView, CriterionView, ItemStatus, ItemView, RolloutDetail};
use crate::pages::rollouts::Readiness;

#[derive(Clone, Debug)]
pub struct RolloutView {
    pub detail: RolloutDetail,
    pub can_admin: bool,
    pub can_edit: bool,
    pub error: Option<String>,
    /// The values of a refused form, shown again.
    pub draft: Option<FormDraft>,
    pub now: OffsetDateTime,
}

#[component]
pub fn RolloutPage(data: RolloutView) -> impl IntoView {
    let RolloutView {
        detail,
        can_admin,
        can_edit,
        error,
        draft,
        now,
    } = data;
    let s = detail.summary.clone();
    let id = s.id;
    let items = detail
        .items
        .iter()
        .cloned()
        .map(|item| {
            view! { <ItemRow item=item rollout=id can_edit=can_edit draft=draft.clone() now=now/> }
                .into_any()
        })
        .collect_view();
    let timeline = detail
        .timeline
        .iter()
        .map(|e| {
            view! {
                <li>
                    <TimeAgo at=e.at now=now/>" · "<strong>{e.item.clone()}</strong>" → "{e.status.label()}
                    {format!(" ({})", if e.source == "portal" { "checked by the portal".to_string() } else { format!("by {}", e.by) })}
                    {(!e.note.is_empty()).then(|| view! { <br/><small class="muted">{e.note.clone()}</small> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <p class="breadcrumb"><a href="/rollouts">"Rollouts"</a></p>
        <h1>{s.name.clone()}</h1>
        {error.map(|e| view! { <p class="notice error-text" role="alert">{e}</p> })}
        <p class="lead">{s.goal.clone()}</p>
        <dl class="facts">
            <dt>"Readiness"</dt><dd><Readiness r=s.clone()/></dd>
            <dt>"Host"</dt><dd><code>{s.host.clone()}</code></dd>
            <dt>"VPN allow-list"</dt><dd>{detail.allowlist_middleware.clone().map(|m| format!("middlewares defined with ipallowlist labels, or {m}")).unwrap_or_else(|| "middlewares defined with ipallowlist/ipwhitelist labels".into())}</dd>
            <dt>"Last automatic check"</dt><dd>{match s.checked_at {
                Some(at) => view! { <TimeAgo at=at now=now/> }.into_any(),
                None => view! { <span>"not yet: the worker checks after each refresh"</span> }.into_any(),
            }}</dd>
        </dl>
        <Matrix criteria=detail.criteria.clone() candidates=detail.candidates.clone() weights_by=detail.weights_by.clone() now=now/>
        <section aria-labelledby="decision-h">
            <h2 id="decision-h">"Decision"</h2>
            {match detail.decision.clone() {
                Some(d) => view! {
                    <p><strong>{d.candidate.clone()}</strong>{format!(", decided by {} ", d.by)}<TimeAgo at=d.at now=now/></p>
                    <p class="pre-wrap">{d.rationale.clone()}</p>
                }.into_any(),
                None => view! { <p class="muted">"No decision yet."</p> }.into_any(),
            }}
            {can_admin.then(|| view! {
                <form method="post" action=format!("/rollouts/{id}/decision") class="form-grid">
                    <CsrfField/>
                    <label>"Chosen candidate"
                        <select name="candidate">{detail.candidates.iter().map(|c| {
                            let chosen = FormDraft::value(&draft, "decision", "candidate") == Some(c.id.to_string());
                            view! { <option value=c.id.to_string() selected=chosen>{c.name.clone()}</option> }
                        }).collect_view()}</select>
                    </label>
                    <label>"Rationale"<input type="text" name="rationale" required=true maxlength="4000"
                        value=FormDraft::value(&draft, "decision", "rationale").unwrap_or_default()/></label>
                    <button type="submit">"Record decision"</button>
                </form>
            })}
        </section>
        <section aria-labelledby="checklist-h">
            <h2 id="checklist-h">"Checklist"</h2>
            <p class="muted">"Items marked “checked by the portal” are verified from the live inventory after every refresh and fall back when the fact stops holding. The others need evidence from a person."</p>
            <div class="table-wrap">
                <table class="checklist">
                    <caption class="visually-hidden">"Checklist"</caption>
                    <thead><tr><th scope="col">"Item"</th><th scope="col">"Status"</th><th scope="col">"Owner and due"</th><th scope="col">"Evidence"</th></tr></thead>
                    <tbody>{items}</tbody>
                </table>
            </div>
        </section>
        <section aria-labelledby="timeline-h">
            <h2 id="timeline-h">"Timeline"</h2>
            <ul class="timeline">{timeline}</ul>
        </section>
        {can_admin.then(|| view! { <AdminForms rollout=id criteria=detail.criteria.clone() candidates=detail.candidates.clone() draft=draft.clone()/> })}
    }
}

#[component]
fn Matrix(
    criteria: Vec<CriterionView>,
    candidates: Vec<CandidateView>,
    weights_by: Option<(String, OffsetDateTime)>,
    now: OffsetDateTime,
) -> impl IntoView {
    let heads = candidates
        .iter()
        .map(|c| view! { <th scope="col" class="num">{c.name.clone()}</th> })
        .collect_view();
    let rows = criteria
        .iter()
        .enumerate()
        .map(|(i, criterion)| {
            let cells = candidates
                .iter()
                .map(|c| match c.cells.get(i).cloned().flatten() {
                    Some(cell) => view! {
                        <td class="num" title=format!("{} · {}", cell.by, cell.note)>{format!("{}/10", cell.score)}
                            {(!cell.note.is_empty()).then(|| view! { <br/><small class="muted">{cell.note.clone()}</small> })}
                        </td>
                    }
                    .into_any(),
                    None => view! { <td class="num muted">"—"</td> }.into_any(),
                })
                .collect_view();
            view! {
                <tr><th scope="row">{criterion.name.clone()}</th><td class="num">{format!("{}%", criterion.weight)}</td>{cells}</tr>
            }
        })
        .collect_view();
    let totals = candidates
        .iter()
        .map(|c| view! { <td class="num"><strong>{c.total.clone()}</strong><br/><small class="muted">{format!("{} of {} scored", c.scored, criteria.len())}</small></td> })
        .collect_view();
    view! {
        <section aria-labelledby="matrix-h">
            <h2 id="matrix-h">"Evaluation matrix"</h2>
            <p class="muted">"Scores are 0–10; a candidate's total is Σ weight × score ÷ 10, out of 100. Unscored criteria add nothing."
                {weights_by.map(|(by, at)| view! { {format!(" Weights set by {by} ")}<TimeAgo at=at now=now/>"." })}
            </p>
            <div class="table-wrap">
                <table class="matrix">
                    <caption class="visually-hidden">"Evaluation matrix"</caption>
                    <thead><tr><th scope="col">"Criterion"</th><th scope="col" class="num">"Weight"</th>{heads}</tr></thead>
                    <tbody>{rows}</tbody>
                    <tfoot><tr><th scope="row">"Weighted total"</th><td class="num">"100%"</td>{totals}</tr></tfoot>
                </table>
            </div>
        </section>
    }
}

#[component]
fn ItemRow(
    item: ItemView,
    rollout: i64,
    can_edit: bool,
    draft: Option<FormDraft>,
    now: OffsetDateTime,
) -> impl IntoView {
    let automatic = item.check.is_some();
    let iid = item.id;
    let form = format!("item-{iid}");
    let refused = draft.as_ref().is_some_and(|d| d.form == form);
    let sent = |name: &str| FormDraft::value(&draft, &form, name);
    let status = sent("status").unwrap_or_else(|| item.status.as_str().to_string());
    // A person may set every status but `verified` on an item the portal checks itself.
    let choices: Vec<ItemStatus> = ItemStatus::ALL
        .into_iter()
        .filter(|s| !(automatic && *s == ItemStatus::Verified))
        .collect();
    let owner = sent("owner").unwrap_or_else(|| item.owner.clone().unwrap_or_default());
    let due =
        sent("due_on").unwrap_or_else(|| item.due_on.map(|d| d.to_string()).unwrap_or_default());
    let (note, link) = (
        sent("note").unwrap_or_default(),
        sent("link").unwrap_or_default(),
    );
    view! {
        <tr id=format!("item-{iid}")>
            <td>{item.title.clone()}
                {item.check.clone().map(|c| view! { <br/><small class="muted">{format!("checked by the portal: {c}")}</small> })}
            </td>
            <td><span class=format!("badge item-{}", item.status.as_str())>{item.status.label()}</span></td>
            <td>{item.owner.clone().unwrap_or_else(|| "—".into())}{item.due_on.map(|d| format!(" · due {d}"))}</td>
            <td>
                {item.fact.clone().map(|fact| view! {
                    <p class="fact">{fact}" "{item.fact_at.map(|at| view! { <small class="muted"><TimeAgo at=at now=now/></small> })}</p>
                })}
                {(!item.note.is_empty() && item.fact.as_deref() != Some(item.note.as_str())).then(|| view! { <p>{item.note.clone()}</p> })}
                {item.link.clone().map(|l| view! { <p><a href=l.clone() rel="noopener noreferrer nofollow">{l.clone()}</a></p> })}
                <small class="muted">{format!("{} ", item.by)}<TimeAgo at=item.at now=now/></small>
                {can_edit.then(|| view! {
                    <details class="evidence-form" open=refused>
                        <summary>"Update"</summary>
                        <form method="post" action=format!("/rollouts/{rollout}/items/{iid}") class="stacked-form">
                            <CsrfField/>
                            <label>"Status"
                                <select name="status">
                                    {choices.into_iter().map(|s| {
                                        let label = if s == ItemStatus::Verified { "verified (needs evidence)" } else { s.label() };
                                        view! { <option value=s.as_str() selected=status == s.as_str()>{label}</option> }
                                    }).collect_view()}
                                </select>
                            </label>
                            <label>"Owner"<input type="text" name="owner" value=owner maxlength="200"/></label>
                            <label>"Due"<input type="date" name="due_on" value=due/></label>
                            <label>"Evidence or note"<input type="text" name="note" value=note maxlength="2000"/></label>
                            <label>"Link"<input type="url" name="link" value=link placeholder="https://…"/></label>
                            <button type="submit">"Save"</button>
                        </form>
                    </details>
                }.into_any())}
            </td>
        </tr>
    }
    .into_any()
}

#[component]
fn AdminForms(
    rollout: i64,
    criteria: Vec<CriterionView>,
    candidates: Vec<CandidateView>,
    draft: Option<FormDraft>,
) -> impl IntoView {
    let sent = |form: &str, name: &str| FormDraft::value(&draft, form, name);
    let option = |name: &str, id: i64, label: String| {
        let selected = sent("score", name) == Some(id.to_string());
        view! { <option value=id.to_string() selected=selected>{label}</option> }
    };
    let candidate_options = candidates
        .iter()
        .map(|c| option("candidate", c.id, c.name.clone()))
        .collect_view();
    let criterion_options = criteria
        .iter()
        .map(|c| option("criterion", c.id, c.name.clone()))
        .collect_view();
    let weights = criteria
        .iter()
        .map(|c| {
            view! {
                <label>{format!("{} (%)", c.name)}
                    <input type="text" name=format!("weight_{}", c.id) inputmode="numeric" required=true
                        value=sent("weights", &format!("weight_{}", c.id)).unwrap_or_else(|| c.weight.to_string())/>
                </label>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="score-h">
            <h2 id="score-h">"Score a candidate"</h2>
            <form method="post" action=format!("/rollouts/{rollout}/scores") class="form-grid">
                <CsrfField/>
                <label>"Candidate"<select name="candidate">{candidate_options}</select></label>
                <label>"Criterion"<select name="criterion">{criterion_options}</select></label>
                <label>"Score (0–10)"<input type="text" name="score" inputmode="numeric" required=true value=sent("score", "score").unwrap_or_default()/></label>
                <label>"Why"<input type="text" name="note" maxlength="1000" value=sent("score", "note").unwrap_or_default()/></label>
                <button type="submit">"Record score"</button>
            </form>
        </section>
        <section aria-labelledby="weights-h">
            <h2 id="weights-h">"Criteria weights"</h2>
            <p class="muted">"Whole percents that sum to 100. Saving keeps the earlier weights in the history."</p>
            <form method="post" action=format!("/rollouts/{rollout}/weights") class="form-grid">
                <CsrfField/>
                {weights}
                <button type="submit">"Save weights"</button>
            </form>
        </section>
        <section aria-labelledby="candidate-h">
            <h2 id="candidate-h">"Add a candidate"</h2>
            <form method="post" action=format!("/rollouts/{rollout}/candidates") class="form-grid">
                <CsrfField/>
                <label>"Name"<input type="text" name="name" required=true maxlength="100" value=sent("candidate", "name").unwrap_or_default()/></label>
                <label>"Found in service names or images as"<input type="text" name="service_match" required=true maxlength="100" placeholder="dolibarr" value=sent("candidate", "service_match").unwrap_or_default()/></label>
                <button type="submit">"Add candidate"</button>
            </form>
        </section>
    }
}
