//! Rollout tracking: the evaluation matrix, the deployment checklist, and the items the live
//! inventory proves. The handlers are split by action: `show` (the pages), `create`, `score`
//! (scores and weights), `decide` (candidates and the decision), `items` (the checklist).

pub mod checks;
mod create;
mod decide;
pub mod item_queries;
mod items;
pub mod live;
pub mod matrix;
pub mod queries;
mod score;
mod show;
mod template;
mod write;

pub use create::create;
pub use decide::{add_candidate, decide};
pub use items::update_item;
pub use score::{score, weights};
pub use show::{list, show};
