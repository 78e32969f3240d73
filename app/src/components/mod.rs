//! Reusable pieces of markup: the page shell, formatting helpers and small widgets.

pub mod format;
pub mod forms;
pub mod shell;
pub mod widgets;
