//! The printable acceptance record of one sign-off, and `/phases/verify`, the chain check.

use leptos::prelude::*;

use crate::components::format;
use crate::model::phases::{ChainStatus, SignoffView};

#[component]
pub fn AcceptanceRecordPage(s: SignoffView) -> impl IntoView {
    let e = s.evidence.clone();
    let remediation = s
        .remediation
        .iter()
        .map(|r| view! { <tr><td>{r.text.clone()}</td><td>{r.owner.clone()}</td><td>{r.due_on.to_string()}</td></tr> })
        .collect_view();
    let services = e
        .per_service
        .iter()
        .map(|x| view! { <tr><td>{x.engine.clone()}</td><td>{x.key.clone()}</td><td><code>{x.image.clone()}</code></td><td><code>{x.image_id.clone()}</code></td><td class="num">{x.findings}</td></tr> })
        .collect_view();
    view! {
        <p class="breadcrumb no-print"><a href="/phases">"Phases"</a>" › "<a href=format!("/phases/{}", s.phase_id)>{s.phase_number.clone()}</a></p>
        <h1>{format!("Acceptance record: {} · {}", s.phase_number, s.phase_title)}</h1>
        <p class="no-print"><a class="button secondary" href=format!("/phases/{}/signoffs/{}/record.md", s.phase_id, s.id)>"Download as Markdown"</a></p>
        {s.superseded.then(|| view! { <p class="notice warn">"A later sign-off of this phase supersedes this record."</p> })}
        <dl class="facts">
            <dt>"Decision"</dt><dd><strong>{s.decision.clone()}</strong></dd>
            <dt>"Signed by"</dt><dd>{s.signer.clone()}</dd>
            <dt>"Signed at"</dt><dd>{format::iso(s.signed_at)}</dd>
            <dt>"Grade at signing"</dt><dd>{format!("{} ({}), rubric version {}", s.grade_total, s.grade_letter, e.rubric_version)}
                {e.capped_by.clone().map(|c| view! { <br/><small>{format!("capped: {c}")}</small> })}</dd>
            <dt>"Grade: claimed, target, measured"</dt><dd>{e.claimed_target_measured()}</dd>
            <dt>"Chain record"</dt><dd>{format!("#{}", s.seq)}{s.supersedes_seq.map(|n| format!(", supersedes #{n}"))}</dd>
            <dt>"SHA-256"</dt><dd><code class="hash">{s.hash.clone()}</code></dd>
            <dt>"Previous record's SHA-256"</dt><dd><code class="hash">{s.prev_hash.clone()}</code></dd>
        </dl>
        {(!s.comment.is_empty()).then(|| view! { <h2>"Comment"</h2><p class="pre-wrap">{s.comment.clone()}</p> })}
        {(!s.reasons.is_empty()).then(|| view! { <h2>"Reasons"</h2><p class="pre-wrap">{s.reasons.clone()}</p> })}
        {(!s.remediation.is_empty()).then(|| view! {
            <h2>"Remediation required"</h2>
            <div class="table-wrap"><table>
                <caption class="visually-hidden">"Remediation items"</caption>
                <thead><tr><th scope="col">"Item"</th><th scope="col">"Owner"</th><th scope="col">"Due"</th></tr></thead>
                <tbody>{remediation}</tbody>
            </table></div>
        })}
        <h2>"What the signer was looking at"</h2>
        <ul>
            <li>{format!("Deliverables: {} done, {} waived", e.deliverables_done, e.deliverables_waived)}</li>
            <li>{format!("Services: {} known, {} running, {} findings", e.services, e.running, e.findings)}</li>
            <li>{format!("Documentation: {} of {} services documented, {} passing the template, {} fresh", e.docs_documented, e.services, e.docs_passing, e.docs_fresh)}</li>
        </ul>
        <div class="table-wrap">
            <table>
                <caption>"Services at signing"</caption>
                <thead><tr><th scope="col">"Engine"</th><th scope="col">"Service"</th><th scope="col">"Image"</th><th scope="col">"Image id"</th><th scope="col" class="num">"Findings"</th></tr></thead>
                <tbody>{services}</tbody>
            </table>
        </div>
    }
}

#[component]
pub fn ChainPage(status: ChainStatus) -> impl IntoView {
    let body = match status {
        ChainStatus::Intact { records } => view! {
            <p class="notice ok-text" role="status"><strong>"Intact. "</strong>{format!("All {records} sign-off record(s) match their hashes and link to the record before them.")}</p>
        }
        .into_any(),
        ChainStatus::Broken { seq, phase_number, signed_at, reason } => {
            let which = match (phase_number, signed_at) {
                (Some(p), Some(at)) => format!(" ({p}, signed {})", format::iso(at)),
                (Some(p), None) => format!(" ({p})"),
                _ => String::new(),
            };
            view! {
                <p class="notice error-text" role="alert"><strong>"Broken. "</strong>{format!("Record #{seq}{which}: {reason}.")}</p>
                <p>"Every record from this one on can no longer be trusted as written by the portal. Compare with the acceptance records filed in the repository."</p>
            }
            .into_any()
        }
    };
    view! {
        <p class="breadcrumb"><a href="/phases">"Phases"</a></p>
        <h1>"Sign-off chain"</h1>
        <p class="lead">"Each sign-off stores the SHA-256 of its content and of the record before it. This page recomputes every hash now."</p>
        {body}
    }
}
