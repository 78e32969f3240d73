//! `/settings/tokens`: API tokens for machines; admins create (the secret is shown once), list
//! and revoke them.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::forms::CsrfField;
use crate::components::widgets::TimeAgo;
use crate::model::evidence::TokenRow;

#[derive(Clone, Debug)]
pub struct TokensView {
    pub tokens: Vec<TokenRow>,
    /// The secret of the token just created, shown this once.
    pub created: Option<(String, String)>,
    pub error: Option<String>,
    pub now: OffsetDateTime,
}

#[component]
pub fn TokensPage(data: TokensView) -> impl IntoView {
    let TokensView {
        tokens,
        created,
        error,
        now,
    } = data;
    let rows = tokens
        .into_iter()
        .map(|t| {
            let revoked = t.revoked_at.is_some();
            let expired = t.expires_at.is_some_and(|e| e <= now);
            let state = if revoked {
                "revoked"
            } else if expired {
                "expired"
            } else {
                "active"
            };
            view! {
                <tr data-token=t.name.clone()>
                    <th scope="row">{t.name.clone()}<br/><code class="muted">{t.prefix.clone()}"…"</code></th>
                    <td>{t.scopes.join(", ")}</td>
                    <td>{state}{t.revoked_by.clone().map(|b| format!(" by {b}"))}</td>
                    <td>{t.created_by.clone()}", "<TimeAgo at=t.created_at now=now/></td>
                    <td>{match t.last_used_at {
                        Some(at) => view! { <TimeAgo at=at now=now/> }.into_any(),
                        None => view! { <span class="muted">"never"</span> }.into_any(),
                    }}</td>
                    <td>{t.expires_at.map(|e| e.date().to_string()).unwrap_or_else(|| "never".into())}</td>
                    <td>{(!revoked).then(|| view! {
                        <form method="post" action=format!("/settings/tokens/{}/revoke", t.id) class="inline">
                            <CsrfField/>
                            <button type="submit" class="secondary">"Revoke "{t.name.clone()}</button>
                        </form>
                    })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h1>"API tokens"</h1>
        <p class="lead">"Tokens let machines use the portal's API: backup scripts report runs with the "<code>"heartbeat"</code>" scope; Prometheus and dashboards read with "<code>"read"</code>". A token never opens a page or a form, and only its hash is kept."</p>
        {created.map(|(name, secret)| view! {
            <div class="notice" role="status">
                <p>"Token "<strong>{name}</strong>" created. Copy its secret now: it is not kept and will not be shown again."</p>
                <p><code id="new-token">{secret}</code></p>
            </div>
        })}
        {error.map(|e| view! { <p class="notice warn" role="alert">{e}</p> })}
        <section aria-labelledby="new-token-h">
            <h2 id="new-token-h">"New token"</h2>
            <form method="post" action="/settings/tokens" class="stack">
                <CsrfField/>
                <label>"Name"<input name="name" required maxlength="60" placeholder="nightly-backup"/></label>
                <fieldset><legend>"Scopes"</legend>
                    <label><input type="checkbox" name="scope_heartbeat" value="on"/>" heartbeat: report backup and restore runs"</label>
                    <label><input type="checkbox" name="scope_read" value="on"/>" read: read the JSON API"</label>
                </fieldset>
                <label>"Expires after (days, empty for never)"<input name="expires_days" type="number" min="1" max="3650"/></label>
                <button type="submit">"Create token"</button>
            </form>
        </section>
        <div class="table-wrap">
            <table>
                <caption>"Tokens"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Scopes"</th><th scope="col">"State"</th>
                    <th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"Expires"</th><th scope="col"></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
