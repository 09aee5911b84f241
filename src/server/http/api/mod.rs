//! The JSON API under `/api/0/` (SPEC §3). Each module holds the routes of one area;
//! handlers are adapters: extractors in (`http::extract`), one use case called, its answer
//! shaped (`http::json`) or its failure converted (`http::reply`). The modules share those
//! helpers and never import each other.

mod accept;
mod accounts;
mod orgs;
mod sso;
mod webhooks;

use axum::Router;

use crate::server::state::AppState;

/// Every route of the API.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(accounts::router())
        .merge(orgs::router())
        .merge(accept::router())
        .merge(sso::router())
        .merge(webhooks::router())
}
