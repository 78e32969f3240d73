//! The HTTP surface: every feature's handlers (in the feature's folder) assembled into one router,
//! with the layers every request passes through; and the helpers handlers share (forms, CSV,
//! revalidation, assets, health).

mod assets;
pub(crate) mod csv;
mod dashboard;
pub(crate) mod form;
mod health;
pub mod revalidate;

// Each feature's handlers, by the short name the routes below use.
use crate::audited::page as audit;
use crate::auth::sign_in as auth;
use crate::auth::tokens_page as tokens;
use crate::docs::pages as docs;
use crate::edge::page as edge;
use crate::evidence::pages as evidence;
use crate::inventory::pages as services;
use crate::phases::pages as phases;

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{CachingSessionStore, Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let auth = &state.settings.auth;
    // A sign-off sent with a stale sign-in is answered with a redirect to the provider (through
    // /auth/login): form-action governs a form's redirects too, so it must allow the provider.
    let csp_form_targets = auth
        .oidc
        .as_ref()
        .map(|o| origin_of(&o.issuer))
        .unwrap_or_default();
    let idle = time::Duration::seconds(auth.session_idle.as_secs() as i64);
    let https = state.settings.public_url.starts_with("https://");
    // Page views read their session from memory; every write goes through to Postgres.
    let store =
        CachingSessionStore::new(state.sessions.clone(), PostgresStore::new(state.db.clone()));
    let sessions = SessionManagerLayer::new(store)
        // On https the `__Host-` prefix makes browsers refuse the cookie unless it is Secure, for
        // this exact host and path `/`: no sibling subdomain can plant or shadow it.
        .with_name(if https {
            "__Host-audit_session"
        } else {
            "audit_session"
        })
        .with_http_only(true)
        // Lax, not Strict: the provider's redirect back to /auth/callback is a cross-site navigation.
        .with_same_site(SameSite::Lax)
        .with_secure(https)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle));
    // The pages whose every byte comes from the data, the address and the viewer: kept whole per
    // generation of the read model (`readmodel::pages`). The phase page is not among them: it
    // refills a sign-off form from the session.
    let keep = from_fn_with_state(state.clone(), crate::readmodel::pages::keep_pages);
    let pages = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/assets/portal.css", get(assets::stylesheet))
        .route("/assets/{name}", get(assets::hashed))
        .route("/favicon.svg", get(assets::favicon))
        .route("/", get(dashboard::dashboard).layer(keep.clone()))
        .route("/services", get(services::list).layer(keep.clone()))
        .route("/services.csv", get(services::csv))
        .route("/services/refresh", post(services::refresh_now))
        .route(
            "/services/{engine}/{*service}",
            get(services::detail).layer(keep.clone()),
        )
        .route("/engines", get(services::engines).layer(keep.clone()))
        .route("/routes", get(edge::list).layer(keep.clone()))
        .route("/docs", get(docs::coverage).layer(keep.clone()))
        .route("/docs/claim", post(docs::claim))
        .route("/docs/release", post(docs::release))
        .route("/docs/verify", post(docs::verify))
        .route("/docs/rescan", post(docs::rescan))
        .route("/docs/{*service}", get(docs::doc))
        .route("/grades", get(crate::grade::overview).layer(keep.clone()))
        .route("/backups", get(evidence::backups).layer(keep.clone()))
        .route("/monitoring", get(evidence::monitoring).layer(keep.clone()))
        .route(
            "/grades/history",
            get(crate::grade::history).layer(keep.clone()),
        )
        .route("/grades/history.csv", get(crate::grade::history_csv))
        .route("/grades/assess", post(crate::grade::assess))
        .route("/grades/override", post(crate::grade::override_score))
        .route("/grades/rubric", post(crate::grade::change_rubric))
        .route(
            "/actions",
            get(crate::actions::list::list).layer(keep.clone()),
        )
        .route("/actions.csv", get(crate::actions::export::csv_file))
        .route(
            "/actions/ACTION_PLAN_TODO.md",
            get(crate::actions::export::markdown_file),
        )
        .route("/actions/{id}", post(crate::actions::update::update))
        .route(
            "/capacity",
            get(crate::capacity::page::show).layer(keep.clone()),
        )
        .route("/capacity/baselines", post(crate::capacity::baseline::save))
        .route(
            "/capacity/CAPACITY_REPORT.md",
            get(crate::capacity::export::report_file),
        )
        .route(
            "/capacity/RIGHT_SIZING.md",
            get(crate::capacity::export::rightsizing_file),
        )
        .route(
            "/dependencies",
            get(crate::capacity::dependencies::show).layer(keep.clone()),
        )
        .route(
            "/versions",
            get(crate::capacity::versions::show).layer(keep.clone()),
        )
        .route("/versions.csv", get(crate::capacity::versions::csv_file))
        .route("/phases", get(phases::list).layer(keep.clone()))
        .route("/phases/import", post(phases::import))
        .route("/phases/upload", post(phases::upload))
        .route("/phases/create", post(phases::create))
        .route("/phases/verify", get(phases::verify).layer(keep.clone()))
        .route("/phases/{id}", get(phases::show))
        .route("/phases/{id}/plan.md", get(phases::plan_markdown))
        .route("/phases/{id}/deliverables", post(phases::add_deliverable))
        .route(
            "/phases/{id}/deliverables/{deliverable}",
            post(phases::update_deliverable),
        )
        .route(
            "/phases/{id}/deliverables/{deliverable}/check",
            post(phases::bind_check),
        )
        .route("/phases/{id}/reports", post(phases::add_report))
        .route("/phases/{id}/signoff", post(phases::sign))
        .route("/phases/{id}/signoffs/{signoff}", get(phases::record))
        .route(
            "/phases/{id}/signoffs/{signoff}/record.md",
            get(phases::record_markdown),
        )
        .route(
            "/rollouts",
            get(crate::rollouts::list)
                .layer(keep.clone())
                .post(crate::rollouts::create),
        )
        .route(
            "/rollouts/{id}",
            get(crate::rollouts::show).layer(keep.clone()),
        )
        .route("/rollouts/{id}/scores", post(crate::rollouts::score))
        .route("/rollouts/{id}/weights", post(crate::rollouts::weights))
        .route(
            "/rollouts/{id}/candidates",
            post(crate::rollouts::add_candidate),
        )
        .route("/rollouts/{id}/decision", post(crate::rollouts::decide))
        .route(
            "/rollouts/{id}/items/{item}",
            post(crate::rollouts::update_item),
        )
        .route("/audit", get(audit::list).layer(keep.clone()))
        .route("/settings/tokens", get(tokens::list).post(tokens::create))
        .route("/settings/tokens/{id}/revoke", post(tokens::revoke))
        .route("/settings/notifications", get(crate::notify::page::show))
        .route(
            "/settings/notifications/rules",
            post(crate::notify::page::save_rules),
        )
        .route(
            "/settings/notifications/channels/{name}/mode",
            post(crate::notify::page::set_mode),
        )
        .route(
            "/settings/notifications/channels/{name}/test",
            post(crate::notify::page::send_test),
        )
        .route("/auth/login", get(auth::login))
        .route("/auth/callback", get(auth::callback))
        .route("/auth/demo", post(auth::demo))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/signed-out", get(auth::signed_out))
        .fallback(dashboard::not_found)
        // Inner to outer: the sign-in gate, then CSRF on every POST, then the session they read.
        .layer(from_fn_with_state(
            state.clone(),
            crate::auth::guard::require_sign_in,
        ))
        .layer(from_fn_with_state(state.clone(), crate::auth::csrf::verify))
        // The CSRF check above already bounds every body by who sends it; the extractors behind
        // it must not cut a plan short at axum's default of 2 MB.
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::auth::csrf::MAX_PLAN_BYTES,
        ))
        .layer(sessions.clone())
        // Router layers wrap each route inside the routing, where the matched template is known:
        // it names the route in the log line and in the request metrics, refusals included.
        .layer(axum::middleware::from_fn(crate::metrics::track_route));
    // Machines use /api/v1 with a bearer token: no session, no cookie, so no CSRF token either.
    // The API reads a signed-in person's session as well as a token. Each router gets the
    // session layer inside `track_route`: tower-sessions runs its inner service in a span of its
    // own, where the request span's `route` field could not be recorded.
    let machines = crate::api::router()
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::api::MAX_HEARTBEAT_BYTES,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn(crate::metrics::track_route));
    pages
        .merge(machines)
        // Outermost of the stateful layers: a request for a foreign name touches no session.
        .layer(from_fn_with_state(state.clone(), crate::auth::host::verify))
        // A write is counted once answered, so the page its redirect leads to includes it.
        .layer(from_fn_with_state(
            state.clone(),
            crate::readmodel::version::note_writes,
        ))
        .with_state(state)
        // HTML pages are tagged and revalidated (private: never kept by a shared cache), and
        // everything is compressed when the client accepts it; the pages' CSRF tokens are
        // masked per response, so compression reveals nothing of them.
        .layer(axum::middleware::from_fn(revalidate::revalidate))
        // Level 4 for both: brotli's own default is 11, its slowest, which costs hundreds of
        // milliseconds per view of a large page (gzip 4 and brotli 4 compress about as well as
        // their defaults, in a fraction of the time).
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(4)))
        // Everything else shows who is signed in and what they may do: never kept by a browser
        // or a proxy. The stylesheet and icon set their own caching.
        .layer(SetResponseHeaderLayer::if_not_present(
            axum::http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("content-security-policy"),
            content_security_policy(&csp_form_targets),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        // One INFO line per answered request: method, path, matched route (filled in by
        // `track_route`), status, latency and request id, in text and in JSON alike.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        path = %req.uri().path(),
                        route = tracing::field::Empty,
                        id = %id,
                    )
                })
                .on_request(())
                .on_response(
                    |res: &axum::http::Response<_>, latency: Duration, _: &tracing::Span| {
                        tracing::info!(
                            status = res.status().as_u16(),
                            latency_ms = latency.as_secs_f64() * 1000.0,
                            "answered"
                        );
                    },
                ),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Pages need no script at all; styles come from our own stylesheet.
fn content_security_policy(extra_form_targets: &str) -> HeaderValue {
    let policy = format!(
        "default-src 'self'; script-src 'none'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self' {extra_form_targets}"
    );
    HeaderValue::from_str(policy.trim())
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; script-src 'none'"))
}

/// `https://auth.example.org/some/path` → `https://auth.example.org`.
fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            format!("{scheme}://{}", rest.split('/').next().unwrap_or_default())
        }
        None => String::new(),
    }
}

/// Refuses a POST that a browser sent from another site: the `Origin` header, when present, must
/// be the portal's own, and `Sec-Fetch-Site` must not say cross-site.
pub fn require_same_origin(
    headers: &axum::http::HeaderMap,
    public_url: &str,
) -> crate::error::AppResult<()> {
    let forged = || {
        crate::error::AppError::Forbidden(
            "This form was sent from another site and was refused.".into(),
        )
    };
    if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| forged())?;
        // A browser cannot forge Host, so an Origin naming the host it was sent to is same-origin
        // too (the demo is reached as localhost or 127.0.0.1 alike).
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let same_host = origin
            .split_once("://")
            .is_some_and(|(_, rest)| !host.is_empty() && rest == host);
        if origin != public_url && !same_host {
            return Err(forged());
        }
    }
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return Err(forged());
    }
    Ok(())
}
