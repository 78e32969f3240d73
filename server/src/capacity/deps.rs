//! The dependency map's edges, from what the worker sees of each container: compose's
//! `depends_on` label, small shared user-defined networks, host names in environment values
//! and variable names, Traefik routing, and an explicit `audit.depends_on` label. Pure.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The compose label listing a service's `depends_on` (`db:service_started:false,redis:...`).
pub const COMPOSE_DEPENDS_ON: &str = "com.docker.compose.depends_on";
/// A label naming dependencies the portal cannot see (comma-separated names or keys).
pub const AUDIT_DEPENDS_ON: &str = "audit.depends_on";
/// A network joined by more services than this says "reachable", not "depends on" (a shared
/// proxy network joined by everything): it yields no edges.
pub const SMALL_NETWORK: usize = 8;

/// What the edge finder needs to know of one service.
#[derive(Clone, Debug)]
pub struct Node<'a> {
    pub key: &'a str,
    pub compose_project: Option<&'a str>,
    pub compose_service: Option<&'a str>,
    pub container_name: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    pub networks: &'a [String],
    /// Host names its environment points at (see `docker::env_hosts`); never stored.
    pub env_hosts: &'a [String],
    pub routed: bool,
    pub image_ref: &'a str,
}

/// `from` needs `to`, for the reasons in `via` (`compose`, `env`, `traefik`, `label`,
/// `network:<name>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub via: Vec<String>,
}

impl Edge {
    /// Whether the edge says more than "they share a network": only those count for impact.
    pub fn directed(&self) -> bool {
        self.via.iter().any(|v| !v.starts_with("network:"))
    }
}

/// Whether an image reference is Traefik's (`traefik:v3.1`, `docker.io/library/traefik`).
pub fn is_traefik(image_ref: &str) -> bool {
    let repo = image_ref.split(['@']).next().unwrap_or("");
    let name = repo.rsplit('/').next().unwrap_or("");
    name.split(':').next() == Some("traefik")
}

/// Every edge between the services of one engine.
pub fn edges(nodes: &[Node]) -> Vec<Edge> {
    // Names a service answers to on its networks: its container name, its compose service name,
    // its key; first labels of dotted names match too (`db.internal` → `db`).
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let mut names = vec![
            n.container_name.to_ascii_lowercase(),
            n.key.to_ascii_lowercase(),
        ];
        if let Some(s) = n.compose_service {
            names.push(s.to_ascii_lowercase());
        }
        names.sort();
        names.dedup();
        for name in names {
            by_name.entry(name).or_default().push(i);
        }
    }
    // A name several services answer to resolves to the one in the asker's compose project.
    let resolve = |from: usize, name: &str| -> Option<usize> {
        let name = name.trim().to_ascii_lowercase();
        let candidates = by_name
            .get(&name)
            .or_else(|| by_name.get(name.split('.').next().unwrap_or("")))?;
        let same_project = candidates.iter().find(|&&c| {
            nodes[c].compose_project.is_some()
                && nodes[c].compose_project == nodes[from].compose_project
        });
        let pick = same_project.or_else(|| (candidates.len() == 1).then(|| &candidates[0]))?;
        (*pick != from).then_some(*pick)
    };
    let mut found: BTreeMap<(usize, usize), BTreeSet<String>> = BTreeMap::new();
    let mut add = |from: usize, to: usize, via: String| {
        if from != to {
            found.entry((from, to)).or_default().insert(via);
        }
    };
    let traefik = nodes.iter().position(|n| is_traefik(n.image_ref));
    for (i, n) in nodes.iter().enumerate() {
        if let Some(list) = n.labels.get(COMPOSE_DEPENDS_ON) {
            for entry in list.split(',') {
                let name = entry.split(':').next().unwrap_or("");
                let scoped = n.compose_project.map(|p| format!("{p}/{}", name.trim()));
                let target = scoped
                    .and_then(|k| {
                        by_name
                            .get(&k.to_ascii_lowercase())
                            .and_then(|v| v.first().copied())
                    })
                    .or_else(|| resolve(i, name));
                if let Some(t) = target {
                    add(i, t, "compose".into());
                }
            }
        }
        if let Some(list) = n.labels.get(AUDIT_DEPENDS_ON) {
            for name in list.split(',').filter(|s| !s.trim().is_empty()) {
                if let Some(t) = resolve(i, name) {
                    add(i, t, "label".into());
                }
            }
        }
        for host in n.env_hosts {
            if let Some(t) = resolve(i, host) {
                add(i, t, "env".into());
            }
        }
        if let Some(t) = traefik.filter(|_| n.routed) {
            add(i, t, "traefik".into());
        }
    }
    let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        for net in n.networks {
            members.entry(net).or_default().push(i);
        }
    }
    for (net, who) in members {
        if who.len() < 2 || who.len() > SMALL_NETWORK {
            continue;
        }
        for &a in &who {
            for &b in &who {
                add(a, b, format!("network:{net}"));
            }
        }
    }
    found
        .into_iter()
        .map(|((from, to), via)| Edge {
            from: nodes[from].key.to_string(),
            to: nodes[to].key.to_string(),
            via: via.into_iter().collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Spec {
        key: &'static str,
        project: Option<&'static str>,
        service: Option<&'static str>,
        labels: BTreeMap<String, String>,
        networks: Vec<String>,
        env_hosts: Vec<String>,
        routed: bool,
        image: &'static str,
    }

    fn spec(key: &'static str) -> Spec {
        let (project, service) = match key.split_once('/') {
            Some((p, s)) => (Some(p), Some(s)),
            None => (None, None),
        };
        Spec {
            key,
            project,
            service,
            labels: BTreeMap::new(),
            networks: vec![],
            env_hosts: vec![],
            routed: false,
            image: "busybox",
        }
    }

    fn nodes(specs: &[Spec]) -> Vec<Node<'_>> {
        specs
            .iter()
            .map(|s| Node {
                key: s.key,
                compose_project: s.project,
                compose_service: s.service,
                container_name: s.key.rsplit('/').next().unwrap(),
                labels: &s.labels,
                networks: &s.networks,
                env_hosts: &s.env_hosts,
                routed: s.routed,
                image_ref: s.image,
            })
            .collect()
    }

    fn pairs(edges: &[Edge]) -> Vec<(String, String, String)> {
        edges
            .iter()
            .map(|e| (e.from.clone(), e.to.clone(), e.via.join("+")))
            .collect()
    }

    #[test]
    fn every_source_of_an_edge_is_named() {
        let mut app = spec("shop/app");
        app.labels.insert(
            COMPOSE_DEPENDS_ON.into(),
            "db:service_healthy:true,cache:service_started:false".into(),
        );
        app.env_hosts = vec!["db".into(), "mail.internal".into()];
        app.routed = true;
        let mut worker = spec("shop/worker");
        worker
            .labels
            .insert(AUDIT_DEPENDS_ON.into(), "app, nowhere".into());
        let mut proxy = spec("edge/traefik");
        proxy.image = "traefik:v3.1";
        let specs = [
            app,
            spec("shop/db"),
            spec("shop/cache"),
            spec("mail"),
            worker,
            proxy,
        ];
        let found = pairs(&edges(&nodes(&specs)));
        assert_eq!(
            found,
            [
                ("shop/app".into(), "shop/db".into(), "compose+env".into()),
                ("shop/app".into(), "shop/cache".into(), "compose".into()),
                ("shop/app".into(), "mail".into(), "env".into()),
                ("shop/app".into(), "edge/traefik".into(), "traefik".into()),
                ("shop/worker".into(), "shop/app".into(), "label".into()),
            ]
        );
    }

    #[test]
    fn a_name_in_two_projects_resolves_within_the_askers_project() {
        let mut a = spec("one/app");
        a.env_hosts = vec!["db".into()];
        let specs = [a, spec("one/db"), spec("two/db")];
        assert_eq!(pairs(&edges(&nodes(&specs)))[0].1, "one/db");
        // Outside any project an ambiguous name names nothing.
        let mut lone = spec("lone");
        lone.env_hosts = vec!["db".into()];
        let specs = [lone, spec("one/db"), spec("two/db")];
        assert!(edges(&nodes(&specs)).is_empty());
    }

    #[test]
    fn small_shared_networks_link_both_ways_and_crowded_ones_not_at_all() {
        let mut a = spec("a");
        a.networks = vec!["backend".into(), "proxy".into()];
        let mut b = spec("b");
        b.networks = vec!["backend".into(), "proxy".into()];
        let mut specs = vec![a, b];
        for name in ["c", "d", "e", "f", "g", "h", "i"] {
            let mut s = spec(name);
            s.networks = vec!["proxy".into()];
            specs.push(s);
        }
        let found = edges(&nodes(&specs));
        assert_eq!(
            pairs(&found),
            [
                ("a".into(), "b".into(), "network:backend".into()),
                ("b".into(), "a".into(), "network:backend".into()),
            ]
        );
        assert!(!found[0].directed());
        assert!(is_traefik("docker.io/library/traefik:v3.1@sha256:ab"));
        assert!(!is_traefik("traefik-forward-auth:2"));
    }
}
