//! Records when and from where a signed-in session is used (SPEC §4.6), after a routed
//! request (a page, the API, a server function; not a static file) was answered, inside
//! the session layer, which writes the session only when this
//! changed it: at most once per `domain::sessions::TOUCH_EVERY_SECS` per session (or when
//! the client moved), never once per request.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::USER_AGENT;
use axum::middleware::Next;
use axum::response::Response;
use tower_sessions::Session;

use super::client_ip::ClientIp;
use crate::server::auth::session;
use crate::server::db;
use crate::server::state::AppState;

pub async fn record(State(state): State<AppState>, request: Request<Body>, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let ip = ClientIp::of(&parts, &state.config.trusted_proxies).map(|ip| ip.to_string());
    let user_agent = parts.headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let session = parts.extensions.get::<Session>().cloned();
    let response = next.run(Request::from_parts(parts, body)).await;
    if let Some(session) = session {
        if let Err(err) = session::touch(&session, db::now(), ip.as_deref(), &user_agent).await {
            tracing::warn!(error = %err, "session activity not recorded");
        }
    }
    response
}
