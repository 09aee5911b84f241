//! Accounts in the JSON API: registration, sign-in and out, the second factor, email
//! verification (SPEC §3, §4, §6, §7).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_sessions::Session;

use crate::server::domain::Password;
use crate::server::http::client_ip::ClientIp;
use crate::server::http::extract::{ApiJson, SignedIn};
use crate::server::http::json;
use crate::server::http::reply::ApiError;
use crate::server::service::accounts::{self, RegisterInput};
use crate::server::service::{emails, two_factor};
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

async fn register(
    State(state): State<AppState>,
    ip: ClientIp,
    session: Session,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Response, ApiError> {
    let input = RegisterInput { email: body.email, name: body.name, password: Password::new(body.password) };
    let signed = accounts::register(&state, &session, input, Some(&ip.to_string())).await?;
    Ok((StatusCode::CREATED, Json(json::user(&signed.user))).into_response())
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
    let signed =
        accounts::login(&state, &session, &body.username, &Password::new(body.password), None, Some(&ip)).await?;
    if signed.second_factor_required {
        return Ok(Json(json!({"2faRequired": true})));
    }
    Ok(Json(json!({"user": json::user(&signed.user)})))
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
    Ok(Json(json!({"user": json::user(&signed.user)})))
}

async fn totp_enrol_start(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    session: Session,
) -> Result<Json<Value>, ApiError> {
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
    SignedIn(user): SignedIn,
    session: Session,
    ApiJson(body): ApiJson<EnrolBody>,
) -> Result<Json<Value>, ApiError> {
    let ip = ip.to_string();
    let enrolled = two_factor::confirm_enrolment(&state, &session, &user, &body.secret, &body.otp, Some(&ip)).await?;
    Ok(Json(json!({
        "recoveryCodes": enrolled.recovery_codes,
        "joinedOrganization": enrolled.joined.map(|org| org.slug),
    })))
}

async fn resend_verification(State(state): State<AppState>, SignedIn(user): SignedIn) -> Result<StatusCode, ApiError> {
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
    // In a browser session signed in as that user with an invite pending, the invite is
    // accepted when §5.3 now allows it (as after 2FA enrolment).
    let joined = emails::accept_pending(&state, &session, &user, Some(&ip.to_string())).await?;
    Ok(Json(json!({"user": json::user(&user), "joinedOrganization": joined.map(|org| org.slug)})))
}

async fn logout(session: Session) -> Result<StatusCode, ApiError> {
    accounts::logout(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(SignedIn(user): SignedIn) -> Json<Value> {
    Json(json::user(&user))
}
