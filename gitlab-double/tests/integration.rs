//! All integration tests in one binary: one link instead of one per file keeps
//! build time and target-directory size down.

mod ci;
mod common;
mod credentials;
mod faults;
mod graphql;
mod oauth;
mod permissions;
mod protection;
mod registry_auth;
mod rest_registry;
