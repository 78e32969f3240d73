//! Traefik HTTP routers declared in a container's labels, and whether each is authenticated
//! and served over TLS.

use std::collections::BTreeMap;

use app::model::TraefikRoute;

use crate::config::EntrypointDefaults;

const ROUTERS: &str = "traefik.http.routers.";
const MIDDLEWARES: &str = "traefik.http.middlewares.";

/// Reads every `traefik.http.routers.<name>.*` group. `auth_middlewares` are the names that mean
/// "behind Authelia"; a `chain` middleware defined in the same labels is followed one level.
/// TLS and middlewares set on the router's entrypoints (`entrypoints`) count as the router's own.
pub fn routes(
    labels: &BTreeMap<String, String>,
    auth_middlewares: &[String],
    entrypoints: &EntrypointDefaults,
) -> Vec<TraefikRoute> {
    if labels
        .get("traefik.enable")
        .is_some_and(|v| v.eq_ignore_ascii_case("false"))
    {
        return vec![];
    }
    let mut by_router: BTreeMap<&str, TraefikRoute> = BTreeMap::new();
    for (key, value) in labels {
        let Some(rest) = key.strip_prefix(ROUTERS) else {
            continue;
        };
        let Some((router, field)) = rest.split_once('.') else {
            continue;
        };
        let route = by_router.entry(router).or_insert_with(|| TraefikRoute {
            router: router.to_string(),
            source: "labels".into(),
            ..Default::default()
        });
        match field {
            "rule" => {
                route.rule = value.clone();
                route.hosts = hosts_in_rule(value);
                route.path = path_in_rule(value);
            }
            "middlewares" => route.middlewares = split_list(value),
            "entrypoints" => route.entrypoints = split_list(value),
            "tls" => route.tls |= value.eq_ignore_ascii_case("true"),
            f if f.starts_with("tls.") => route.tls = true,
            _ => {}
        }
    }
    // `audit.auth=oidc`: the service signs people in itself (e.g. this portal, through Authelia's
    // OpenID Connect), so its routers are authenticated without the forward-auth middleware.
    let app_sso = labels
        .get("audit.auth")
        .is_some_and(|v| v.eq_ignore_ascii_case("oidc"));
    by_router
        .into_values()
        .map(|mut route| {
            with_entrypoint_defaults(&mut route, entrypoints);
            route.authenticated = app_sso
                || route
                    .middlewares
                    .iter()
                    .any(|m| is_auth(m, labels, auth_middlewares));
            route
        })
        .collect()
}

/// A router without entrypoints is taken to be on the TLS entrypoints (the usual setup, where
/// `web` only redirects to `websecure`); its entrypoints' middlewares run before its own.
fn with_entrypoint_defaults(route: &mut TraefikRoute, defaults: &EntrypointDefaults) {
    let on: Vec<String> = if !route.entrypoints.is_empty() {
        route.entrypoints.clone()
    } else if !defaults.tls.is_empty() {
        defaults.tls.clone()
    } else {
        defaults.middlewares.keys().cloned().collect()
    };
    if !on.is_empty() && on.iter().all(|e| defaults.tls.contains(e)) {
        route.tls = true;
    }
    let mut effective: Vec<String> = on
        .iter()
        .filter_map(|e| defaults.middlewares.get(e))
        .flatten()
        .cloned()
        .collect();
    effective.dedup();
    effective.append(&mut route.middlewares);
    route.middlewares = effective;
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// The hosts named in `Host(...)` matchers: backquoted, quoted, or several in one call.
pub fn hosts_in_rule(rule: &str) -> Vec<String> {
    let mut hosts = vec![];
    let mut rest = rule;
    while let Some(start) = rest.find("Host(") {
        let after = &rest[start + 5..];
        let end = after.find(')').unwrap_or(after.len());
        for part in after[..end].split(',') {
            let host = part
                .trim()
                .trim_matches(|c| c == '`' || c == '"' || c == '\'')
                .to_ascii_lowercase();
            if !host.is_empty() {
                hosts.push(host);
            }
        }
        rest = &after[end..];
    }
    hosts
}

/// The path of the first `PathPrefix(...)` or `Path(...)` matcher, or "" when there is none.
pub fn path_in_rule(rule: &str) -> String {
    ["PathPrefix(", "Path("]
        .iter()
        .filter_map(|m| {
            let at = rule.find(m)?;
            let after = &rule[at + m.len()..];
            let end = after.find(')')?;
            let path = after[..end]
                .split(',')
                .next()?
                .trim()
                .trim_matches(|c| c == '`' || c == '"' || c == '\'');
            path.starts_with('/').then(|| (at, path.to_string()))
        })
        .min_by_key(|(at, _)| *at)
        .map(|(_, p)| p)
        .unwrap_or_default()
}

/// Names match exactly, or by base name when one side omits the provider (`authelia` ~ `authelia@docker`).
pub fn same_middleware(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let base = |s: &str| s.split('@').next().unwrap_or(s).to_string();
    (!a.contains('@') || !b.contains('@')) && base(a) == base(b)
}

/// The IP allow-list middlewares these labels define (`…middlewares.<name>.ipallowlist.*`, or
/// `ipwhitelist` before Traefik 3), by name.
pub fn allowlist_middlewares(labels: &BTreeMap<String, String>) -> Vec<String> {
    let mut names: Vec<String> = labels
        .keys()
        .filter_map(|key| key.strip_prefix(MIDDLEWARES))
        .filter_map(|rest| rest.split_once('.'))
        .filter(|(_, field)| {
            let field = field.to_ascii_lowercase();
            field.starts_with("ipallowlist.") || field.starts_with("ipwhitelist.")
        })
        .map(|(name, _)| name.to_string())
        .collect();
    names.dedup();
    names
}

fn is_auth(middleware: &str, labels: &BTreeMap<String, String>, auth: &[String]) -> bool {
    if auth.iter().any(|a| same_middleware(middleware, a)) {
        return true;
    }
    // A chain defined on this container: traefik.http.middlewares.<name>.chain.middlewares=a,b
    let local = middleware.split('@').next().unwrap_or(middleware);
    labels
        .get(&format!("{MIDDLEWARES}{local}.chain.middlewares"))
        .is_some_and(|chain| {
            split_list(chain)
                .iter()
                .any(|m| auth.iter().any(|a| same_middleware(m, a)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn auth() -> Vec<String> {
        vec!["authelia@docker".into()]
    }

    fn routes(labels: &BTreeMap<String, String>, auth: &[String]) -> Vec<TraefikRoute> {
        super::routes(labels, auth, &EntrypointDefaults::default())
    }

    #[test]
    fn entrypoint_tls_and_middlewares_count_for_routers_on_them() {
        let defaults = EntrypointDefaults {
            tls: vec!["websecure".into()],
            middlewares: [("websecure".to_string(), vec!["authelia@file".to_string()])]
                .into_iter()
                .collect(),
        };
        let labels = labels(&[
            (
                "traefik.http.routers.a.rule",
                "Host(`a.x`) && PathPrefix(`/app`)",
            ),
            ("traefik.http.routers.a.middlewares", "headers@file"),
            ("traefik.http.routers.b.rule", "Host(`b.x`)"),
            ("traefik.http.routers.b.entrypoints", "web"),
        ]);
        let r = super::routes(&labels, &["authelia@file".into()], &defaults);
        // No entrypoints: on websecure, which gives TLS and Authelia ahead of its own middleware.
        assert!(r[0].tls && r[0].authenticated);
        assert_eq!(r[0].middlewares, ["authelia@file", "headers@file"]);
        assert_eq!(r[0].urls(), ["https://a.x/app"]);
        // Explicitly on web only: neither.
        assert!(!r[1].tls && !r[1].authenticated);
        assert_eq!(r[1].urls(), ["http://b.x/"]);
    }

    #[test]
    fn router_with_authelia_and_tls() {
        let r = routes(
            &labels(&[
                (
                    "traefik.http.routers.grafana.rule",
                    "Host(`grafana.quietly.online`)",
                ),
                (
                    "traefik.http.routers.grafana.middlewares",
                    "authelia@docker, secure-headers@file",
                ),
                (
                    "traefik.http.routers.grafana.tls.certresolver",
                    "letsencrypt",
                ),
            ]),
            &auth(),
        );
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].hosts, ["grafana.quietly.online"]);
        assert!(r[0].authenticated && r[0].tls);
    }

    #[test]
    fn unauthenticated_plain_router_and_chains() {
        let r = routes(
            &labels(&[(
                "traefik.http.routers.open.rule",
                "Host(`a.x`) || Host(`b.x`, \"c.x\")",
            )]),
            &auth(),
        );
        assert_eq!(r[0].hosts, ["a.x", "b.x", "c.x"]);
        assert!(!r[0].authenticated && !r[0].tls);

        let chained = routes(
            &labels(&[
                ("traefik.http.routers.app.rule", "Host(`app.x`)"),
                ("traefik.http.routers.app.middlewares", "protected@docker"),
                (
                    "traefik.http.middlewares.protected.chain.middlewares",
                    "authelia",
                ),
                ("traefik.http.routers.app.tls", "true"),
            ]),
            &auth(),
        );
        assert!(chained[0].authenticated && chained[0].tls);
    }

    #[test]
    fn services_that_sign_people_in_themselves_count_as_authenticated() {
        let r = routes(
            &labels(&[
                ("traefik.http.routers.a.rule", "Host(`a`)"),
                ("audit.auth", "oidc"),
            ]),
            &auth(),
        );
        assert!(r[0].authenticated);
    }

    #[test]
    fn provider_suffixes_must_agree_when_both_are_given() {
        assert!(same_middleware("authelia", "authelia@docker"));
        assert!(!same_middleware("authelia@file", "authelia@docker"));
        let disabled = routes(
            &labels(&[
                ("traefik.enable", "false"),
                ("traefik.http.routers.a.rule", "Host(`a`)"),
            ]),
            &auth(),
        );
        assert!(disabled.is_empty());
    }
}
