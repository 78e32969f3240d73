//! The team's service docs: scanning the docs folder, the template checklist, and coverage
//! against the live inventory. Scanning and checks are pure and read-only: nothing is written
//! into the docs folder.

pub mod checks;
pub mod claim_queries;
pub mod coverage;
pub mod frontmatter;
pub mod live;
pub mod markdown;
pub(crate) mod pages;
pub mod queries;
pub mod scan;

pub use checks::DocTemplate;
pub use scan::{ScanOutcome, ScannedDoc, scan_dir};
