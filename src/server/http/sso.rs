//! Single sign-on over HTTP: the provider settings in the JSON API
//! (`/api/0/organizations/{slug}/auth-provider/`, `/api/0/users/me/identities/`), the form
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
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_sessions::Session;

use super::api::{require_user, rfc3339};
use super::client_ip::ClientIp;
use super::error::{ApiError, ApiJson};
use crate::server::auth::session;
use crate::server::domain::next::safe_next;
use crate::server::domain::sso::Intent;
use crate::server::domain::Password;
use crate::server::service::sso::{self, CallbackParams, ProviderInput, ProviderSettings, SsoError};
use crate::server::state::AppState;

/// Routes under `/api/0`.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/organizations/{slug}/auth-provider/", get(get_provider).put(put_provider).delete(delete_provider))
        .route("/users/me/identities/", get(my_identities))
        .route("/users/me/identities/{slug}/", axum::routing::delete(unlink))
}

/// Routes of the browser flow, at the site's root.
pub fn flow_router() -> Router<AppState> {
    Router::new()
        .route(sso::CALLBACK_PATH, get(callback))
        .route("/auth/login/{slug}/start/", get(start_page).post(start))
}

impl From<SsoError> for ApiError {
    fn from(err: SsoError) -> Self {
        match err {
            SsoError::NotFound => ApiError::flow(StatusCode::NOT_FOUND, err.to_string(), "not_found"),
            SsoError::Forbidden(why) => ApiError::flow(StatusCode::FORBIDDEN, why, "forbidden"),
            SsoError::Invalid(fields) => ApiError::fields(fields),
            SsoError::Refused { reason, message } => ApiError::flow(StatusCode::BAD_REQUEST, message, reason),
            SsoError::Internal(err) => ApiError::Internal(err),
        }
    }
}

/// The provider as the API shows it: the client secret is write-only.
fn provider_json(settings: &ProviderSettings) -> Result<Value, ApiError> {
    let Some(p) = &settings.provider else { return Err(SsoError::NotFound.into()) };
    Ok(json!({
        "issuer": p.issuer,
        "clientId": p.client_id,
        "clientSecretSet": true,
        "displayName": p.display_name,
        "requireSso": p.require_sso,
        "allowJitMembership": p.allow_jit_membership,
        "redirectUri": settings.redirect_uri,
        "loginUrl": format!("/auth/login/{}/", settings.org.slug),
        "youAreLinked": settings.actor_linked,
        "dateCreated": rfc3339(p.created_at),
        "dateUpdated": rfc3339(p.updated_at),
    }))
}

async fn get_provider(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = require_user(&state, &session).await?;
    Ok(Json(provider_json(&sso::settings(&state, &user, &slug).await?)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProviderBody {
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    require_sso: Option<bool>,
    #[serde(default)]
    allow_jit_membership: Option<bool>,
}

async fn put_provider(
    State(state): State<AppState>,
    ClientIp(peer): ClientIp,
    session: Session,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<ProviderBody>,
) -> Result<Json<Value>, ApiError> {
    let user = require_user(&state, &session).await?;
    let input = ProviderInput {
        issuer: body.issuer,
        client_id: body.client_id,
        client_secret: body.client_secret,
        display_name: body.display_name,
        require_sso: body.require_sso,
        allow_jit_membership: body.allow_jit_membership,
    };
    let saved = sso::save(&state, &user, &slug, input, Some(&peer.to_string())).await?;
    Ok(Json(provider_json(&saved)?))
}

async fn delete_provider(
    State(state): State<AppState>,
    ClientIp(peer): ClientIp,
    session: Session,
    Path(slug): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = require_user(&state, &session).await?;
    sso::remove(&state, &user, &slug, Some(&peer.to_string())).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn my_identities(State(state): State<AppState>, session: Session) -> Result<Json<Value>, ApiError> {
    let user = require_user(&state, &session).await?;
    let identities = sso::identities(&state, &user).await?;
    Ok(Json(Value::Array(
        identities
            .iter()
            .map(|i| {
                json!({
                    "organization": {"slug": i.org_slug, "name": i.org_name},
                    "provider": i.provider_name,
                    "email": i.email,
                    "dateLinked": rfc3339(i.linked_at),
                })
            })
            .collect(),
    )))
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
        return ApiError::flow(StatusCode::BAD_REQUEST, "The sign-in form was not understood.", "invalid")
            .into_response();
    };
    let Some(intent) = Intent::parse(form.intent.as_deref()) else {
        return ApiError::flow(StatusCode::BAD_REQUEST, "Unknown intent: use login or link.", "invalid")
            .into_response();
    };
    let password = form.password.map(Password::new);
    let ip = ip.to_string();
    match sso::start(&state, &session, &slug, intent, password.as_ref(), form.next.as_deref(), Some(&ip)).await {
        Ok(url) => see_other(&url),
        Err(SsoError::Internal(err)) => ApiError::Internal(err).into_response(),
        Err(err) => back_with_notice(&session, &err, &back).await,
    }
}

/// `DELETE /api/0/users/me/identities/{slug}/`: unlinks the signed-in user's identity at
/// that organization's provider.
async fn unlink(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    Path(slug): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = require_user(&state, &session).await?;
    sso::unlink(&state, &user, &slug, Some(&ip.to_string())).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remembers why a sign-in did not happen, for the page at `path` to show once, and goes there.
async fn back_with_notice(session: &Session, err: &SsoError, path: &str) -> Response {
    match session::set_sso_notice(session, &err.to_string()).await {
        Ok(()) => see_other(path),
        Err(store) => ApiError::Internal(store.into()).into_response(),
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
        Err(SsoError::Internal(err)) => ApiError::Internal(err).into_response(),
        Err(err) => {
            let back = match session::sso_last_org(&session).await {
                Ok(Some(slug)) => format!("/auth/login/{}/", path_segment(&slug)),
                Ok(None) => "/auth/login/".to_owned(),
                Err(store) => return ApiError::Internal(store.into()).into_response(),
            };
            back_with_notice(&session, &err, &back).await
        }
    }
}
