//! Accounts in the JSON API: registration, sign-in and out, the second factor, email
//! verification, and self-service: password reset and change, name and address, sessions,
//! recovery codes, turning 2FA off, deleting the account (SPEC §3, §4, §6, §7).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_sessions::Session;

use crate::server::domain::Password;
use crate::server::http::client_ip::ClientIp;
use crate::server::http::extract::{ApiJson, SignedIn};
use crate::server::http::json;
use crate::server::http::paging::{self, PageQuery};
use crate::server::http::reply::ApiError;
use crate::server::service::accounts::{self, RegisterInput};
use crate::server::service::{account, emails, two_factor};
use crate::server::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register/", post(register))
        .route("/auth/login/", post(login))
        .route("/auth/", delete(logout))
        .route("/users/me/", get(me).put(rename).delete(delete_account))
        .route("/auth/2fa/", post(second_factor))
        .route("/users/me/authenticators/totp/enroll/", get(totp_enrol_start).post(totp_enrol_confirm))
        .route("/users/me/emails/verify/", post(resend_verification))
        .route("/auth/verify-email/", post(verify_email))
        .route("/auth/password-reset/", post(request_reset))
        .route("/auth/password-reset/confirm/", post(confirm_reset))
        .route("/users/me/password/", put(change_password))
        .route("/users/me/email/", post(change_email))
        .route("/users/me/sessions/", get(sessions).delete(end_other_sessions))
        .route("/users/me/sessions/{id}/", delete(end_session))
        .route("/users/me/authenticators/totp/", delete(disable_totp))
        .route("/users/me/authenticators/recovery-codes/", post(renew_recovery_codes))
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
    let input =
        RegisterInput { email: body.email, name: body.name, password: Password::new(body.password), join_link: false };
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailBody {
    #[serde(default)]
    email: String,
}

async fn request_reset(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<StatusCode, ApiError> {
    account::request_reset(&state, &body.email, Some(&ip.to_string())).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ResetBody {
    #[serde(default)]
    user_id: serde_json::Value,
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

async fn confirm_reset(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<StatusCode, ApiError> {
    // Sentry's clients send ids as strings; numbers are taken too. Anything else names no
    // account, like a wrong link.
    let user_id = match &body.user_id {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    let user_id = user_id.ok_or(account::AccountError::LinkInvalid)?;
    account::reset_password(&state, &session, user_id, &body.token, &Password::new(body.password)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PasswordChangeBody {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_new: String,
}

async fn change_password(
    State(state): State<AppState>,
    ip: ClientIp,
    SignedIn(user): SignedIn,
    session: Session,
    ApiJson(body): ApiJson<PasswordChangeBody>,
) -> Result<StatusCode, ApiError> {
    let (current, new) = (Password::new(body.password), Password::new(body.password_new));
    account::change_password(&state, &session, &user, &current, &new, Some(&ip.to_string())).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameBody {
    #[serde(default)]
    name: String,
}

async fn rename(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<NameBody>,
) -> Result<Json<Value>, ApiError> {
    let user = account::rename(&state, &user, &body.name).await?;
    Ok(Json(json::user(&user)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailChangeBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn change_email(
    State(state): State<AppState>,
    ip: ClientIp,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<EmailChangeBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let password = Password::new(body.password);
    account::request_email_change(&state, &user, &body.email, &password, Some(&ip.to_string())).await?;
    let details = "Follow the link sent to the new address to finish the change.";
    Ok((StatusCode::ACCEPTED, Json(json!({"details": details}))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    #[serde(default)]
    password: String,
}

async fn delete_account(
    State(state): State<AppState>,
    ip: ClientIp,
    SignedIn(user): SignedIn,
    session: Session,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    account::delete_account(&state, &session, &user, &Password::new(body.password), Some(&ip.to_string())).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sessions(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    session: Session,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let page = query.page()?;
    let listed = account::sessions(&state, &session, &user).await?;
    let url = format!("{}/api/0/users/me/sessions/", state.config.public_url());
    Ok(paging::answer(&url, page.per_page, page.offset_page(listed.iter().map(json::session).collect())))
}

async fn end_session(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    session: Session,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    account::end_session(&state, &session, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn end_other_sessions(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    session: Session,
) -> Result<StatusCode, ApiError> {
    account::end_other_sessions(&state, &session, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn disable_totp(
    State(state): State<AppState>,
    ip: ClientIp,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    account::disable_two_factor(&state, &user, &Password::new(body.password), Some(&ip.to_string())).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn renew_recovery_codes(
    State(state): State<AppState>,
    ip: ClientIp,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Json<Value>, ApiError> {
    let codes =
        account::renew_recovery_codes(&state, &user, &Password::new(body.password), Some(&ip.to_string())).await?;
    Ok(Json(json!({"recoveryCodes": codes})))
}
