//! What a server function knows about the request it answers.

use leptos::prelude::use_context;
use tower_sessions::Session;

use crate::app::wire::AppError;
use crate::server::db::users::UserRow;
use crate::server::http::client_ip::ClientIp;
use crate::server::service::accounts;
use crate::server::service::problem::Problem;
use crate::server::state::AppState;

/// The application state and the request's session.
pub async fn context() -> Result<(AppState, Session), AppError> {
    let state = use_context::<AppState>().ok_or_else(|| missing("AppState not in context"))?;
    let session: Session = leptos_axum::extract().await.map_err(|_| missing("session missing from request"))?;
    Ok((state, session))
}

/// [`context`] and the signed-in, active user (`accounts::current_user`), or a 401.
pub async fn user_context() -> Result<(AppState, Session, UserRow), AppError> {
    let (state, session) = context().await?;
    let user = accounts::current_user(&state, &session).await?;
    Ok((state, session, UserRow { client_ip: client_ip().await, ..user }))
}

fn missing(what: &'static str) -> AppError {
    Problem::internal(anyhow::anyhow!(what)).into()
}

/// The client's address for rate limits and the audit log, as every adapter sees it
/// ([`ClientIp`]: the peer, or what trusted proxies forwarded).
pub async fn client_ip() -> Option<String> {
    let state = use_context::<AppState>()?;
    let ip: ClientIp = leptos_axum::extract_with_state(&state).await.ok()?;
    Some(ip.to_string())
}

/// Lets the page being rendered post a form to `origin` (its `form-action` policy).
pub fn allow_form_action(origin: &str) {
    crate::server::http::security::allow_form_action(origin);
}
