//! All integration tests in one binary: one link instead of one per file keeps
//! build time and target-directory size down.

mod api;
mod auth_flow;
mod cleanup;
mod common;
mod credentials;
mod governance;
mod hardening;
mod multi_instance;
mod pages;
mod process;
mod protection;
mod reference_examples;
mod replicas;
mod storage;
mod tags;
mod usage;
