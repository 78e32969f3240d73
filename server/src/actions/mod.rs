//! The action plan (`/actions`): every open finding rolled up into an action, ordered by the
//! grade points its fix would add, with an owner, a due date, an effort class and a state that
//! people set (open, accepted risk) and the portal verifies (done when the findings are gone,
//! reopened when they return). Exported as a Markdown checklist and as CSV.
//!
//! - `rollup`: findings → actions, and the steps that keep the stored actions in step (pure);
//! - `queries`: persistence;
//! - `sync`: the worker's step after each refresh;
//! - `plan`: the plan as shown, valued against the grade;
//! - `list`, `update`, `export`: the handlers.

pub mod export;
pub mod list;
pub mod plan;
pub mod queries;
pub mod rollup;
pub mod sync;
pub mod update;
