//! `/backups`: backup jobs, the services each covers, their runs as reported by heartbeats, and
//! what is late, failing or never restore-tested.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::format;
use crate::components::widgets::TimeAgo;
use crate::model::evidence::{BackupJobView, BackupsPage, RunView, ServiceRef};
use crate::model::service_query::url_encode;

fn service_link(s: &ServiceRef) -> impl IntoView + use<> {
    let href = format!("/services/{}/{}", url_encode(&s.engine), url_encode(&s.key));
    view! { <a href=href>{s.name.clone()}</a><small class="muted">" ("{s.engine.clone()}")"</small> }
}

fn duration(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{:.1} h", s as f64 / 3600.0),
    }
}

#[component]
pub fn BackupsListPage(data: BackupsPage, now: OffsetDateTime) -> impl IntoView {
    let BackupsPage {
        jobs,
        uncovered,
        rto_minutes,
        data_services,
        protected_services,
    } = data;
    let none = jobs.is_empty();
    let jobs_view = jobs
        .into_iter()
        .map(|j| view! { <JobSection job=j now=now rto_minutes=rto_minutes/> })
        .collect_view();
    let uncovered_view = (!uncovered.is_empty()).then(|| {
        let items = uncovered
            .iter()
            .map(|s| view! { <li>{service_link(s)}</li> })
            .collect_view();
        view! {
            <section aria-labelledby="uncovered-h">
                <h2 id="uncovered-h">"Services holding data with no backup job"</h2>
                <ul class="reasons">{items}</ul>
            </section>
        }
    });
    view! {
        <h1>"Backups"</h1>
        <p class="lead summary-line">{if none {
            "No backup job is declared: Backup/DR is assessed by an admin until one is.".to_string()
        } else {
            format!("{protected_services} of {data_services} services holding data are protected: every job on time, passing and restore-tested within the {rto_minutes} min recovery time objective.")
        }}</p>
        <p class="muted">"Jobs are declared with "<code>"[[backups]]"</code>" in the configuration or the label "<code>"audit.backup=<job>"</code>"; each run is reported to "<code>"POST /api/v1/heartbeats"</code>" with a token of scope heartbeat."</p>
        {uncovered_view}
        {jobs_view}
    }
}

#[component]
fn JobSection(job: BackupJobView, now: OffsetDateTime, rto_minutes: i64) -> impl IntoView {
    let healthy = job.problems.is_empty();
    let covers = job
        .covers
        .iter()
        .map(|s| view! { <li>{service_link(s)}</li> })
        .collect_view();
    let problems = job
        .problems
        .iter()
        .map(|p| view! { <li>{p.clone()}</li> })
        .collect_view();
    let runs = job
        .runs
        .iter()
        .map(|r| view! { <RunRow run=r.clone() now=now/> })
        .collect_view();
    let restore = job.last_ok_restore.clone().map(|r| {
        let over = r.duration_s() > rto_minutes * 60;
        view! {
            <span class=if over { "error-text" } else { "" }>
                {format!("took {} against an RTO of {rto_minutes} min", duration(r.duration_s()))}
            </span>", "<TimeAgo at=r.finished_at now=now/>
        }
    });
    view! {
        <section class="backup-job" id=format!("job-{}", job.job) aria-label=format!("Job {}", job.job)>
            <h2>{job.job.clone()}" "<span class=if healthy { "badge status-up" } else { "badge status-down" }>{if healthy { "on time" } else { "needs attention" }}</span></h2>
            <dl class="facts">
                <dt>"Declared in"</dt><dd>{job.declared_in.clone()}</dd>
                <dt>"Schedule"</dt><dd>{format!("a backup every {} h, a restore test every {} days", job.every_hours, job.restore_every_days)}</dd>
                <dt>"Last good backup"</dt><dd>{match job.last_ok_backup.clone() {
                    Some(r) => view! { <TimeAgo at=r.finished_at now=now/>{r.bytes.map(|b| format!(", {}", format::bytes(b)))} }.into_any(),
                    None => view! { <span class="error-text">"never"</span> }.into_any(),
                }}</dd>
                <dt>"Last good restore test"</dt><dd>{match restore {
                    Some(v) => v.into_any(),
                    None => view! { <span class="error-text">"never"</span> }.into_any(),
                }}</dd>
                <dt>"Covers"</dt><dd><ul class="plain">{covers}</ul></dd>
            </dl>
            {(!healthy).then(|| view! { <ul class="reasons">{problems}</ul> })}
            <table class="runs">
                <caption>"Latest runs"</caption>
                <thead><tr><th scope="col">"Finished"</th><th scope="col">"Kind"</th><th scope="col">"Result"</th><th scope="col">"Took"</th><th scope="col">"Size"</th><th scope="col">"Reported by"</th><th scope="col">"Detail"</th></tr></thead>
                <tbody>{runs}</tbody>
            </table>
        </section>
    }
}

#[component]
fn RunRow(run: RunView, now: OffsetDateTime) -> impl IntoView {
    view! {
        <tr>
            <td><TimeAgo at=run.finished_at now=now/></td>
            <td>{run.kind.clone()}</td>
            <td><span class=if run.ok { "badge status-up" } else { "badge status-down" }>{if run.ok { "ok" } else { "failed" }}</span></td>
            <td class="num">{duration(run.duration_s())}</td>
            <td class="num">{run.bytes.map(format::bytes).unwrap_or_else(|| "–".into())}</td>
            <td>{run.reported_by.clone()}</td>
            <td>{run.detail.clone().unwrap_or_default()}</td>
        </tr>
    }
}
