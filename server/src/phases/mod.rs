//! Phase sign-off: plans imported from Markdown, deliverables, reports, and the hash-chained
//! sign-off records.

pub mod chain;
mod check_suggest;
pub mod checks;
pub mod import;
pub mod live;
pub mod mojibake;
pub(crate) mod pages;
mod plan_text;
pub mod queries;
pub mod record;
pub mod remediation;
pub mod signoff;
pub mod signoff_queries;
pub mod write;
