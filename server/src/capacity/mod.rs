//! Capacity (`/capacity`, `/dependencies`, `/versions`): resource history per service, memory
//! right-sizing from it, each host's memory against its containers', saved baselines and drift
//! against them, the dependency map, and the image versions in use.
//!
//! - `history`, `sizing`, `regression`, `deps`: the arithmetic and the rules (pure);
//! - `record`: the worker's reads and writes around each refresh;
//! - `queries`: what the pages read;
//! - `graph`: the dependency map drawn as SVG;
//! - `page`, `baseline`, `export`, `dependencies`, `versions`: the handlers.

pub mod baseline;
pub mod dependencies;
pub mod deps;
pub mod edge_queries;
pub mod export;
pub mod graph;
pub mod history;
pub mod page;
pub mod queries;
pub mod record;
pub mod regression;
pub mod service;
pub mod sizing;
pub mod versions;
