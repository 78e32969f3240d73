//! A phase's reports, its sign-off history and the sign-off form, below its deliverables.

use crate::components::forms::CsrfField;
use crate::components::widgets::TimeAgo;
use crate::model::drafts::FormDraft;
use crate::model::phases::{DeliverableView, ReportView, SignoffDraft, SignoffView};
use leptos::prelude::*;
use time::OffsetDateTime;

#[component]
pub(crate) fn Reports(
    reports: Vec<ReportView>,
    phase: i64,
    deliverables: Vec<DeliverableView>,
    can_edit: bool,
    draft: Option<FormDraft>,
    now: OffsetDateTime,
) -> impl IntoView {
    let sent = |form: &str, name: &str| FormDraft::value(&draft, form, name).unwrap_or_default();
    let open = |form: &str| draft.as_ref().is_some_and(|d| d.form == form);
    let shown = reports
        .into_iter()
        .map(|r| {
            let title = if r.kind == "completion" { "Completion report" } else { "Verification report" };
            let claims = r
                .claims
                .iter()
                .map(|c| view! { <li><span class=format!("badge claim-{}", c.verdict)>{c.verdict.clone()}</span>" "{c.text.clone()}</li> })
                .collect_view();
            view! {
                <article class=if r.superseded { "report superseded" } else { "report" }>
                    <h3>{title}{r.superseded.then_some(" (superseded)")}</h3>
                    <p class="muted">{format!("by {} ", r.author)}<TimeAgo at=r.at now=now/></p>
                    <div class="doc-body" inner_html=r.html.clone()></div>
                    {(!r.claims.is_empty()).then(|| view! { <h4>"Claims checked"</h4><ul class="claims">{claims}</ul> })}
                </article>
            }
        })
        .collect_view();
    let verdicts = deliverables
        .into_iter()
        .map(|d| {
            view! {
                <label>{d.text.clone()}
                    <select name=format!("verdict_{}", d.id)>
                        <option value="">"not checked"</option>
                        <option value="confirmed" selected=sent("report-verification", &format!("verdict_{}", d.id)) == "confirmed">"confirmed"</option>
                        <option value="disputed" selected=sent("report-verification", &format!("verdict_{}", d.id)) == "disputed">"disputed"</option>
                    </select>
                </label>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="reports-h">
            <h2 id="reports-h">"Reports"</h2>
            {shown}
            {can_edit.then(|| view! {
                <details class="evidence-form" open=open("report-completion")>
                    <summary>"Write the completion report"</summary>
                    <form method="post" action=format!("/phases/{phase}/reports") class="stacked-form">
                        <CsrfField/>
                        <input type="hidden" name="kind" value="completion"/>
                        <label>"Completion report (Markdown)"<textarea name="body" rows="8" required=true>{sent("report-completion", "body")}</textarea></label>
                        <button type="submit">"Save completion report"</button>
                    </form>
                </details>
                <details class="evidence-form" open=open("report-verification")>
                    <summary>"Write the verification report"</summary>
                    <form method="post" action=format!("/phases/{phase}/reports") class="stacked-form">
                        <CsrfField/>
                        <input type="hidden" name="kind" value="verification"/>
                        <p class="muted">"An independent check: the author of the completion report cannot verify it."</p>
                        <label>"Verification report (Markdown)"<textarea name="body" rows="8" required=true>{sent("report-verification", "body")}</textarea></label>
                        <fieldset class="verdicts"><legend>"Which claims did you confirm or dispute?"</legend>{verdicts}</fieldset>
                        <button type="submit">"Save verification report"</button>
                    </form>
                </details>
            })}
        </section>
    }
}

#[component]
pub(crate) fn SignoffHistory(signoffs: Vec<SignoffView>, now: OffsetDateTime) -> impl IntoView {
    let empty = signoffs.is_empty();
    let rows = signoffs
        .into_iter()
        .map(|s| {
            view! {
                <tr class=if s.superseded { "superseded" } else { "" }>
                    <td class="num">{format!("#{}", s.seq)}</td>
                    <td><span class=format!("badge decision-{}", s.decision)>{s.decision.clone()}</span>{s.superseded.then_some(" (superseded)")}</td>
                    <td>{s.signer.clone()}" "<TimeAgo at=s.signed_at now=now/></td>
                    <td class="num">{format!("{} {}", s.grade_total, s.grade_letter)}</td>
                    <td>{s.comment.clone()}</td>
                    <td><a href=format!("/phases/{}/signoffs/{}", s.phase_id, s.id)>"acceptance record"</a></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="signoffs-h">
            <h2 id="signoffs-h">"Sign-off history"</h2>
            <div class="table-wrap">
                <table>
                    <caption class="visually-hidden">"Sign-offs"</caption>
                    <thead><tr><th scope="col" class="num">"Record"</th><th scope="col">"Decision"</th><th scope="col">"Signed by"</th><th scope="col" class="num">"Grade then"</th><th scope="col">"Comment"</th><th scope="col">"Record"</th></tr></thead>
                    <tbody>
                        {rows}
                        {empty.then(|| view! { <tr><td colspan="6" class="empty">"Not signed off yet."</td></tr> })}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
pub(crate) fn SignoffForm(
    phase: i64,
    open: Vec<DeliverableView>,
    draft: SignoffDraft,
    reauth_minutes: u64,
    below_target: Option<String>,
) -> impl IntoView {
    let blocked = (!open.is_empty()).then(|| {
        view! {
            <div class="notice warn">
                <strong>{format!("Approval is blocked by {} open deliverable(s):", open.len())}</strong>
                <ul>{open.iter().map(|d| view! { <li>{d.text.clone()}</li> }).collect_view()}</ul>
                "Mark them done or waive them with a reason, or sign off as conditional or rejected."
            </div>
        }
    });
    let checked = |value: &str| draft.decision == value;
    view! {
        <section aria-labelledby="signoff-h" id="sign-off">
            <h2 id="signoff-h">"Sign off this phase"</h2>
            <p class="muted">{format!("The decision is recorded with the grade and an evidence snapshot, chained to every earlier sign-off, and never edited. It needs a sign-in less than {reauth_minutes} minute(s) old: otherwise you are asked to sign in again, and what you wrote here is kept.")}</p>
            {blocked}
            {below_target.map(|w| view! { <p class="notice warn" role="status">{w}</p> })}
            <form method="post" action=format!("/phases/{phase}/signoff") class="stacked-form">
                <CsrfField/>
                <fieldset><legend>"Decision"</legend>
                    <label><input type="radio" name="decision" value="approved" checked=checked("approved")/>" Approved: proceed"</label>
                    <label><input type="radio" name="decision" value="conditional" checked=checked("conditional")/>" Conditional: minor remediation needed"</label>
                    <label><input type="radio" name="decision" value="rejected" checked=checked("rejected")/>" Rejected: the phase requires rework"</label>
                </fieldset>
                <label>"Comment"<textarea name="comment" rows="3" maxlength="4000">{draft.comment.clone()}</textarea></label>
                <label>"Remediation items (conditional; one per line: item | owner | YYYY-MM-DD)"<textarea name="remediation" rows="3">{draft.remediation.clone()}</textarea></label>
                <label>"Reasons (rejected)"<textarea name="reasons" rows="3" maxlength="4000">{draft.reasons.clone()}</textarea></label>
                <button type="submit">"Sign"</button>
            </form>
        </section>
    }
}
