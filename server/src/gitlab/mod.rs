//! The typed GitLab client (REST v4 + GraphQL). Knows nothing of Leptos or sessions: it takes
//! an access token per call and returns wire types or a [`GitLabError`].

pub mod ci;
mod client;
mod error;
pub mod graphql;
pub mod policies;
pub mod tokens;
pub mod wire;

pub use client::{GitLabClient, Paged};
pub use error::GitLabError;
