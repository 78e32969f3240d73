//! Rollout tracking: the evaluation matrix, the deployment checklist, and the items the live
//! inventory proves.

pub mod checks;
pub mod live;
pub mod matrix;
