//! `/phases`: every phase with its progress and last decision; editors import a plan from
//! Markdown (with a preview of what was understood) or create a phase by hand.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::forms::CsrfField;
use crate::components::widgets::TimeAgo;
use crate::model::phases::{PhaseSummary, PlanPreview};

#[derive(Clone, Debug)]
pub struct PhasesView {
    pub phases: Vec<PhaseSummary>,
    pub can_edit: bool,
    /// The plan text being imported, kept in the form across previews and errors.
    pub plan_text: String,
    pub number_override: String,
    pub preview: Option<PlanPreview>,
    pub error: Option<String>,
    pub now: OffsetDateTime,
}

#[component]
pub fn PhasesPage(data: PhasesView) -> impl IntoView {
    let PhasesView {
        phases,
        can_edit,
        plan_text,
        number_override,
        preview,
        error,
        now,
    } = data;
    let empty = phases.is_empty();
    let rows = phases
        .into_iter()
        .map(|p| view! { <PhaseRow p=p now=now/> })
        .collect_view();
    view! {
        <h1>"Phases"</h1>
        <p class="lead">"Each phase ends with a completion report, an independent verification and a sign-off whose record cannot be quietly changed."</p>
        {error.map(|e| view! { <p class="notice error-text" role="alert">{e}</p> })}
        <p><a href="/phases/verify">"Verify the sign-off chain"</a></p>
        <div class="table-wrap">
            <table>
                <caption class="visually-hidden">"Phases"</caption>
                <thead><tr>
                    <th scope="col">"Phase"</th><th scope="col">"Status"</th><th scope="col" class="num">"Deliverables"</th>
                    <th scope="col">"Due"</th><th scope="col" class="num">"Target"</th><th scope="col">"Last decision"</th>
                </tr></thead>
                <tbody>
                    {rows}
                    {empty.then(|| view! { <tr><td colspan="6" class="empty">"No phase yet. Import a plan below."</td></tr> })}
                </tbody>
            </table>
        </div>
        {preview.map(|p| view! { <Preview p=p/> })}
        {can_edit.then(|| view! { <ImportForm plan_text=plan_text number_override=number_override/> })}
        {can_edit.then(|| view! { <CreateForm/> })}
    }
}

#[component]
fn PhaseRow(p: PhaseSummary, now: OffsetDateTime) -> impl IntoView {
    let status = p.status();
    let progress = format!(
        "{} done, {} waived, {} open of {}",
        p.done,
        p.waived,
        p.open(),
        p.total
    );
    view! {
        <tr>
            <th scope="row"><a href=format!("/phases/{}", p.id)>{p.number.clone()}</a><br/><small>{p.short_title().to_string()}</small></th>
            <td><span class=format!("badge phase-{}", status.replace(' ', "-"))>{status}</span></td>
            <td class="num">{progress}</td>
            <td>{p.due_on.map(|d| d.to_string()).unwrap_or_else(|| "—".into())}</td>
            <td class="num">{p.target_grade.clone().unwrap_or_else(|| "—".into())}</td>
            <td>{match (p.last_decision.clone(), p.last_decision_at) {
                (Some(d), Some(at)) => view! { <span>{d}" "<TimeAgo at=at now=now/></span> }.into_any(),
                _ => view! { <span class="muted">"none"</span> }.into_any(),
            }}</td>
        </tr>
    }
}

#[component]
fn Preview(p: PlanPreview) -> impl IntoView {
    let count = p.items.len();
    let checked = p.items.iter().filter(|i| i.checked).count();
    let items = p
        .items
        .into_iter()
        .map(|i| {
            view! {
                <tr>
                    <td>{i.headings.join(" › ")}</td>
                    <td style=format!("padding-left: {}rem", 0.5 + f32::from(i.depth) * 1.5)>{i.text}</td>
                    <td>{if i.checked { "checked (imported as done)" } else { "open" }}
                        {i.check.map(|c| view! { <br/><small>{format!("checked by the portal: {c}")}</small> })}</td>
                </tr>
            }
        })
        .collect_view();
    let list = |xs: Vec<String>| {
        if xs.is_empty() {
            view! { <p class="muted">"none found"</p> }.into_any()
        } else {
            view! { <ul>{xs.into_iter().map(|x| view! { <li>{x}</li> }).collect_view()}</ul> }
                .into_any()
        }
    };
    view! {
        <section aria-labelledby="preview-h" class="card">
            <h2 id="preview-h">"Preview: what the importer understood"</h2>
            <dl class="facts">
                <dt>"Title"</dt><dd>{p.title.clone()}</dd>
                <dt>"Phase number"</dt><dd>{p.number.clone().unwrap_or_else(|| "not found".into())}</dd>
                <dt>"Starts"</dt><dd>{p.starts_on.map(|d| d.to_string()).unwrap_or_else(|| "not stated".into())}</dd>
                <dt>"Due"</dt><dd>{p.due_on.map(|d| d.to_string()).unwrap_or_else(|| "not stated".into())}</dd>
                <dt>"Target grade"</dt><dd>{p.target_grade.clone().unwrap_or_else(|| "not stated".into())}</dd>
                <dt>"Claimed grade at its start"</dt><dd>{p.claimed_grade.clone().unwrap_or_else(|| "not stated".into())}</dd>
                <dt>"Checklist items"</dt><dd>{format!("{count} ({checked} checked)")}</dd>
            </dl>
            {(!p.notes.is_empty()).then(|| view! {
                <div class="notice warn"><strong>"Skipped or repaired: "</strong>
                    <ul>{p.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul>
                </div>
            })}
            <h3>"Objectives"</h3>
            {list(p.objectives)}
            <h3>"Checklist"</h3>
            <div class="table-wrap">
                <table>
                    <caption class="visually-hidden">"Checklist items"</caption>
                    <thead><tr><th scope="col">"Under"</th><th scope="col">"Item"</th><th scope="col">"State"</th></tr></thead>
                    <tbody>{items}</tbody>
                </table>
            </div>
            <h3>"Success criteria"</h3>
            {list(p.criteria)}
            <p class="muted">"Nothing has been saved yet. Use “Import this plan” below to create the phase."</p>
        </section>
    }
}

#[component]
fn ImportForm(plan_text: String, number_override: String) -> impl IntoView {
    view! {
        <section aria-labelledby="import-h">
            <h2 id="import-h">"Import a phase plan"</h2>
            <p class="muted">"Paste the plan's Markdown. Checklist items ('- [ ]' and '- [x]') become deliverables; checked items are imported as done. Plans kept in a repository can be imported with "<code>"audit-portal import-phase PLAN.md"</code>"."</p>
            <form method="post" action="/phases/import" class="stacked-form">
                <CsrfField/>
                <label>"Plan (Markdown)"<textarea name="plan" rows="14" required=true>{plan_text}</textarea></label>
                <label>"Phase number, if the plan does not state it"<input type="text" name="number" value=number_override placeholder="PHASE-03"/></label>
                <div class="actions">
                    <button type="submit" name="intent" value="preview" class="secondary">"Preview"</button>
                    <button type="submit" name="intent" value="import">"Import this plan"</button>
                </div>
            </form>
            <form method="post" action="/phases/upload" enctype="multipart/form-data" class="form-grid">
                <CsrfField/>
                <label>"Or upload the plan's file"<input type="file" name="plan_file" accept=".md,.markdown,.txt,text/markdown,text/plain" required=true/></label>
                <label>"Phase number, if the plan does not state it"<input type="text" name="number" placeholder="PHASE-03"/></label>
                <button type="submit" class="secondary">"Upload and preview"</button>
            </form>
        </section>
    }
}

#[component]
fn CreateForm() -> impl IntoView {
    view! {
        <section aria-labelledby="create-h">
            <h2 id="create-h">"Create a phase by hand"</h2>
            <form method="post" action="/phases/create" class="form-grid">
                <CsrfField/>
                <label>"Phase number"<input type="text" name="number" required=true placeholder="PHASE-03"/></label>
                <label>"Title"<input type="text" name="title" required=true maxlength="300"/></label>
                <label>"Due"<input type="date" name="due_on"/></label>
                <label>"Target grade (0–100)"<input type="text" name="target_grade" inputmode="decimal"/></label>
                <button type="submit">"Create phase"</button>
            </form>
        </section>
    }
}
