//! The inventory: what the worker observed on each engine (services, their state and history,
//! the engines' refreshes), as stored and read back.

pub mod engines;
pub(crate) mod pages;
pub mod queries;
pub mod services;
