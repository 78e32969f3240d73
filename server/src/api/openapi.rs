//! The OpenAPI 3.1 description of `/api/v1`, generated from the handlers' annotations and the
//! wire types, so the document cannot drift from what the handlers serve.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{coverage, edge, grade, inventory, paging, phases, rollouts, summary, wire};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Audit Portal API",
        description = "The live inventory, its findings, routes, documentation coverage, the \
            production-readiness grade with its evidence, phases with their sign-offs, and \
            rollouts. Read with a token holding the `read` scope (Settings → API tokens) or a \
            signed-in session."
    ),
    paths(
        summary::summary,
        inventory::services,
        inventory::findings,
        edge::routes,
        coverage::coverage,
        grade::grade,
        phases::phases,
        phases::signoffs,
        rollouts::rollouts,
        rollouts::rollout_detail,
    ),
    components(schemas(
        wire::Problem,
        paging::ServicePage,
        paging::FindingPage,
        paging::RoutePage,
    )),
    modifiers(&Security),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        // The browser's session cookie; its name has the `__Host-` prefix on https.
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("__Host-audit_session"))),
        );
    }
}

/// `GET /api/v1/openapi.json`: public like any API description; it holds no data.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_read_route_is_described_with_its_security() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        for path in [
            "/api/v1/summary",
            "/api/v1/services",
            "/api/v1/findings",
            "/api/v1/routes",
            "/api/v1/coverage",
            "/api/v1/grade",
            "/api/v1/phases",
            "/api/v1/signoffs",
            "/api/v1/rollouts",
            "/api/v1/rollouts/{id}",
        ] {
            let get = &doc["paths"][path]["get"];
            assert!(get.is_object(), "{path} is missing from the document");
            assert!(
                get["responses"]["200"]["content"]["application/json"]["schema"].is_object(),
                "{path} has no 200 schema"
            );
            assert_eq!(get["security"][0]["token"], serde_json::json!([]), "{path}");
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["token"]["scheme"],
            "bearer"
        );
        if std::env::var_os("PRINT_OPENAPI").is_some() {
            println!("{doc:#}");
        }
    }
}
