//! `/settings/notifications`: which conditions are sent, how each channel gets them, a test
//! button per channel, and the latest deliveries with their attempts.

use leptos::prelude::*;

use crate::components::forms::CsrfField;
use crate::components::widgets::TimeAgo;
use crate::model::notify::{Mode, NotificationsView, Rule};

#[component]
pub fn NotificationsPage(data: NotificationsView) -> impl IntoView {
    let NotificationsView {
        rules,
        channels,
        deliveries,
        digest_hour_utc,
        notice,
        error,
        now,
    } = data;
    let days = rules
        .iter()
        .find(|r| r.rule == Rule::FindingOpen)
        .map(|r| r.days)
        .unwrap_or(Rule::DEFAULT_DAYS);
    let rule_rows = rules
        .into_iter()
        .map(|r| {
            let name = format!("rule_{}", r.rule.slug());
            view! {
                <label>
                    <input type="checkbox" name=name value="on" checked=r.enabled/>
                    " "{r.rule.describe()}
                </label>
            }
        })
        .collect_view();
    let no_channels = channels.is_empty();
    let channel_rows = channels
        .into_iter()
        .map(|c| {
            let mode_action = format!("/settings/notifications/channels/{}/mode", c.name);
            let test_action = format!("/settings/notifications/channels/{}/test", c.name);
            let digest = c.mode == Mode::Digest;
            view! {
                <tr data-channel=c.name.clone()>
                    <th scope="row">{c.name.clone()}</th>
                    <td>{c.kind.clone()}</td>
                    <td><code>{c.shown_url.clone()}</code></td>
                    <td>{if c.has_secret { "configured (not shown)" } else { "none" }}</td>
                    <td>
                        <form method="post" action=mode_action class="inline">
                            <CsrfField/>
                            <select name="mode" aria-label=format!("Mode of {}", c.name)>
                                <option value="immediate" selected=!digest>"each as it starts"</option>
                                <option value="digest" selected=digest>"daily digest"</option>
                            </select>
                            " "<button type="submit" class="secondary">"Save"</button>
                        </form>
                    </td>
                    <td>
                        <form method="post" action=test_action class="inline">
                            <CsrfField/>
                            <button type="submit">"Send a test to "{c.name.clone()}</button>
                        </form>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let delivery_rows = deliveries
        .into_iter()
        .map(|d| {
            let when = d.finished_at.unwrap_or(d.created_at);
            let retry = (d.state == "pending" && d.attempts > 0).then(|| {
                view! { <span class="muted">" (next try "<TimeAgo at=d.next_attempt_at now=now/>")"</span> }
            });
            view! {
                <tr data-delivery=d.id>
                    <td>{d.channel.clone()}</td>
                    <td>{d.kind.clone()}</td>
                    <td>{d.title.clone()}</td>
                    <td class=format!("delivery-{}", d.state)>{d.state.clone()}{retry}</td>
                    <td>{d.attempts}</td>
                    <td>{d.last_error.clone().unwrap_or_default()}</td>
                    <td><TimeAgo at=when now=now/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h1>"Notifications"</h1>
        <p class="lead">"The portal tells you when something needs you: each condition once, when it starts, to every channel below. Channels and their secrets are set in the configuration ("<code>"[[notify.channels]]"</code>" or "<code>"AUDIT_NOTIFY_*"</code>"); this page chooses what is sent."</p>
        {notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
        {error.map(|e| view! { <p class="notice warn" role="alert">{e}</p> })}
        <section aria-labelledby="channels-h">
            <h2 id="channels-h">"Channels"</h2>
            {no_channels.then(|| view! {
                <p class="muted">"No channel is configured, so nothing is sent. Declare an ntfy topic, a Gotify application or a webhook in the configuration."</p>
            })}
            <div class="table-wrap">
                <table>
                    <caption>{format!("Daily digests are sent at {digest_hour_utc:02}:00 UTC.")}</caption>
                    <thead><tr>
                        <th scope="col">"Channel"</th><th scope="col">"Kind"</th><th scope="col">"Server"</th>
                        <th scope="col">"Secret"</th><th scope="col">"Mode"</th><th scope="col"></th>
                    </tr></thead>
                    <tbody>{channel_rows}</tbody>
                </table>
            </div>
        </section>
        <section aria-labelledby="rules-h">
            <h2 id="rules-h">"What is sent"</h2>
            <form method="post" action="/settings/notifications/rules" class="stack">
                <CsrfField/>
                <fieldset><legend>"Conditions"</legend>{rule_rows}</fieldset>
                <label>"Days before an open finding is reported"<input name="days_finding_open" type="number" min="1" max="365" value=days/></label>
                <button type="submit">"Save rules"</button>
            </form>
        </section>
        <div class="table-wrap">
            <table>
                <caption>"Latest deliveries"</caption>
                <thead><tr>
                    <th scope="col">"Channel"</th><th scope="col">"Kind"</th><th scope="col">"Message"</th>
                    <th scope="col">"State"</th><th scope="col">"Attempts"</th><th scope="col">"Last error"</th><th scope="col">"When"</th>
                </tr></thead>
                <tbody>{delivery_rows}</tbody>
            </table>
        </div>
    }
}
