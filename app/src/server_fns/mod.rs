//! Server functions: one per file, each thin: resolve the caller first (no sign-in, no work),
//! then build the inputs with their validating constructors, then call one service. None
//! mutates on GET.

pub mod cleanup;
pub mod credentials;
pub mod groups;
pub mod projects;
pub mod session;
pub mod tags;
