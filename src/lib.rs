//! `rollback`: roll a service back to an earlier version and redeploy its dependents in
//! dependency order. The pure core (manifest, template, version, strategy, graph, plan) computes
//! the whole plan as a value; `execute` applies it through the `port::Backend` trait.

pub mod error;
pub mod graph;
pub mod manifest;
pub mod port;
pub mod refname;
pub mod template;
