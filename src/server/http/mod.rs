//! HTTP adapters: the router, middleware, the JSON API and the single sign-on flow.
//! (The server functions' adapter is `server::server_fns`.)

mod activity;
mod api;
pub mod assets;
pub mod client_ip;
pub mod csrf;
pub mod extract;
pub mod json;
pub mod page_cache;
pub mod paging;
mod probes;
pub mod reply;
pub mod security;
mod sso_flow;

use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, State};
use axum::http::{header, HeaderValue, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use super::db::sessions::DbSessionStore;
use super::state::AppState;
use crate::app::{shell, App};

/// The largest request body accepted anywhere (forms and JSON are small).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "gatehouse_session";

/// The page routes, generated once per process.
///
/// Generating them renders the app once with a process-wide switch on (leptos_router's
/// `SuppressResourceLoad`) under which any resource that first polls, in any request of
/// any server of the process, waits forever. Generating them a second time while a server
/// of the same process is answering requests (several servers in one test process) would
/// hang such requests; once per process, before any server runs, cannot.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The whole application: pages, server functions, the JSON API, static files.
pub fn router(state: AppState) -> Router {
    let routes = route_list();
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::seconds(
            crate::server::domain::sessions::IDLE_SECS,
        )));

    Router::new()
        .route("/livez", get(probes::livez))
        .route("/readyz", get(probes::readyz))
        .route("/healthz", get(probes::readyz))
        .nest("/api/0", api::router())
        .route("/_fn/{*name}", post(server_fn).get(server_fn))
        .merge(sso_flow::router())
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            {
                let options = state.leptos_options.clone();
                move || page(options.clone())
            },
        )
        // The routes only, not the static files of the fallback: recording activity reads the
        // session, which a request for the bundle or the stylesheet has no reason to load.
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), activity::record))
        .fallback(static_file_or_not_found)
        // Inside the session layer: whether a request is anonymous is the session layer's
        // own reading of its cookie (SPEC §9.10), never a second parse of the header.
        .layer(axum::middleware::from_fn_with_state(page_cache::PageCache::default(), page_cache::serve))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf::protect))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(security::DEFAULT_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(axum::middleware::from_fn(crate::server::metrics::track))
        .layer(
            TraceLayer::new_for_http()
                // Log the route pattern, never the raw path: invite links carry tokens.
                .make_span_with(|req: &Request<Body>| {
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_else(|| "<unmatched>".to_owned());
                    tracing::info_span!("request", method = %req.method(), route)
                })
                .on_response(|res: &Response, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_millis() as u64, "response");
                }),
        )
        .with_state(state)
}

/// A page: the app's HTML document, with this render's content security policy.
fn page(options: leptos::config::LeptosOptions) -> impl leptos::IntoView {
    security::set_page_policy();
    shell(options)
}

/// A static file (precompressed, with its cache policy: `assets`), else the not-found page.
async fn static_file_or_not_found(uri: axum::http::Uri, State(state): State<AppState>, req: Request<Body>) -> Response {
    let hashed = state.leptos_options.hash_files;
    let files = leptos_axum::file_and_error_handler::<AppState, _>(page);
    assets::with_cache_policy(&uri, hashed, files(uri.clone(), State(state), req).await)
}

/// Runs a server function with the application state in its context.
async fn server_fn(State(state): State<AppState>, req: Request<Body>) -> impl IntoResponse {
    leptos_axum::handle_server_fns_with_context(move || provide_context(state.clone()), req).await
}
