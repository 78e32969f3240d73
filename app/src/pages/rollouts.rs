//! `/rollouts`: every rollout with its decision and readiness; admins start a new rollout from
//! an existing one as a template.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::format;
use crate::components::forms::CsrfField;
use crate::components::widgets::TimeAgo;
use crate::model::rollouts::RolloutSummary;

#[derive(Clone, Debug)]
pub struct RolloutsView {
    pub rollouts: Vec<RolloutSummary>,
    pub can_admin: bool,
    pub error: Option<String>,
    pub now: OffsetDateTime,
}

/// "Ready for business use", or how far from it.
#[component]
pub fn Readiness(r: RolloutSummary) -> impl IntoView {
    let share = format::percent(r.readiness());
    if r.ready() {
        view! { <span class="badge rollout-ready">"ready for business use"</span> }.into_any()
    } else {
        view! {
            <span class="badge rollout-not-ready">{format!("{share} verified ({} of {}): not ready", r.verified, r.items)}</span>
        }
        .into_any()
    }
}

#[component]
pub fn RolloutsPage(data: RolloutsView) -> impl IntoView {
    let RolloutsView {
        rollouts,
        can_admin,
        error,
        now,
    } = data;
    let templates = rollouts.clone();
    let rows = rollouts
        .into_iter()
        .map(|r| {
            view! {
                <tr>
                    <th scope="row"><a href=format!("/rollouts/{}", r.id)>{r.name.clone()}</a><br/><small class="muted">{r.host.clone()}</small></th>
                    <td>{r.chosen.clone().unwrap_or_else(|| "not decided".into())}</td>
                    <td><Readiness r=r.clone()/></td>
                    <td>{match r.checked_at {
                        Some(at) => view! { <TimeAgo at=at now=now/> }.into_any(),
                        None => view! { <span class="muted">"not yet"</span> }.into_any(),
                    }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h1>"Rollouts"</h1>
        <p class="lead">"A system being introduced: the evaluation, the decision, and a checklist whose items the inventory proves where it can."</p>
        {error.map(|e| view! { <p class="notice error-text" role="alert">{e}</p> })}
        <div class="table-wrap">
            <table>
                <caption class="visually-hidden">"Rollouts"</caption>
                <thead><tr><th scope="col">"Rollout"</th><th scope="col">"Chosen"</th><th scope="col">"Readiness"</th><th scope="col">"Last automatic check"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {can_admin.then(|| view! {
            <section aria-labelledby="template-h">
                <h2 id="template-h">"Start a rollout from a template"</h2>
                <p class="muted">"Copies the template's criteria, weights and checklist; scores, the decision and history start empty."</p>
                <form method="post" action="/rollouts" class="form-grid">
                    <CsrfField/>
                    <label>"Template"
                        <select name="template">
                            {templates.into_iter().map(|t| view! { <option value=t.id.to_string()>{t.name}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"Name"<input type="text" name="name" required=true maxlength="200"/></label>
                    <label>"Short name (a-z, 0-9, -)"<input type="text" name="slug" required=true pattern="[a-z0-9-]+"/></label>
                    <label>"Host its router must serve"<input type="text" name="host" required=true placeholder="crm.quietly.online"/></label>
                    <label>"Allow-list middleware (file provider), optional"<input type="text" name="allowlist_middleware" placeholder="vpn-only@file"/></label>
                    <label>"Candidates (Name=match, comma separated)"<input type="text" name="candidates" placeholder="Twenty=twenty, EspoCRM=espocrm"/></label>
                    <label>"Goal"<input type="text" name="goal" maxlength="2000"/></label>
                    <button type="submit">"Create rollout"</button>
                </form>
            </section>
        })}
    }
}
