//! A sign-off as people read it: the view of a stored record, and the acceptance record as
//! Markdown for filing in the team's repository.

use std::fmt::Write;

use app::model::phases::{EvidenceSnapshot, RemediationItem, SignoffView};

use super::chain::SignoffRecord;
use crate::phases::queries::{from_micros, points};

/// `later` holds the ids of the records that are superseded by a later one.
pub fn view_of(
    r: SignoffRecord,
    title: &str,
    superseded: bool,
    supersedes_seq: Option<i64>,
) -> SignoffView {
    let remediation: Vec<RemediationItem> =
        serde_json::from_str(&r.remediation).unwrap_or_default();
    let evidence: EvidenceSnapshot = serde_json::from_str(&r.evidence).unwrap_or_default();
    SignoffView {
        id: r.id,
        seq: r.seq,
        phase_id: r.phase_id,
        phase_number: r.phase_number,
        phase_title: title.to_string(),
        decision: r.decision,
        comment: r.comment,
        reasons: r.reasons,
        remediation,
        grade_total: points(r.grade_total),
        grade_letter: r.grade_letter,
        signer: r.signer_name,
        signed_at: from_micros(r.signed_at_micros),
        supersedes_seq,
        superseded,
        hash: r.hash,
        prev_hash: r.prev_hash,
        evidence,
    }
}

/// Text for a Markdown table cell: no pipes or line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

pub fn markdown(s: &SignoffView) -> String {
    let e = &s.evidence;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Acceptance record: {} · {}\n",
        s.phase_number,
        cell(&s.phase_title)
    );
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| Decision | **{}** |", s.decision);
    let _ = writeln!(out, "| Signed by | {} |", cell(&s.signer));
    let _ = writeln!(
        out,
        "| Signed at | {} |",
        app::components::format::iso(s.signed_at)
    );
    let _ = writeln!(
        out,
        "| Grade at signing | {} ({}), rubric version {} |",
        s.grade_total, s.grade_letter, e.rubric_version
    );
    let _ = writeln!(
        out,
        "| Grade: claimed, target, measured | {} |",
        e.claimed_target_measured()
    );
    let _ = writeln!(out, "| Chain record | #{} |", s.seq);
    if let Some(seq) = s.supersedes_seq {
        let _ = writeln!(out, "| Supersedes | #{seq} |");
    }
    let _ = writeln!(out, "| SHA-256 | `{}` |", s.hash);
    let _ = writeln!(out, "| Previous SHA-256 | `{}` |\n", s.prev_hash);
    if !s.comment.is_empty() {
        let _ = writeln!(out, "## Comment\n\n{}\n", s.comment);
    }
    if !s.reasons.is_empty() {
        let _ = writeln!(out, "## Reasons\n\n{}\n", s.reasons);
    }
    if !s.remediation.is_empty() {
        let _ = writeln!(
            out,
            "## Remediation required\n\n| Item | Owner | Due |\n|---|---|---|"
        );
        for r in &s.remediation {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                cell(&r.text),
                cell(&r.owner),
                r.due_on
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## What the signer was looking at\n");
    let _ = writeln!(
        out,
        "- Deliverables: {} done, {} waived",
        e.deliverables_done, e.deliverables_waived
    );
    let _ = writeln!(
        out,
        "- Services: {} known, {} running, {} findings",
        e.services, e.running, e.findings
    );
    let _ = writeln!(
        out,
        "- Documentation: {} documented, {} passing the template, {} fresh\n",
        e.docs_documented, e.docs_passing, e.docs_fresh
    );
    let _ = writeln!(
        out,
        "| Engine | Service | Image | Image id | Findings |\n|---|---|---|---|---|"
    );
    for x in &e.per_service {
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | `{}` | {} |",
            cell(&x.engine),
            cell(&x.key),
            cell(&x.image),
            cell(&x.image_id),
            x.findings
        );
    }
    let _ = writeln!(
        out,
        "\nCheck this record against the portal: /phases/verify recomputes every hash."
    );
    out
}
