//! One module per page; each exposes a component taking the data it shows.

pub mod acceptance;
pub mod actions;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod capacity;
pub mod dashboard;
pub mod dependencies;
pub mod doc_detail;
pub mod docs;
pub mod engines;
pub mod errors;
pub mod grades;
pub mod monitoring;
pub mod notifications;
pub mod phase_detail;
pub mod phase_signoff;
pub mod phases;
pub mod rollout_detail;
pub mod rollouts;
pub mod routes;
pub mod service_detail;
pub mod services;
pub mod tokens;
pub mod versions;
