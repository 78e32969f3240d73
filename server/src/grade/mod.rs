//! The production-readiness grade: the weighted rubric and its exact arithmetic, the live grade
//! from evidence, and the pages (`show`, `assess`, `edit_rubric`, `charts`).

mod assess;
pub mod caps;
mod charts;
mod edit_rubric;
pub mod evidence;
pub mod live;
pub mod queries;
pub mod rubric;
mod show;

pub use assess::{assess, override_score};
pub use charts::{TARGET, trend_chart};
pub use edit_rubric::change_rubric;
pub use show::{history, history_csv, overview};
