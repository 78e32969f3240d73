//! The action plan as files the team keeps: `ACTION_PLAN_TODO.md`, a Markdown checklist to commit
//! beside the plans, and `actions.csv` for a spreadsheet.

use std::fmt::Write;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use app::model::actions::ActionView;

use super::plan::{self, Plan};
use crate::error::AppResult;
use crate::routes::csv::field;
use crate::state::AppState;

fn points(hundredths: i64) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// Text from containers and people, inline in Markdown: nothing in it may start a link, an
/// emphasis, a heading, HTML or a new line of the list.
pub(crate) fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn services(a: &ActionView) -> String {
    a.services
        .iter()
        .map(|s| format!("{}/{}", s.engine, s.key))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn markdown(plan: &Plan, now: OffsetDateTime) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Action plan\n");
    let _ = writeln!(
        out,
        "Written by Audit Portal on {} at {:02}:{:02} UTC from the open findings. The grade is {}; with every open action done it would be {}.\n",
        now.date(),
        now.hour(),
        now.minute(),
        points(plan.grade_now),
        points(plan.grade_if_all_fixed)
    );
    let _ = writeln!(
        out,
        "## Open ({}), most grade points first\n",
        plan.open.len()
    );
    if plan.open.is_empty() {
        let _ = writeln!(out, "Nothing is open.\n");
    }
    for a in &plan.open {
        let mut meta = vec![
            format!("+{} points", points(a.points)),
            a.effort.label().to_string(),
        ];
        if let Some(s) = a.severity {
            meta.push(format!("{} severity", s.as_str()));
        }
        if let Some(o) = &a.owner {
            meta.push(format!("owner {}", inline(o)));
        }
        if let Some(d) = a.due_on {
            meta.push(format!("due {d}"));
        }
        if let Some(cap) = &a.lifts_cap {
            meta.push(format!("lifts the cap: {}", inline(cap)));
        }
        let _ = writeln!(
            out,
            "- [ ] **{}** ({}): {}",
            inline(&a.title()),
            inline(&services(a)),
            meta.join(", ")
        );
        for s in &a.services {
            let _ = writeln!(out, "  - {}: {}", inline(&s.name), inline(&s.fact));
        }
        let _ = writeln!(out, "  - Fix: {}", inline(&a.fix));
    }
    if !plan.accepted.is_empty() {
        let _ = writeln!(
            out,
            "\n## Accepted risks ({}), still counted in the grade\n",
            plan.accepted.len()
        );
        for a in &plan.accepted {
            let _ = writeln!(
                out,
                "- [ ] **{}** ({}): accepted until {}: {}",
                inline(&a.title()),
                inline(&services(a)),
                a.risk_expires_on.map(|d| d.to_string()).unwrap_or_default(),
                inline(a.reason.as_deref().unwrap_or_default())
            );
        }
    }
    if !plan.done.is_empty() {
        let _ = writeln!(out, "\n## Done in the last 30 days ({})\n", plan.done.len());
        for a in &plan.done {
            let _ = writeln!(
                out,
                "- [x] **{}** ({}): {}",
                inline(&a.title()),
                inline(&services(a)),
                inline(
                    a.last_change
                        .as_ref()
                        .map(|c| c.note.as_str())
                        .unwrap_or_default()
                )
            );
        }
    }
    out
}

pub fn csv(plan: &Plan) -> String {
    let mut out = String::from(
        "id,state,kind,title,severity,services,points,effort,owner,due_on,risk_expires_on,reason,opened_at,closed_at,fix\n",
    );
    for a in plan.open.iter().chain(&plan.accepted).chain(&plan.done) {
        let cells = [
            a.id.to_string(),
            a.state.as_str().to_string(),
            a.kind.slug().to_string(),
            a.title(),
            a.severity
                .map(|s| s.as_str())
                .unwrap_or_default()
                .to_string(),
            services(a),
            points(a.points),
            a.effort.as_str().to_string(),
            a.owner.clone().unwrap_or_default(),
            a.due_on.map(|d| d.to_string()).unwrap_or_default(),
            a.risk_expires_on.map(|d| d.to_string()).unwrap_or_default(),
            a.reason.clone().unwrap_or_default(),
            a.opened_at.to_string(),
            a.closed_at.map(|d| d.to_string()).unwrap_or_default(),
            a.fix.clone(),
        ];
        let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
        let _ = writeln!(out, "{}", line.join(","));
    }
    out
}

fn attachment(content_type: &'static str, disposition: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

pub async fn markdown_file(State(state): State<AppState>) -> AppResult<Response> {
    let now = OffsetDateTime::now_utc();
    let plan = plan::load(&state.db, &state.settings, now).await?;
    Ok(attachment(
        "text/markdown; charset=utf-8",
        "attachment; filename=\"ACTION_PLAN_TODO.md\"",
        markdown(&plan, now),
    ))
}

pub async fn csv_file(State(state): State<AppState>) -> AppResult<Response> {
    let now = OffsetDateTime::now_utc();
    let plan = plan::load(&state.db, &state.settings, now).await?;
    Ok(attachment(
        "text/csv; charset=utf-8",
        "attachment; filename=\"actions.csv\"",
        csv(&plan),
    ))
}

#[cfg(test)]
mod tests {
    use super::inline;

    #[test]
    fn text_from_containers_cannot_change_the_markdown() {
        assert_eq!(inline("web [x](http://evil)"), "web \\[x\\](http://evil)");
        assert_eq!(inline("a\n# heading"), "a \\# heading");
        assert_eq!(inline("<script>"), "\\<script\\>");
        assert_eq!(inline("plain text, 5%"), "plain text, 5%");
    }
}
