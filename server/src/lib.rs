//! Audit Portal's server: configuration, database, routes, the Docker worker, and startup.
// Leptos views are nested generic types; rendering the larger pages inside async handlers needs
// more than the default 128 levels of type layout on a clean build (components also erase their
// types with `into_any()` where rows repeat).
#![recursion_limit = "256"]

pub mod actions;
pub mod api;
pub mod audited;
pub mod auth;
pub mod bundled_pg;
pub mod capacity;
pub mod charts;
pub mod cli;
pub mod config;
pub mod db;
pub mod docker;
pub mod docs;
pub mod edge;
pub mod error;
pub mod evidence;
pub mod grade;
pub mod inspection;
pub mod inventory;
pub mod metrics;
pub mod notify;
pub mod phases;
pub mod readmodel;
pub mod rollouts;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod worker;
