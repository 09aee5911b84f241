//! The JSON API under `/api/0/` (SPEC §3). Handlers are adapters: state and session in,
//! one use case called, its error mapped.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_sessions::Session;

use super::error::{ApiError, ApiJson};
use crate::server::db::users::UserRow;
use crate::server::domain::Password;
use crate::server::service::accounts::{self, CurrentUserError, LoginError, RegisterError, RegisterInput};
use crate::server::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register/", post(register))
        .route("/auth/login/", post(login))
        .route("/auth/", delete(logout))
        .route("/users/me/", get(me))
        .merge(super::api_orgs::router())
        .merge(super::api_accept::router())
}

/// The signed-in user, or 401.
pub async fn require_user(state: &AppState, session: &Session) -> Result<UserRow, ApiError> {
    match accounts::current_user(state, session).await {
        Ok(user) => Ok(user),
        Err(CurrentUserError::Anonymous) => Err(ApiError::unauthenticated()),
        Err(CurrentUserError::Internal(err)) => Err(ApiError::Internal(err)),
    }
}

/// The user as the API shows them (Sentry's shape, ids as strings).
pub fn user_json(user: &UserRow) -> Value {
    json!({
        "id": user.id.to_string(),
        "email": user.email,
        "username": user.email,
        "name": user.name,
        "isActive": user.is_active,
        "isSuperuser": user.is_superuser,
        "hasPasswordAuth": user.password_hash.is_some(),
        "emailVerified": user.email_verified,
        "dateJoined": rfc3339(user.created_at),
    })
}

/// A stored Unix time as RFC 3339.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

impl From<RegisterError> for ApiError {
    fn from(err: RegisterError) -> Self {
        match err {
            RegisterError::Invalid(fields) => ApiError::fields(fields),
            RegisterError::NotAllowed => ApiError::flow(
                StatusCode::FORBIDDEN,
                "Registration is not open on this site; use an invite link.",
                "registration_disabled",
            ),
            RegisterError::AlreadySignedIn => {
                ApiError::flow(StatusCode::CONFLICT, "You are already signed in.", "already_authenticated")
            }
            RegisterError::Internal(err) => ApiError::Internal(err),
        }
    }
}

async fn register(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Response, ApiError> {
    let input = RegisterInput { email: body.email, name: body.name, password: Password::new(body.password) };
    let signed = accounts::register(&state, &session, input).await?;
    Ok((StatusCode::CREATED, Json(user_json(&signed.user))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<Value>, ApiError> {
    match accounts::login(&state, &session, &body.username, &Password::new(body.password), None).await {
        Ok(signed) => Ok(Json(json!({"user": user_json(&signed.user)}))),
        Err(LoginError::BadCredentials) => Err(ApiError::flow(
            StatusCode::UNAUTHORIZED,
            accounts::BAD_CREDENTIALS,
            "invalid_credentials",
        )),
        Err(LoginError::Internal(err)) => Err(ApiError::Internal(err)),
    }
}

async fn logout(session: Session) -> Result<StatusCode, ApiError> {
    accounts::logout(&session).await.map_err(|e| ApiError::Internal(e.into()))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(state): State<AppState>, session: Session) -> Result<Json<Value>, ApiError> {
    match accounts::current_user(&state, &session).await {
        Ok(user) => Ok(Json(user_json(&user))),
        Err(CurrentUserError::Anonymous) => Err(ApiError::unauthenticated()),
        Err(CurrentUserError::Internal(err)) => Err(ApiError::Internal(err)),
    }
}
