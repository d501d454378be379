//! A faithful fake GitLab for registry-dash: an OAuth 2 provider (Doorkeeper semantics), the REST
//! v4 and GraphQL container-registry subset, GitLab's permission model, seeded deterministic demo
//! data, registry credentials (deploy tokens, project and group access tokens) with the registry's
//! token authentication (`/v2/`, `/jwt/auth`), and fault injection (latency, errors, rate limits,
//! a broken registry) for tests.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use gitlab_double::{Double, DoubleConfig};
//! let running = Double::spawn(DoubleConfig::default()).await?;
//! println!("fake GitLab at {}", running.base_url);
//! running.double.controls().set_metadata_db(false);
//! # Ok(()) }
//! ```
//!
//! The double is an independent implementation: it shares no code with the dashboard, so a
//! misunderstanding of GitLab in one cannot hide behind the same misunderstanding in the other.

mod auth;
mod clock;
pub mod config;
mod controls;
mod credentials;
pub mod dataset;
mod faults;
mod graphql;
mod model;
mod pagination;
mod protection;
mod registry;
mod rest;
mod state;
mod sync;
mod token_rules;

pub use config::{DoubleConfig, OAuthApp};
pub use controls::{Controls, ControlsSnapshot, RegistryState};
pub use dataset::Dataset;
pub use state::{Double, RunningDouble};
