//! Sign-in and who may do what: sessions, the OpenID Connect relying party, the local demo
//! sign-in, CSRF protection, and the role check every write goes through.

pub mod csrf;
pub mod guard;
pub mod host;
pub mod oidc;
pub mod page;
pub mod session;
pub mod session_cache;
pub(crate) mod sign_in;
pub mod token_store;
pub mod tokens;
pub(crate) mod tokens_page;

pub use guard::{CurrentUser, authorize};
pub use page::Page;
pub use session::SessionUser;

/// The issuer recorded for people signed in through the local demo sign-in.
pub const DEMO_ISSUER: &str = "local-demo";
