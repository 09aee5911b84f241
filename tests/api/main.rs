//! HTTP tests through the real router on a random port, with a cookie-keeping client.
//!
//! Each test gets a fresh database: a SQLite file in a temporary folder, or, when
//! `TEST_DATABASE_URL` names a PostgreSQL server, a new database created on it.

mod harness;
mod idp;

mod accounts;
mod admin;
mod administration;
mod doors;
mod events;
mod hardening;
mod invites;
mod landing;
mod limits;
mod malformed;
mod outbound;
mod pages;
mod policies;
mod probes;
mod requests;
mod security;
mod self_service;
mod session_life;
mod sso;
mod ways_in;
mod webhooks;
