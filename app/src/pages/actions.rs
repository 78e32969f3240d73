//! `/actions`: the action plan, most grade points first, with a form per action for editors.

use leptos::prelude::*;
use time::{Date, OffsetDateTime};

use crate::components::forms::CsrfField;
use crate::components::widgets::TimeAgo;
use crate::model::FindingKind;
use crate::model::actions::{
    ActionFilter, ActionRefusal, ActionState, ActionView, ActionsPage, Effort,
};
use crate::model::service_query::url_encode;
use crate::render::CsrfToken;

fn points(hundredths: i64) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

pub use crate::CSRF_PLACEHOLDER;

/// The rows of one table, rendered on their own (no refusal shown), for the server to keep.
pub fn rows_html(
    actions: Vec<ActionView>,
    can_edit: bool,
    today: Date,
    now: OffsetDateTime,
) -> String {
    let owner = Owner::new();
    let html = owner.with(|| {
        provide_context(CsrfToken(CSRF_PLACEHOLDER.to_string()));
        actions
            .into_iter()
            .map(|a| view! { <ActionRow action=a can_edit=can_edit refusal=None today=today now=now/> })
            .collect_view()
            .to_html()
    });
    owner.cleanup();
    html
}

#[component]
pub fn ActionsPlanPage(data: ActionsPage) -> impl IntoView {
    let ActionsPage {
        open,
        accepted,
        done,
        grade_now,
        grade_if_all_fixed,
        can_edit,
        filter,
        refusal,
        today,
        now,
        rendered_rows,
        counts,
    } = data;
    let summary = format!(
        "{} open action(s), {} accepted risk(s). The grade is {}; with every open action done it would be {}.",
        counts[0],
        counts[1],
        points(grade_now),
        points(grade_if_all_fixed)
    );
    let rows = |actions: Vec<ActionView>| {
        actions
            .into_iter()
            .map(|a| {
                let refused = refusal
                    .as_ref()
                    .filter(|r| r.action_id == a.id)
                    .cloned();
                view! { <ActionRow action=a can_edit=can_edit refusal=refused today=today now=now/> }
            })
            .collect_view()
    };
    let kept = |i: usize| rendered_rows.as_ref().map(|r| r[i].clone());
    let table = |caption: &'static str, actions: Vec<ActionView>, kept: Option<String>| {
        let body = match kept {
            Some(html) => view! { <tbody inner_html=html></tbody> }.into_any(),
            None => view! { <tbody>{rows(actions)}</tbody> }.into_any(),
        };
        view! {
            <table class="action-plan">
                <caption class="visually-hidden">{caption}</caption>
                <thead><tr>
                    <th scope="col">"Points"</th>
                    <th scope="col">"Action"</th>
                    <th scope="col">"Effort"</th>
                    <th scope="col">"Owner"</th>
                    <th scope="col">"Due"</th>
                    <th scope="col">"State"</th>
                </tr></thead>
                {body}
            </table>
        }
    };
    let open_view = if counts[0] == 0 {
        view! { <p>"Nothing is open: no current service has a finding."</p> }.into_any()
    } else {
        table("Open actions", open, kept(0)).into_any()
    };
    let accepted_view = (counts[1] > 0).then(|| {
        view! {
            <section aria-labelledby="accepted-h">
                <h2 id="accepted-h">"Accepted risks"</h2>
                <p class="muted">"An accepted risk still counts against the grade; it is open again on its expiry date."</p>
                {table("Accepted risks", accepted, kept(1))}
            </section>
        }
    });
    let done_view = (counts[2] > 0).then(|| {
        view! {
            <section aria-labelledby="done-h">
                <h2 id="done-h">"Done in the last 30 days"</h2>
                {table("Done actions", done, kept(2))}
            </section>
        }
    });
    view! {
        <h1>"Action plan"</h1>
        <p class="lead summary-line">{summary}</p>
        <p class="muted">"Each open finding is an action: one per kind and service, or one across services where a single change fixes them all. An action is done when the portal no longer sees its findings, and reopens if they return. Points are what the grade gains when the action is done."</p>
        <p class="exports">
            <a href="/actions/ACTION_PLAN_TODO.md" download="ACTION_PLAN_TODO.md">"Download ACTION_PLAN_TODO.md"</a>
            " · "
            <a href="/actions.csv" download="actions.csv">"Download CSV"</a>
        </p>
        <FilterForm filter=filter/>
        <section aria-labelledby="open-h">
            <h2 id="open-h">"Open, most points first"</h2>
            {open_view}
        </section>
        {accepted_view}
        {done_view}
    }
}

/// Narrows the plan by owner, effort or finding kind: a GET form, so the URL can be shared.
#[component]
fn FilterForm(filter: ActionFilter) -> impl IntoView {
    let narrowed = !filter.is_empty();
    let kinds = FindingKind::ALL
        .into_iter()
        .map(|k| view! { <option value=k.slug() selected=filter.kind == Some(k)>{k.title()}</option> })
        .collect_view();
    view! {
        <form method="get" action="/actions" class="form-grid" aria-label="Filter the plan">
            <label>"Owner (or none)"<input name="owner" type="text" value=filter.owner.clone().unwrap_or_default()/></label>
            <label>"Effort"
                <select name="effort">
                    <option value="" selected=filter.effort.is_none()>"any"</option>
                    <option value="quick" selected=filter.effort == Some(Effort::Quick)>"quick win"</option>
                    <option value="longer" selected=filter.effort == Some(Effort::Longer)>"longer"</option>
                </select>
            </label>
            <label>"Finding"
                <select name="kind">
                    <option value="" selected=filter.kind.is_none()>"any"</option>
                    {kinds}
                </select>
            </label>
            <button type="submit">"Filter"</button>
            {narrowed.then(|| view! { <a href="/actions">"Show every action"</a> })}
        </form>
    }
}

#[component]
fn ActionRow(
    action: ActionView,
    can_edit: bool,
    refusal: Option<ActionRefusal>,
    today: Date,
    now: OffsetDateTime,
) -> impl IntoView {
    let a = action;
    let id = a.id;
    let title = a.title();
    let overdue = a.overdue(today);
    let services = a
        .services
        .iter()
        .map(|s| {
            let href = format!("/services/{}/{}", url_encode(&s.engine), url_encode(&s.key));
            let fact = (!s.fact.is_empty()).then(|| format!(": {}", s.fact));
            view! { <li><a href=href>{s.name.clone()}</a><small class="muted">{format!(" ({})", s.engine)}</small>{fact}</li> }
        })
        .collect_view();
    let points_cell = if a.state == ActionState::Done {
        "–".to_string()
    } else {
        format!("+{}", points(a.points))
    };
    let effort = if a.effort_overridden {
        format!("{} (set)", a.effort.label())
    } else {
        a.effort.label().to_string()
    };
    let state_text = match (a.state, a.risk_expires_on) {
        (ActionState::Accepted, Some(d)) => format!("accepted risk until {d}"),
        (s, _) => s.label().to_string(),
    };
    let last = a.last_change.clone().map(|c| {
        let text = if c.note.is_empty() {
            format!("{} by {}, ", c.state.label(), c.by)
        } else {
            format!("{} ({}), ", c.note, c.by)
        };
        view! { <small class="muted">{text}<TimeAgo at=c.at now=now/></small> }
    });
    let editable = can_edit && a.state != ActionState::Done;
    let error = refusal.map(|r| {
        view! { <p class="notice error-text" role="alert">{r.message}</p> }
    });
    let open_form = error.is_some();
    // A refusal is shown with the form it answers, or alone where there is no form (a done
    // action).
    let (form, error) = if editable {
        let form = view! {
            <details class="action-edit" open=open_form>
                <summary>{format!("Change #{id}")}</summary>
                {error}
                <ActionForm action=a.clone()/>
            </details>
        };
        (Some(form), None)
    } else {
        (None, error)
    };
    view! {
        <tr id=format!("action-{id}") class=if overdue { "overdue" } else { "" }>
            <td class="num">{points_cell}</td>
            <td>
                <strong>{title}</strong>
                {a.lifts_cap.clone().map(|cap| view! { <br/><small>{format!("Lifts the cap: {cap}")}</small> })}
                <ul class="plain">{services}</ul>
                {(!a.fix.is_empty()).then(|| view! { <p class="muted">{format!("Fix: {}", a.fix)}</p> })}
                {a.reason.clone().map(|r| view! { <p>{format!("Why accepted: {r}")}</p> })}
                {last}
                {error}
                {form}
            </td>
            <td>{effort}</td>
            <td>{a.owner.clone().unwrap_or_else(|| "–".into())}</td>
            <td>{match a.due_on {
                Some(d) if overdue => view! { <span class="error-text">{format!("{d} (overdue)")}</span> }.into_any(),
                Some(d) => d.to_string().into_any(),
                None => "–".into_any(),
            }}</td>
            <td>{state_text}</td>
        </tr>
    }
}

#[component]
fn ActionForm(action: ActionView) -> impl IntoView {
    let a = action;
    let field = |name: &str| format!("action-{}-{name}", a.id);
    let default_effort = format!("default ({})", Effort::default_for(a.kind).label());
    let chosen = a.effort_overridden.then_some(a.effort);
    let accepted = a.state == ActionState::Accepted;
    view! {
        <form method="post" action=format!("/actions/{}", a.id) class="stacked">
            <CsrfField/>
            <label for=field("owner")>"Owner"</label>
            <input id=field("owner") name="owner" type="text" maxlength="100" value=a.owner.clone().unwrap_or_default()/>
            <label for=field("due")>"Due date"</label>
            <input id=field("due") name="due_on" type="date" value=a.due_on.map(|d| d.to_string()).unwrap_or_default()/>
            <label for=field("effort")>"Effort"</label>
            <select id=field("effort") name="effort">
                <option value="default" selected=chosen.is_none()>{default_effort}</option>
                <option value="quick" selected=chosen == Some(Effort::Quick)>"quick win"</option>
                <option value="longer" selected=chosen == Some(Effort::Longer)>"longer"</option>
            </select>
            <label for=field("state")>"State"</label>
            <select id=field("state") name="state">
                <option value="open" selected=!accepted>"open"</option>
                <option value="accepted" selected=accepted>"accepted risk"</option>
            </select>
            <label for=field("reason")>"Reason (for an accepted risk)"</label>
            <input id=field("reason") name="reason" type="text" maxlength="2000" value=a.reason.clone().unwrap_or_default()/>
            <label for=field("expires")>"Accepted until (for an accepted risk)"</label>
            <input id=field("expires") name="risk_expires_on" type="date" value=a.risk_expires_on.map(|d| d.to_string()).unwrap_or_default()/>
            <label for=field("note")>"Note"</label>
            <input id=field("note") name="note" type="text" maxlength="2000"/>
            <button type="submit">"Save"</button>
        </form>
    }
}
