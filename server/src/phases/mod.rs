//! Phase sign-off: plans imported from Markdown, deliverables, reports, and the hash-chained
//! sign-off records.

pub mod chain;
pub mod checks;
pub mod import;
pub mod live;
pub mod mojibake;
pub mod record;
pub mod remediation;
pub mod signoff;
pub mod write;
