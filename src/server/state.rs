//! What every handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::auth::breached::BreachedPasswords;
use super::auth::oidc::Oidc;
use super::auth::password::PasswordHasher;
use super::config::Config;
use super::db::Db;
use super::mail::Mailer;

/// Shared application state: one allocation behind an `Arc`, so the clones every request
/// makes (extractors, server-function contexts) cost one reference count. Fields are
/// reached through `Deref` (`state.db`, `state.config`, …).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
#[derive(Debug)]
pub struct Shared {
    pub config: Arc<Config>,
    pub db: Db,
    pub hasher: PasswordHasher,
    /// The breached-password check, when `APP_BREACHED_PASSWORDS_URL` is set.
    pub breached: Option<BreachedPasswords>,
    pub mailer: Mailer,
    /// The OpenID Connect relying party (discovery and key-set cache).
    pub oidc: Oidc,
    pub secret: Arc<Vec<u8>>,
    pub leptos_options: LeptosOptions,
    /// The background workers' supervisor (`/readyz` reads it).
    pub workers: Arc<crate::server::workers::Workers>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
