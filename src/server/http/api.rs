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

use super::client_ip::ClientIp;
use super::error::{ApiError, ApiJson};
use crate::server::db::users::UserRow;
use crate::server::domain::Password;
use crate::server::service::accounts::{self, CurrentUserError, LoginError, RegisterError, RegisterInput};
use crate::server::service::emails::{self, VerifyError};
use crate::server::service::two_factor::{self, TwoFactorError};
use crate::server::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register/", post(register))
        .route("/auth/login/", post(login))
        .route("/auth/", delete(logout))
        .route("/users/me/", get(me))
        .route("/auth/2fa/", post(second_factor))
        .route("/users/me/authenticators/totp/enroll/", get(totp_enrol_start).post(totp_enrol_confirm))
        .route("/users/me/emails/verify/", post(resend_verification))
        .route("/auth/verify-email/", post(verify_email))
        .merge(super::api_orgs::router())
        .merge(super::api_accept::router())
        .merge(super::sso::api_router())
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
            RegisterError::RateLimited(why) => ApiError::rate_limited(why),
            RegisterError::Busy => ApiError::busy(),
            RegisterError::Internal(err) => ApiError::Internal(err),
        }
    }
}

async fn register(
    State(state): State<AppState>,
    ip: ClientIp,
    session: Session,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Response, ApiError> {
    let input = RegisterInput { email: body.email, name: body.name, password: Password::new(body.password) };
    let signed = accounts::register(&state, &session, input, Some(&ip.to_string())).await?;
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
    ip: ClientIp,
    session: Session,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<Value>, ApiError> {
    let ip = ip.to_string();
    match accounts::login(&state, &session, &body.username, &Password::new(body.password), None, Some(&ip)).await {
        Ok(signed) if signed.second_factor_required => Ok(Json(json!({"2faRequired": true}))),
        Ok(signed) => Ok(Json(json!({"user": user_json(&signed.user)}))),
        Err(LoginError::BadCredentials) => {
            Err(ApiError::flow(StatusCode::UNAUTHORIZED, accounts::BAD_CREDENTIALS, "invalid_credentials"))
        }
        Err(LoginError::RateLimited(why)) => Err(ApiError::rate_limited(why)),
        Err(LoginError::Busy) => Err(ApiError::busy()),
        Err(LoginError::Internal(err)) => Err(ApiError::Internal(err)),
    }
}

impl From<TwoFactorError> for ApiError {
    fn from(err: TwoFactorError) -> Self {
        match err {
            TwoFactorError::AlreadyEnrolled => ApiError::flow(
                StatusCode::CONFLICT,
                "Two-factor authentication is already enabled for this account.",
                "already_enrolled",
            ),
            TwoFactorError::NoPendingLogin => ApiError::flow(
                StatusCode::BAD_REQUEST,
                "No sign-in is waiting for a second factor; sign in with your password first.",
                "no_pending_login",
            ),
            TwoFactorError::Invalid(fields) => ApiError::fields(fields),
            TwoFactorError::RateLimited(why) => ApiError::rate_limited(why),
            TwoFactorError::Internal(err) => ApiError::Internal(err),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OtpBody {
    #[serde(default)]
    otp: String,
}

async fn second_factor(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<OtpBody>,
) -> Result<Json<Value>, ApiError> {
    let signed = two_factor::second_step(&state, &session, &body.otp).await?;
    Ok(Json(json!({"user": user_json(&signed.user)})))
}

async fn totp_enrol_start(State(state): State<AppState>, session: Session) -> Result<Json<Value>, ApiError> {
    let user = require_user(&state, &session).await?;
    let enrolment = two_factor::start_enrolment(&state, &session, &user).await?;
    Ok(Json(json!({"secret": enrolment.secret, "otpauthUrl": enrolment.otpauth_url})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolBody {
    #[serde(default)]
    secret: String,
    #[serde(default)]
    otp: String,
}

async fn totp_enrol_confirm(
    State(state): State<AppState>,
    ip: ClientIp,
    session: Session,
    ApiJson(body): ApiJson<EnrolBody>,
) -> Result<Json<Value>, ApiError> {
    let user = require_user(&state, &session).await?;
    let ip = ip.to_string();
    let enrolled = two_factor::confirm_enrolment(&state, &session, &user, &body.secret, &body.otp, Some(&ip)).await?;
    Ok(Json(json!({
        "recoveryCodes": enrolled.recovery_codes,
        "joinedOrganization": enrolled.joined.map(|org| org.slug),
    })))
}

impl From<VerifyError> for ApiError {
    fn from(err: VerifyError) -> Self {
        let details = err.to_string();
        match err {
            VerifyError::Invalid => ApiError::flow(StatusCode::BAD_REQUEST, details, "invalid"),
            VerifyError::Expired => ApiError::flow(StatusCode::BAD_REQUEST, details, "expired"),
            VerifyError::AlreadyUsed => ApiError::flow(StatusCode::BAD_REQUEST, details, "already_used"),
            VerifyError::AlreadyVerified => ApiError::flow(StatusCode::CONFLICT, details, "already_verified"),
            VerifyError::RateLimited(why) => ApiError::rate_limited(why),
            VerifyError::Internal(err) => ApiError::Internal(err),
        }
    }
}

async fn resend_verification(State(state): State<AppState>, session: Session) -> Result<StatusCode, ApiError> {
    let user = require_user(&state, &session).await?;
    emails::resend(&state, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    #[serde(default)]
    token: String,
}

async fn verify_email(
    State(state): State<AppState>,
    ip: ClientIp,
    session: Session,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<Json<Value>, ApiError> {
    let user = emails::verify(&state, &body.token).await?;
    let joined = accept_pending_after_verification(&state, &session, &user, &ip.to_string()).await?;
    Ok(Json(json!({"user": user_json(&user), "joinedOrganization": joined})))
}

/// After a verification in a browser session signed in as that user with an invite
/// pending, the invite is accepted when §5.3 now allows it (as after 2FA enrolment).
async fn accept_pending_after_verification(
    state: &AppState,
    session: &Session,
    user: &UserRow,
    ip: &str,
) -> Result<Option<String>, ApiError> {
    let joined = emails::accept_pending(state, session, user, Some(ip)).await?;
    Ok(joined.map(|org| org.slug))
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
