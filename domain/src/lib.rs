//! The registry-dash domain: plain data and plain functions, no I/O, no UI framework.
//!
//! Compiled into the server and into the browser's wasm bundle, so everything here must
//! stay deterministic and free of system calls (the caller passes "now" where it matters).

pub mod cleanup;
pub mod credentials;
pub mod family;
pub mod format;
pub mod governance;
pub mod input;
pub mod listing;
pub mod manifest;
pub mod model;
pub mod notice;
pub mod protection;
pub mod pull;
pub mod query;
pub mod shape;
pub mod storage;
pub mod tags;
pub mod usage;
pub mod view;

pub use model::*;
