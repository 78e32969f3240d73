//! Domain types shared by the server (which fills them) and the pages (which show them).

pub mod actions;
pub mod audit_log;
pub mod auth;
pub mod capacity;
pub mod docs;
pub mod drafts;
pub mod evidence;
pub mod findings;
pub mod grade;
pub mod inventory;
pub mod nav;
pub mod notify;
pub mod phases;
pub mod rollouts;
pub mod routes;
pub mod service_query;

pub use auth::{Role, Viewer};
pub use findings::{Finding, FindingKind, Severity};
pub use inventory::*;
pub use nav::Section;
