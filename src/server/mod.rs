//! The server half: compiled only with the `ssr` feature.
//!
//! `domain` holds pure rules, `db` the queries, `service` the use cases and their
//! transactions, `auth` password hashing and session keys, `http` the REST API and
//! middleware, `startup` the wiring, `cli` the binary's commands, `workers` and
//! `metrics` the background tasks and what they report.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod events;
pub mod http;
pub mod logs;
pub mod mail;
pub mod metrics;
pub mod outbound;
pub mod server_fns;
pub mod service;
pub mod startup;
pub mod state;
pub mod webhooks;
pub mod workers;
