//! Reading Docker engines. The worker sees an engine through [`EngineReader`], which yields
//! plain [`observation`] data; [`bollard_reader`] is the real implementation over bollard.

pub mod bollard_reader;
pub mod env_hosts;
pub mod events;
pub mod inspect;
pub mod logs;
pub mod observation;
pub mod redact;

use futures::future::BoxFuture;

pub use observation::{ContainerObservation, EngineObservation, ObserveRequest};

/// One engine, read in one go. Object-safe so the worker can hold any mix of engines.
pub trait EngineReader: Send + Sync {
    fn name(&self) -> &str;
    fn observe<'a>(
        &'a self,
        request: &'a ObserveRequest,
    ) -> BoxFuture<'a, anyhow::Result<EngineObservation>>;
}
