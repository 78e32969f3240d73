//! The integration tests, one binary with a module per feature: the crate is linked once for all
//! of them instead of once per file (21 links of the whole server before), and nextest still runs
//! every test in its own process. Tests that read the whole private Docker engine are serialised
//! by module name in `.config/nextest.toml`.
#![allow(clippy::unwrap_used)] // a test that cannot proceed should stop right there

mod common;

mod actions;
mod api;
mod auth;
mod capacity;
mod cli;
mod deliverable_checks;
mod docs;
mod evidence;
mod fuzz;
mod grades;
mod hardening;
mod http;
mod inventory;
mod kept_pages;
mod metrics;
mod negative_input;
mod notify;
mod oidc;
mod phases;
mod readmodel;
mod rollouts;
mod routes;
mod worker_rules;
