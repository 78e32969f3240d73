//! The capacity report and the right-sizing list as Markdown files, for the plans and reviews
//! that ask for them.

use std::fmt::Write;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use app::components::format::{bytes, iso};
use app::model::capacity::{EngineCapacity, RightSizing};

use super::page;
use crate::actions::export::inline;
use crate::error::AppResult;
use crate::state::AppState;

fn percent(share: Option<f64>) -> String {
    share.map_or("unknown".into(), |s| format!("{:.1}%", s * 100.0))
}

pub fn rightsizing_markdown(rows: &[RightSizing], headroom: f64, now: OffsetDateTime) -> String {
    let mut out = format!(
        "# Right-sizing\n\nFrom the 7-day memory peak of each running service with a limit; the \
         recommended limit is the peak × {headroom}, rounded up. Generated {}.\n\n",
        iso(now)
    );
    if rows.is_empty() {
        out.push_str("No limit needs changing.\n");
        return out;
    }
    out.push_str("| Engine | Service | Limit | 7-day peak | Samples | Recommended | Frees |\n|---|---|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            inline(&r.engine),
            inline(&r.name),
            bytes(r.limit),
            bytes(r.peak_7d),
            r.samples,
            bytes(r.recommended),
            if r.frees >= 0 {
                bytes(r.frees)
            } else {
                format!("takes {}", bytes(-r.frees))
            }
        );
    }
    let freed: i64 = rows.iter().map(|r| r.frees.max(0)).sum();
    let _ = writeln!(
        out,
        "\nLowering the oversized limits frees {} in all.",
        bytes(freed)
    );
    out
}

pub fn report_markdown(
    engines: &[EngineCapacity],
    rows: &[RightSizing],
    headroom: f64,
    now: OffsetDateTime,
) -> String {
    let mut out = format!("# Capacity report\n\nGenerated {}.\n", iso(now));
    for e in engines {
        let _ = write!(
            out,
            "\n## {}\n\n- Host: {} CPUs, {} memory, kernel {}, {}, storage driver {}, Docker {}\n\
             - Running containers: {} ({} without a memory limit, using {})\n\
             - Memory used by containers: {} ({} of the host)\n\
             - Sum of memory limits: {} ({} of the host)\n\
             - Upgrade trigger: memory used above {:.0}% of the host: {}\n",
            inline(&e.name),
            e.cpus.map_or("unknown".into(), |c| c.to_string()),
            e.memory_bytes.map_or("unknown".into(), bytes),
            inline(e.kernel_version.as_deref().unwrap_or("unknown")),
            inline(e.operating_system.as_deref().unwrap_or("unknown OS")),
            inline(e.storage_driver.as_deref().unwrap_or("unknown")),
            inline(e.docker_version.as_deref().unwrap_or("unknown")),
            e.running,
            e.unlimited,
            bytes(e.unlimited_used),
            bytes(e.memory_used),
            percent(e.used_share()),
            bytes(e.limits_sum),
            percent(e.limits_share()),
            e.trigger_percent,
            match (e.trigger_reached(), e.headroom_to_trigger()) {
                (true, _) => "**reached**: plan the upgrade".to_string(),
                (false, Some(left)) => format!("not reached ({} left before it)", bytes(left)),
                (false, None) => "unknown (the host's memory is not known)".to_string(),
            }
        );
    }
    out.push('\n');
    out.push_str(&rightsizing_markdown(rows, headroom, now).replacen(
        "# Right-sizing",
        "## Right-sizing",
        1,
    ));
    out
}

fn markdown_file(name: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/markdown; charset=utf-8"),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response()
}

pub async fn report_file(State(state): State<AppState>) -> AppResult<Response> {
    let (engines, rows) = tokio::try_join!(
        page::engines(&state.db, &state.settings),
        page::rightsizing(&state.db, &state.settings),
    )?;
    let body = report_markdown(
        &engines,
        &rows,
        state.settings.capacity.headroom,
        OffsetDateTime::now_utc(),
    );
    Ok(markdown_file(
        "attachment; filename=\"CAPACITY_REPORT.md\"",
        body,
    ))
}

pub async fn rightsizing_file(State(state): State<AppState>) -> AppResult<Response> {
    let rows = page::rightsizing(&state.db, &state.settings).await?;
    let body = rightsizing_markdown(
        &rows,
        state.settings.capacity.headroom,
        OffsetDateTime::now_utc(),
    );
    Ok(markdown_file(
        "attachment; filename=\"RIGHT_SIZING.md\"",
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn names_from_containers_cannot_change_the_markdown() {
        let row = RightSizing {
            engine: "master".into(),
            key: "k".into(),
            name: "evil | [x](http://a) <b>".into(),
            limit: 2048 * 1024 * 1024,
            peak_7d: 100 * 1024 * 1024,
            samples: 2016,
            recommended: 160 * 1024 * 1024,
            frees: 1888 * 1024 * 1024,
        };
        let md = rightsizing_markdown(&[row], 1.5, datetime!(2026-12-02 12:00 UTC));
        assert!(md.contains("evil \\| \\[x\\](http://a) \\<b\\>"), "{md}");
        assert!(
            md.contains("| 2.0 GiB | 100.0 MiB | 2016 | 160.0 MiB | 1.8 GiB |"),
            "{md}"
        );
        assert!(md.contains("frees 1.8 GiB in all"));
    }
}
