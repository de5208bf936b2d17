//! `rollback`: roll a service back to an earlier version and redeploy its dependents in
//! dependency order. The pure core (manifest, template, version, strategy, graph, plan) computes
//! the whole plan as a value; `execute` applies it through the `port::Backend` trait.

// Nothing that comes from outside may panic the tool: no unwrap/expect/panic outside tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod action;
pub mod cli;
pub mod comment;
pub mod error;
pub mod execute;
pub mod github;
pub mod graph;
pub mod history;
pub mod local_git;
pub mod manifest;
pub mod plan;
pub mod port;
pub mod preflight;
pub mod refname;
pub mod report;
pub mod retry;
pub mod runner;
pub mod strategy;
pub mod template;
#[cfg(test)]
mod test_support;
pub mod version;
pub mod workflow;
