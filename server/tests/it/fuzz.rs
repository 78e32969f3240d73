//! Bounded-time fuzzing of the parsers that read what other people wrote: the phase-plan
//! importer, the docs' front matter and the Traefik labels. Inputs are spliced from fragments of
//! the formats (so they reach deep into the parsers) and random bytes; each must be answered
//! without a panic and with results that hold their invariants. `AUDIT_FUZZ_SECONDS` sets the
//! time per parser (default 4); the seed is printed so a failure can be replayed with
//! `AUDIT_FUZZ_SEED`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn budget() -> Duration {
    let secs = std::env::var("AUDIT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4.0_f64);
    Duration::from_secs_f64(secs)
}

fn rng(name: &str) -> StdRng {
    let seed = std::env::var("AUDIT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random::<u64>());
    eprintln!("{name}: seed {seed}");
    StdRng::seed_from_u64(seed)
}

/// Calls `one` with the run's randomness until the time budget is spent, and checks that the
/// budget was enough for a meaningful number of inputs.
fn fuzz(name: &str, mut one: impl FnMut(&mut StdRng)) {
    let mut rng = rng(name);
    let deadline = Instant::now() + budget();
    let mut runs = 0;
    while Instant::now() < deadline {
        one(&mut rng);
        runs += 1;
    }
    assert!(runs > 100, "{name}: only {runs} inputs in the time budget");
    eprintln!("{name}: {runs} inputs");
}

/// Random text spliced from `fragments`, with random bytes and characters mixed in.
fn splice(rng: &mut StdRng, fragments: &[&str], max_parts: usize) -> Vec<u8> {
    let parts = rng.random_range(0..max_parts);
    let mut out = Vec::new();
    for _ in 0..parts {
        match rng.random_range(0..10) {
            0 => {
                let n = rng.random_range(1..16);
                out.extend((0..n).map(|_| rng.random::<u8>()));
            }
            1 => {
                let c = char::from_u32(rng.random_range(0x80..0x1_F000)).unwrap_or('?');
                out.extend(c.to_string().as_bytes());
            }
            _ => out.extend(fragments[rng.random_range(0..fragments.len())].as_bytes()),
        }
    }
    out
}

const PLAN: &[&str] = &[
    "# PHASE-03: ",
    "## Objectives\n",
    "## 🎯 Goals\n",
    "### Success Criteria\n",
    "- [ ] ",
    "- [x] ",
    "  - [ ] nested ",
    "1. ",
    "**Target Grade**: 93/100",
    "**Due**: 2026-12-01",
    "**Timeline**: 2026-11-01 → 2026-11-30",
    "**Week**: 3-4 (2026-02-17 to 2026-03-02)",
    "| Field | Value |\n|---|---|\n| Due | 2026-13-45 |\n",
    "âœ… ",
    "üéØ ",
    "```\ncode\n```\n",
    "<script>x</script>",
    "\n",
    "\n\n",
    "text ",
    "*",
    "`",
    "[link](http://x)",
    "> quote\n",
];

#[test]
fn the_plan_importer_never_panics_and_keeps_its_invariants() {
    fuzz("plan importer", |rng| {
        let input = splice(rng, PLAN, 60);
        if let Ok(plan) = audit_portal::phases::import::parse_plan(&input) {
            assert!(
                !plan.title.trim().is_empty(),
                "a plan always has a title: {input:?}"
            );
            if let Some(number) = &plan.number {
                assert!(number.starts_with("PHASE-"), "{number}");
            }
            if let Some(grade) = plan.target_grade {
                assert!(
                    grade <= 10_000,
                    "a grade is out of 100 (hundredths): {grade}"
                );
            }
            for item in &plan.items {
                assert!(!item.text.contains('\0'));
            }
        }
    });
}

const FRONT_MATTER: &[&str] = &[
    "service: ",
    "services: [a, b]\n",
    "services:\n  - x\n  - y\n",
    "engine: master\n",
    "owner: ",
    "last_verified: 2026-11-30\n",
    "last_verified: not-a-date\n",
    "'quoted'",
    "\"dq\"",
    ": ",
    "- ",
    "  ",
    "\n",
    "#",
    "[",
    "]",
    "{",
    "}",
    "web",
];

#[test]
fn the_front_matter_parser_never_panics() {
    fuzz("front matter", |rng| {
        let bytes = splice(rng, FRONT_MATTER, 30);
        let text = String::from_utf8_lossy(&bytes);
        // Accepted or refused with a reason; never a panic.
        if let Err(reason) = audit_portal::docs::frontmatter::parse(&text) {
            assert!(!reason.is_empty(), "a refusal says why");
        }
    });
}

const LABEL_KEYS: &[&str] = &[
    "traefik.http.routers.r.rule",
    "traefik.http.routers.r.middlewares",
    "traefik.http.routers.r.tls",
    "traefik.http.routers.r.tls.certresolver",
    "traefik.http.routers.r.entrypoints",
    "traefik.http.routers..rule",
    "traefik.http.routers.r",
    "traefik.http.middlewares.c.chain.middlewares",
    "traefik.http.middlewares.a.ipallowlist.sourcerange",
    "traefik.enable",
    "audit.auth",
];

const LABEL_VALUES: &[&str] = &[
    "Host(`a.quietly.online`)",
    "Host(`a`, `b`) || PathPrefix(`/x`)",
    "Host(",
    "Host(``)",
    ")",
    "authelia@docker",
    "c@docker,authelia",
    "true",
    "false",
    "oidc",
    ",",
    "websecure",
    "10.0.0.0/8",
];

#[test]
fn the_traefik_label_parser_never_panics_and_hosts_come_from_the_rule() {
    let auth = vec!["authelia@docker".to_string(), "authelia".to_string()];
    fuzz("traefik labels", |rng| {
        let mut labels = BTreeMap::new();
        for _ in 0..rng.random_range(0..12) {
            let key = String::from_utf8_lossy(&splice(rng, LABEL_KEYS, 3)).to_string();
            let value = String::from_utf8_lossy(&splice(rng, LABEL_VALUES, 4)).to_string();
            labels.insert(key, value);
        }
        for route in audit_portal::inspection::traefik::routes(
            &labels,
            &auth,
            &audit_portal::config::EntrypointDefaults::default(),
        ) {
            for host in &route.hosts {
                assert!(!host.is_empty());
                assert!(
                    route.rule.to_ascii_lowercase().contains(host.as_str()),
                    "host {host} is not in rule {}",
                    route.rule
                );
            }
        }
        let _ = audit_portal::inspection::traefik::allowlist_middlewares(&labels);
    });
}
