//! Server functions: one per file, each thin — take the session, call the backend.
//! Every one checks the session itself through the backend; none mutates on GET.

pub mod cleanup;
pub mod groups;
pub mod projects;
pub mod session;
pub mod tags;
