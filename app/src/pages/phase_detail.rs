//! `/phases/{id}`: the plan, its deliverables with evidence forms, the completion and
//! verification reports, the sign-off history and (for admins) the sign-off form.

use leptos::prelude::*;
use time::OffsetDateTime;

use super::phase_signoff::{Reports, SignoffForm, SignoffHistory};
use crate::components::forms::CsrfField;
use crate::components::widgets::TimeAgo;
use crate::model::drafts::FormDraft;
use crate::model::phases::{
    CHECK_KINDS, DeliverableStatus, DeliverableView, PhaseDetail, PhaseSummary, SignoffDraft,
    SignoffView,
};

#[derive(Clone, Debug)]
pub struct PhaseDetailView {
    pub detail: PhaseDetail,
    /// Editors and admins: deliverables, reports.
    pub can_edit: bool,
    /// Admins: the sign-off form.
    pub can_sign: bool,
    /// The sign-off form's values after a re-authentication or a refusal.
    pub draft: Option<SignoffDraft>,
    /// The values of another refused form (a deliverable, a report), shown again.
    pub form_draft: Option<FormDraft>,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub reauth_minutes: u64,
    /// The grade the portal measures now ("72.40").
    pub measured_now: String,
    pub now: OffsetDateTime,
}

#[component]
pub fn PhaseDetailPage(data: PhaseDetailView) -> impl IntoView {
    let PhaseDetailView {
        detail,
        can_edit,
        can_sign,
        draft,
        form_draft,
        notice,
        error,
        reauth_minutes,
        measured_now,
        now,
    } = data;
    let s = detail.summary.clone();
    // The sign-off form says so when the measured grade has not reached the plan's target.
    let below_target = s.target_grade.as_ref().and_then(|target| {
        let (t, m) = (target.parse::<f64>().ok()?, measured_now.parse::<f64>().ok()?);
        (m < t).then(|| {
            format!("The measured grade, {measured_now}, is below the target of {target}: the record will say so.")
        })
    });
    let id = s.id;
    let open: Vec<DeliverableView> = detail
        .deliverables
        .iter()
        .filter(|d| d.status == DeliverableStatus::Open)
        .cloned()
        .collect();
    let deliverables = detail
        .deliverables
        .iter()
        .cloned()
        .map(|d| view! { <DeliverableRow d=d phase=id can_edit=can_edit draft=form_draft.clone() now=now/> }.into_any())
        .collect_view();
    let list = |xs: &[String]| {
        xs.iter()
            .map(|x| view! { <li>{x.clone()}</li> })
            .collect_view()
    };
    view! {
        <p class="breadcrumb"><a href="/phases">"Phases"</a></p>
        <h1>{format!("{} · {}", s.number, s.short_title())}</h1>
        {notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
        {error.map(|e| view! { <p class="notice error-text" role="alert">{e}</p> })}
        <dl class="facts">
            <dt>"Status"</dt><dd><span class=format!("badge phase-{}", s.status().replace(' ', "-"))>{s.status()}</span></dd>
            <dt>"Deliverables"</dt><dd>{format!("{} done, {} waived, {} open of {}", s.done, s.waived, s.open(), s.total)}</dd>
            <dt>"Starts"</dt><dd>{detail.starts_on.map(|d| d.to_string()).unwrap_or_else(|| "not stated".into())}</dd>
            <dt>"Due"</dt><dd>{s.due_on.map(|d| d.to_string()).unwrap_or_else(|| "not stated".into())}</dd>
            <dt>"Created"</dt><dd>{format!("by {} ", detail.created_by)}<TimeAgo at=detail.created_at now=now/>
                {detail.has_source.then(|| view! { " · "<a href=format!("/phases/{id}/plan.md")>"the plan as imported"</a> })}</dd>
        </dl>
        <GradeClaims summary=s.clone() measured_now=measured_now.clone() signoffs=detail.signoffs.clone()/>
        {(!detail.objectives.is_empty()).then(|| view! { <h2>"Objectives"</h2><ul>{list(&detail.objectives)}</ul> })}
        {(!detail.criteria.is_empty()).then(|| view! { <h2>"Success criteria"</h2><ul>{list(&detail.criteria)}</ul> })}
        {(!detail.import_notes.is_empty()).then(|| view! {
            <details><summary>"Import notes"</summary><ul>{list(&detail.import_notes)}</ul></details>
        })}
        <section aria-labelledby="deliverables-h">
            <h2 id="deliverables-h">"Deliverables"</h2>
            <div class="table-wrap">
                <table class="deliverables">
                    <caption class="visually-hidden">"Deliverables"</caption>
                    <thead><tr><th scope="col">"Item"</th><th scope="col">"Status"</th><th scope="col">"Evidence"</th></tr></thead>
                    <tbody>{deliverables}</tbody>
                </table>
            </div>
            {can_edit.then(|| view! {
                <form method="post" action=format!("/phases/{id}/deliverables") class="form-grid">
                    <CsrfField/>
                    <label>"New deliverable"<input type="text" name="text" required=true maxlength="1000"
                        value=FormDraft::value(&form_draft, "new-deliverable", "text").unwrap_or_default()/></label>
                    <button type="submit" class="secondary">"Add deliverable"</button>
                </form>
            })}
        </section>
        <Reports reports=detail.reports.clone() phase=id deliverables=detail.deliverables.clone() can_edit=can_edit draft=form_draft.clone() now=now/>
        <SignoffHistory signoffs=detail.signoffs.clone() now=now/>
        {can_sign.then(|| view! { <SignoffForm phase=id open=open draft=draft.unwrap_or_default() reauth_minutes=reauth_minutes below_target=below_target/> })}
    }
}

/// The plan's grade claims beside what the portal measured: at import, now, and at each
/// sign-off, with what the evidence contradicts.
#[component]
fn GradeClaims(
    summary: PhaseSummary,
    measured_now: String,
    signoffs: Vec<SignoffView>,
) -> impl IntoView {
    let stated = |g: &Option<String>| g.clone().unwrap_or_else(|| "not stated".into());
    let contradictions = summary.contradictions();
    let at_signoffs = signoffs
        .iter()
        .map(|r| {
            view! {
                <li>{format!("{} ({}, #{}): ", r.grade_total, r.decision, r.seq)}
                    {r.signed_at.date().to_string()}</li>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="claims-h" class="card">
            <h2 id="claims-h">"Claimed versus measured"</h2>
            <dl class="facts">
                <dt>"Claimed at its start"</dt>
                <dd>{format!(
                    "{}{}",
                    stated(&summary.claimed_grade),
                    summary.grade_at_import.as_ref().map(|m| format!(" (measured at import: {m})")).unwrap_or_default()
                )}</dd>
                <dt>"Target grade"</dt><dd>{stated(&summary.target_grade)}</dd>
                <dt>"Measured now"</dt><dd>{measured_now}</dd>
                <dt>"Measured at each sign-off"</dt>
                <dd>{if signoffs.is_empty() {
                    view! { "no sign-off yet" }.into_any()
                } else {
                    view! { <ul class="plain">{at_signoffs}</ul> }.into_any()
                }}</dd>
            </dl>
            {(!contradictions.is_empty()).then(|| view! {
                <div class="notice warn" role="status"><strong>"The evidence contradicts this plan: "</strong>
                    <ul>{contradictions.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
                </div>
            })}
        </section>
    }
}

#[component]
fn DeliverableRow(
    d: DeliverableView,
    phase: i64,
    can_edit: bool,
    draft: Option<FormDraft>,
    now: OffsetDateTime,
) -> impl IntoView {
    let form = format!("deliverable-{}", d.id);
    let refused = draft.as_ref().is_some_and(|f| f.form == form);
    let sent = |name: &str| FormDraft::value(&draft, &form, name).unwrap_or_default();
    let status = sent("status");
    let (note, link, report) = (sent("note"), sent("link"), sent("report"));
    let origin = match d.origin.as_str() {
        "remediation" => Some(format!(
            "remediation{}{}",
            d.owner
                .as_ref()
                .map(|o| format!(" · owner {o}"))
                .unwrap_or_default(),
            d.due_on
                .map(|due| format!(" · due {due}"))
                .unwrap_or_default()
        )),
        "added" => Some("added after import".to_string()),
        _ => None,
    };
    let did = d.id;
    view! {
        <tr id=format!("deliverable-{did}")>
            <td style=format!("padding-left: {}rem", 0.5 + f32::from(d.depth) * 1.5)>
                {(!d.headings.is_empty()).then(|| view! { <small class="muted">{d.headings.join(" › ")}</small><br/> })}
                {d.text.clone()}
                {origin.map(|o| view! { <br/><small class="muted">{o}</small> })}
            </td>
            <td><span class=format!("badge deliverable-{}", d.status.as_str())>{d.status.as_str()}</span></td>
            <td>
                {(!d.note.is_empty()).then(|| view! { <p>{d.note.clone()}</p> })}
                {d.link.clone().map(|l| view! { <p><a href=l.clone() rel="noopener noreferrer nofollow">{l.clone()}</a></p> })}
                {d.report_html.clone().map(|html| view! { <details><summary>"Attached report"</summary><div class="doc-body" inner_html=html></div></details> })}
                <small class="muted">{format!("{} ", d.by)}<TimeAgo at=d.at now=now/></small>
                {(d.changes > 1).then(|| view! {
                    <details class="history">
                        <summary>{format!("History ({} changes)", d.changes)}</summary>
                        <ul>{d.history.iter().map(|h| view! {
                            <li>{format!("{} by {} ", h.status.as_str(), h.by)}<TimeAgo at=h.at now=now/>
                                {(!h.note.is_empty()).then(|| format!(": {}", h.note))}
                                {h.link.clone().map(|l| view! { " "<a href=l.clone() rel="noopener noreferrer nofollow">{l.clone()}</a> })}
                            </li>
                        }).collect_view()}</ul>
                    </details>
                }.into_any())}
                {can_edit.then(|| view! {
                    <details class="evidence-form" open=refused>
                        <summary>"Update status and evidence"</summary>
                        <form method="post" action=format!("/phases/{phase}/deliverables/{did}") class="stacked-form">
                            <CsrfField/>
                            <label>"Status"
                                <select name="status">
                                    <option value="done">"done"</option>
                                    <option value="open" selected=status == "open">"open"</option>
                                    <option value="waived" selected=status == "waived">"waived (needs a reason)"</option>
                                </select>
                            </label>
                            <label>"Evidence or reason"<input type="text" name="note" maxlength="2000" value=note/></label>
                            <label>"Link"<input type="url" name="link" placeholder="https://…" value=link/></label>
                            <label>"Attached report (Markdown, optional)"<textarea name="report" rows="4">{report}</textarea></label>
                            <button type="submit">"Save"</button>
                        </form>
                    </details>
                })}
                <CheckBinding d=d.clone() phase=phase can_edit=can_edit draft=draft.clone()/>
            </td>
        </tr>
    }
    .into_any()
}

/// The live check a deliverable is bound to, and (for editors) the form that binds or unbinds it.
#[component]
fn CheckBinding(
    d: DeliverableView,
    phase: i64,
    can_edit: bool,
    draft: Option<FormDraft>,
) -> impl IntoView {
    let form = format!("check-{}", d.id);
    let refused = draft.as_ref().is_some_and(|f| f.form == form);
    let kind = FormDraft::value(&draft, &form, "kind").unwrap_or_default();
    let parameter = FormDraft::value(&draft, &form, "parameter").unwrap_or_default();
    let action = format!("/phases/{phase}/deliverables/{}/check", d.id);
    let bound = d.check.clone().map(|(spec, described)| {
        view! {
            <p class="check-binding"><strong>"Checked by the portal: "</strong>{described}
                " "<code>{spec}</code></p>
        }
    });
    let options = CHECK_KINDS
        .iter()
        .map(|(k, help)| {
            view! { <option value=*k selected=kind == *k>{format!("{k}: {help}")}</option> }
        })
        .collect_view();
    view! {
        {bound}
        {can_edit.then(|| view! {
            <details class="evidence-form" open=refused>
                <summary>{if d.check.is_some() { "Change the check" } else { "Bind to a live check" }}</summary>
                <form method="post" action=action.clone() class="stacked-form">
                    <CsrfField/>
                    <label>"Check"<select name="kind">{options}</select></label>
                    <label>"Parameter"<input type="text" name="parameter" maxlength="500" value=parameter required=true/></label>
                    <button type="submit" name="intent" value="bind">"Bind"</button>
                </form>
                {d.check.is_some().then(|| view! {
                    <form method="post" action=action.clone()>
                        <CsrfField/>
                        <button type="submit" name="intent" value="unbind" class="secondary">"Unbind"</button>
                    </form>
                })}
            </details>
        })}
    }
}
