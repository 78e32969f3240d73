//! Traefik's own view of routing, read from its API (`/api/http/routers` and friends), and the
//! routes it gives each container.
//!
//! The JSON shapes follow Traefik v3's `pkg/api` handlers: a router is `runtime.RouterInfo`
//! (`dynamic.Router` plus `status`, `error`, `using`) with `name` and `provider`; middlewares,
//! services and entrypoints are represented the same way. Lists are paginated (`per_page`,
//! `page`, and the `X-Next-Page` response header).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use app::model::TraefikRoute;

use crate::config::{ApiAuth, TraefikApi};
use crate::inspection::traefik::{hosts_in_rule, path_in_rule, same_middleware};

/// Bytes accepted from one API page: a few thousand routers fit many times over.
const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;
const PER_PAGE: usize = 200;
const MAX_PAGES: usize = 100;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiRouter {
    pub name: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub entry_points: Vec<String>,
    #[serde(default)]
    pub middlewares: Vec<String>,
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub tls: Option<serde_json::Value>,
    #[serde(default)]
    pub status: String,
    /// The entrypoints the router is actually on (Traefik resolves defaults into this).
    #[serde(default)]
    pub using: Vec<String>,
    #[serde(default, rename = "error")]
    pub errors: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ApiChain {
    #[serde(default)]
    pub middlewares: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ApiMiddleware {
    pub name: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub chain: Option<ApiChain>,
    #[serde(default)]
    pub status: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ApiServer {
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ApiLoadBalancer {
    #[serde(default)]
    pub servers: Vec<ApiServer>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiService {
    pub name: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub load_balancer: Option<ApiLoadBalancer>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ApiEntrypointHttp {
    #[serde(default)]
    pub middlewares: Vec<String>,
    #[serde(default)]
    pub tls: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ApiEntrypoint {
    pub name: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub http: Option<ApiEntrypointHttp>,
}

/// Everything read from Traefik's API at one refresh.
#[derive(Clone, Debug, Default)]
pub struct TraefikView {
    pub routers: Vec<ApiRouter>,
    pub middlewares: Vec<ApiMiddleware>,
    pub services: Vec<ApiService>,
    pub entrypoints: Vec<ApiEntrypoint>,
}

/// Who a container is, for attaching routers to it.
pub struct ContainerRef<'a> {
    pub labels: &'a BTreeMap<String, String>,
    pub compose_service: Option<&'a str>,
    pub container_name: &'a str,
}

/// Reads the four lists. Any failure (unreachable, refused, not JSON) is an error for the
/// caller to record: routes then come from labels, as without the API.
pub async fn read(api: &TraefikApi, timeout: Duration) -> anyhow::Result<TraefikView> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .context("building the Traefik API client")?;
    Ok(TraefikView {
        routers: read_list(&client, api, "/api/http/routers").await?,
        middlewares: read_list(&client, api, "/api/http/middlewares").await?,
        services: read_list(&client, api, "/api/http/services").await?,
        entrypoints: read_list(&client, api, "/api/entrypoints").await?,
    })
}

async fn read_list<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    api: &TraefikApi,
    path: &str,
) -> anyhow::Result<Vec<T>> {
    let mut out = vec![];
    let mut page = 1;
    for _ in 0..MAX_PAGES {
        let url = format!("{}{path}?per_page={PER_PAGE}&page={page}", api.url);
        let mut request = client.get(&url);
        request = match &api.auth {
            Some(ApiAuth::Basic { user, password }) => {
                request.basic_auth(user, Some(password.expose()))
            }
            Some(ApiAuth::Bearer(token)) => request.bearer_auth(token.expose()),
            None => request,
        };
        let mut response = request
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = response.status();
        if !status.is_success() {
            bail!("GET {path} answered {status}");
        }
        let next: Option<usize> = response
            .headers()
            .get("X-Next-Page")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .with_context(|| format!("GET {path}"))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_PAGE_BYTES {
                bail!("GET {path}: the answer exceeds {MAX_PAGE_BYTES} bytes");
            }
        }
        let items: Vec<T> = serde_json::from_slice(&body)
            .with_context(|| format!("GET {path}: not the list Traefik's API returns"))?;
        out.extend(items);
        match next {
            Some(n) if n > page => page = n,
            _ => return Ok(out),
        }
    }
    bail!("GET {path}: more than {MAX_PAGES} pages")
}

fn base(name: &str) -> &str {
    name.split('@').next().unwrap_or(name)
}

fn qualified(name: &str, provider: &str) -> String {
    if name.contains('@') || provider.is_empty() {
        name.to_string()
    } else {
        format!("{name}@{provider}")
    }
}

impl TraefikView {
    fn entrypoint(&self, name: &str) -> Option<&ApiEntrypoint> {
        self.entrypoints.iter().find(|e| e.name == name)
    }

    fn middleware(&self, name: &str) -> Option<&ApiMiddleware> {
        self.middlewares
            .iter()
            .find(|m| m.name == name)
            .or_else(|| {
                self.middlewares
                    .iter()
                    .find(|m| same_middleware(&m.name, name))
            })
    }

    /// Whether a middleware authenticates: named as one, a forward-auth, or a chain holding one.
    fn is_auth(&self, name: &str, auth: &[String], depth: usize) -> bool {
        if auth.iter().any(|a| same_middleware(name, a)) {
            return true;
        }
        let Some(m) = self.middleware(name) else {
            return false;
        };
        if m.kind.eq_ignore_ascii_case("forwardauth") {
            return true;
        }
        depth < 4
            && m.chain.as_ref().is_some_and(|chain| {
                chain
                    .middlewares
                    .iter()
                    .any(|inner| self.is_auth(&qualified(inner, &m.provider), auth, depth + 1))
            })
    }

    /// The router as users meet it: its entrypoints' TLS and middlewares included.
    pub fn route(&self, r: &ApiRouter, auth: &[String]) -> TraefikRoute {
        let on = if r.using.is_empty() {
            r.entry_points.clone()
        } else {
            r.using.clone()
        };
        let entrypoints: Vec<&ApiEntrypoint> =
            on.iter().filter_map(|n| self.entrypoint(n)).collect();
        let mut middlewares: Vec<String> = entrypoints
            .iter()
            .filter_map(|e| e.http.as_ref())
            .flat_map(|h| h.middlewares.iter().cloned())
            .collect();
        middlewares.dedup();
        middlewares.extend(r.middlewares.iter().map(|m| qualified(m, &r.provider)));
        let entrypoint_tls = !entrypoints.is_empty()
            && entrypoints
                .iter()
                .all(|e| e.http.as_ref().is_some_and(|h| h.tls.is_some()));
        let authenticated = middlewares.iter().any(|m| self.is_auth(m, auth, 0));
        TraefikRoute {
            router: r.name.clone(),
            rule: r.rule.clone(),
            hosts: hosts_in_rule(&r.rule),
            path: path_in_rule(&r.rule),
            middlewares,
            entrypoints: on,
            tls: r.tls.is_some() || entrypoint_tls,
            authenticated,
            source: "traefik".into(),
            status: Some(r.status.clone()).filter(|s| !s.is_empty()),
            errors: r.errors.clone(),
        }
    }

    /// Whether a router reaches this container: a docker-provider router declared in its labels,
    /// or any router whose Traefik service is declared in its labels or load-balances to it by
    /// name (a file-provider service with `url = "http://grafana:3000"`).
    pub fn reaches(&self, r: &ApiRouter, c: &ContainerRef) -> bool {
        let declares = |kind: &str, name: &str| {
            let prefix = format!("traefik.http.{kind}.{name}.");
            c.labels.keys().any(|k| k.starts_with(&prefix))
        };
        if r.provider == "docker" && declares("routers", base(&r.name)) {
            return true;
        }
        let service = qualified(&r.service, &r.provider);
        if service.ends_with("@docker") {
            let name = base(&service);
            return declares("services", name)
                || c.labels.iter().any(|(k, v)| {
                    k.starts_with("traefik.http.routers.") && k.ends_with(".service") && v == name
                });
        }
        let Some(svc) = self.services.iter().find(|s| s.name == service) else {
            return false;
        };
        svc.load_balancer
            .iter()
            .flat_map(|lb| &lb.servers)
            .filter_map(|s| s.url.as_deref())
            .filter_map(|u| reqwest::Url::parse(u).ok())
            .filter_map(|u| u.host_str().map(str::to_ascii_lowercase))
            .any(|host| {
                host == c.container_name.to_ascii_lowercase()
                    || c.compose_service
                        .is_some_and(|s| s.eq_ignore_ascii_case(&host))
            })
    }

    /// Routers users can reach by a host name; Traefik's own (`@internal`) are left out.
    pub fn public_routers(&self) -> impl Iterator<Item = &ApiRouter> {
        self.routers
            .iter()
            .filter(|r| r.provider != "internal" && !hosts_in_rule(&r.rule).is_empty())
    }

    /// Every route that reaches this container.
    pub fn routes_for(&self, c: &ContainerRef, auth: &[String]) -> Vec<TraefikRoute> {
        self.public_routers()
            .filter(|r| self.reaches(r, c))
            .map(|r| self.route(r, auth))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: serde::de::DeserializeOwned>(s: &str) -> T {
        serde_json::from_str(s).expect("fixture JSON")
    }

    fn view() -> TraefikView {
        TraefikView {
            routers: json(
                r#"[
                {"entryPoints":["websecure"],"service":"grafana","rule":"Host(`grafana.x`)",
                 "status":"enabled","using":["websecure"],"name":"grafana@docker","provider":"docker"},
                {"entryPoints":["websecure"],"service":"nas","rule":"Host(`nas.x`)","tls":{},
                 "middlewares":["protected"],"status":"enabled","using":["websecure"],
                 "name":"nas@file","provider":"file"},
                {"entryPoints":["web"],"service":"gone","rule":"Host(`old.x`)","status":"disabled",
                 "error":["the service \"gone@file\" does not exist"],"using":["web"],
                 "name":"old@file","provider":"file"},
                {"entryPoints":["traefik"],"service":"api@internal","rule":"PathPrefix(`/api`)",
                 "status":"enabled","name":"api@internal","provider":"internal"}]"#,
            ),
            middlewares: json(
                r#"[{"forwardAuth":{"address":"http://authelia:9091/api/authz/forward-auth"},
                 "status":"enabled","name":"sso@file","provider":"file","type":"forwardauth"},
                {"chain":{"middlewares":["sso"]},"status":"enabled","name":"protected@file",
                 "provider":"file","type":"chain"}]"#,
            ),
            services: json(
                r#"[{"loadBalancer":{"servers":[{"url":"http://nas:5000"}]},"status":"enabled",
                 "name":"nas@file","provider":"file","type":"loadbalancer"}]"#,
            ),
            entrypoints: json(
                r#"[{"address":":443","http":{"middlewares":["sso@file"],"tls":{"certResolver":"le"}},
                 "name":"websecure"},{"address":":80","http":{},"name":"web"}]"#,
            ),
        }
    }

    #[test]
    fn entrypoint_tls_and_forward_auth_make_a_docker_router_safe() {
        let v = view();
        let labels: BTreeMap<String, String> = [(
            "traefik.http.routers.grafana.rule".to_string(),
            "Host(`grafana.x`)".to_string(),
        )]
        .into_iter()
        .collect();
        let c = ContainerRef {
            labels: &labels,
            compose_service: Some("grafana"),
            container_name: "mon-grafana-1",
        };
        let routes = v.routes_for(&c, &[]);
        assert_eq!(routes.len(), 1);
        assert!(routes[0].tls && routes[0].authenticated, "{routes:?}");
        assert_eq!(routes[0].middlewares, ["sso@file"]);
    }

    #[test]
    fn file_routers_attach_by_their_service_and_chains_are_followed() {
        let v = view();
        let labels = BTreeMap::new();
        let nas = ContainerRef {
            labels: &labels,
            compose_service: Some("nas"),
            container_name: "storage-nas-1",
        };
        let routes = v.routes_for(&nas, &[]);
        assert_eq!(routes.len(), 1);
        assert_eq!(routes[0].router, "nas@file");
        assert!(routes[0].authenticated && routes[0].tls);
        let other = ContainerRef {
            labels: &labels,
            compose_service: Some("web"),
            container_name: "web",
        };
        assert!(v.routes_for(&other, &[]).is_empty());
        let old = v.route(&v.routers[2], &[]);
        assert_eq!(old.status.as_deref(), Some("disabled"));
        assert!(!old.tls && !old.errors.is_empty());
        assert_eq!(
            v.public_routers().count(),
            3,
            "internal routers are left out"
        );
    }
}
