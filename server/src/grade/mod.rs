//! The production-readiness grade: the weighted rubric and its exact arithmetic.

pub mod caps;
pub mod evidence;
pub mod live;
pub mod rubric;
