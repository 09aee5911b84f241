//! The single sign-on flow in the browser: the form
//! post that starts a sign-in (`POST /auth/login/{slug}/start/`) and the provider's
//! redirect back (`GET /auth/sso/callback/`). `/auth/login/{slug}/` itself is a page.
//!
//! Starting is a same-site form post (SPEC §9.1): the cross-site layer refuses it from
//! another site, and it carries the intent (`login`, or `link` with the password). A GET
//! of the start URL starts nothing: it shows the organization's sign-in page. The page
//! that holds the form lets its `form-action` reach the provider's authorization origin,
//! so the browser may follow the redirect (`app::auth::sso`).

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use tower_sessions::Session;

use super::client_ip::ClientIp;
use super::reply::ApiError;
use crate::server::auth::session;
use crate::server::domain::next::safe_next;
use crate::server::domain::sso::Intent;
use crate::server::domain::Password;
use crate::server::service::problem::Problem;
use crate::server::service::sso::{self, CallbackParams, SsoError};
use crate::server::state::AppState;

/// Routes of the browser flow, at the site's root.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(sso::CALLBACK_PATH, get(callback))
        .route("/auth/login/{slug}/start/", get(start_page).post(start))
}

fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location.to_owned())]).into_response()
}

/// The "Continue with …" form.
#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    intent: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

/// `GET /auth/login/{slug}/start/`: starts nothing (a navigation from another site must not
/// start a sign-in or a link); shows the organization's sign-in page instead.
async fn start_page(
    Path(slug): Path<String>,
    query: Result<Query<NextQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let mut page = format!("/auth/login/{}/", path_segment(&slug));
    if let Some(next) = query.ok().and_then(|Query(q)| q.next).as_deref().and_then(safe_next) {
        page.push_str("?next=");
        page.push_str(&url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>());
    }
    see_other(&page)
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// `POST /auth/login/{slug}/start/`: leaves for the provider (303), or comes back to the
/// organization's sign-in page with a sentence saying why not.
async fn start(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    Path(slug): Path<String>,
    form: Result<axum::Form<StartForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let back = format!("/auth/login/{}/", path_segment(&slug));
    let Ok(axum::Form(form)) = form else {
        return ApiError::http(StatusCode::BAD_REQUEST, "The sign-in form was not understood.", "invalid")
            .into_response();
    };
    let Some(intent) = Intent::parse(form.intent.as_deref()) else {
        return ApiError::http(StatusCode::BAD_REQUEST, "Unknown intent: use login or link.", "invalid")
            .into_response();
    };
    let password = form.password.map(Password::new);
    let ip = ip.to_string();
    match sso::start(&state, &session, &slug, intent, password.as_ref(), form.next.as_deref(), Some(&ip)).await {
        Ok(url) => see_other(&url),
        Err(err @ SsoError::Internal(_)) => ApiError::from(err).into_response(),
        Err(err) => back_with_notice(&session, &err, &back).await,
    }
}

/// Remembers why a sign-in did not happen, for the page at `path` to show once, and goes there.
async fn back_with_notice(session: &Session, err: &SsoError, path: &str) -> Response {
    match session::set_sso_notice(session, &err.to_string()).await {
        Ok(()) => see_other(path),
        Err(store) => ApiError::from(Problem::internal(store.into())).into_response(),
    }
}

/// A slug from a URL, safe to put back into a path (anything odd becomes `-`).
fn path_segment(slug: &str) -> String {
    slug.chars().take(64).map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect()
}

/// `GET /auth/sso/callback/`: finishes the sign-in and redirects; a refusal is shown on
/// the organization's sign-in page (or the login page when the flow is unknown).
async fn callback(
    State(state): State<AppState>,
    ClientIp(peer): ClientIp,
    session: Session,
    query: Result<Query<CallbackParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let params = query.map(|Query(q)| q).unwrap_or_default();
    let ip = peer.to_string();
    match sso::callback(&state, &session, params, Some(&ip)).await {
        Ok(done) => see_other(&done.redirect_to),
        Err(err @ SsoError::Internal(_)) => ApiError::from(err).into_response(),
        Err(err) => {
            let back = match session::sso_last_org(&session).await {
                Ok(Some(slug)) => format!("/auth/login/{}/", path_segment(&slug)),
                Ok(None) => "/auth/login/".to_owned(),
                Err(store) => return ApiError::from(Problem::internal(store.into())).into_response(),
            };
            back_with_notice(&session, &err, &back).await
        }
    }
}
