//! Sign-in with GitLab (OAuth 2 authorization code + PKCE + state, one callback per
//! instance), the session records that hold the tokens server-side, the bounded session
//! store, and resolving a request's [`app::backend::Caller`] from a session or a bearer
//! token.

pub mod caller;
pub mod pending;
pub mod records;
pub mod return_to;
pub mod routes;
pub mod store;

pub use caller::{credential_key, SignInService};
