//! Audit Portal's server: configuration, database, routes, the Docker worker, and startup.

pub mod audit;
pub mod auth;
pub mod bundled_pg;
pub mod charts;
pub mod cli;
pub mod config;
pub mod db;
pub mod docker;
pub mod docs;
pub mod error;
pub mod grade;
pub mod phases;
pub mod rollouts;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod worker;
