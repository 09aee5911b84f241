//! Helpers for the `#[server]` functions in `crate::app`: reach the state and the session,
//! and map use-case errors to [`AppError`] with the right HTTP status.

use std::collections::BTreeMap;

use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use super::client_ip::ClientIp;
use crate::app::wire::{AppError, AuditView, InviteView, MemberView, OrgView, UserView};
use crate::server::auth::password::BUSY_RETRY_AFTER_SECS;
use crate::server::db::audit;
use crate::server::db::users::UserRow;
use crate::server::service::accept::{AcceptError, Details};
use crate::server::service::accounts::{self, LoginError, RegisterError};
use crate::server::service::emails::VerifyError;
use crate::server::service::invites::InviteError;
use crate::server::service::limits::Limited;
use crate::server::service::organizations::{self, MemberEntry, Membership, OrgError};
use crate::server::service::requests::JoinError;
use crate::server::service::two_factor::TwoFactorError;
use crate::server::state::AppState;

/// The application state and the request's session.
pub async fn context() -> Result<(AppState, Session), AppError> {
    let state = use_context::<AppState>().ok_or_else(|| internal(anyhow::anyhow!("AppState not in context")))?;
    let session: Session =
        leptos_axum::extract().await.map_err(|e| internal(anyhow::anyhow!("session missing from request: {e}")))?;
    Ok((state, session))
}

/// Sets the status of a failed server-function response. A form posted without
/// JavaScript keeps the 302 back to its page (the error travels in the URL); a call from
/// the hydrated app gets the real status instead of the default 500.
pub fn set_error_status(status: StatusCode) {
    if let Some(res) = hydrated_call() {
        res.set_status(status);
    }
}

/// The response of a call from the hydrated app; `None` for a form posted without
/// JavaScript (it answers with a redirect whatever happens).
fn hydrated_call() -> Option<ResponseOptions> {
    let parts = use_context::<Parts>()?;
    let accepts_html =
        parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    if accepts_html {
        return None;
    }
    use_context::<ResponseOptions>()
}

/// An error to retry later: its status and `Retry-After` (a form posted without JavaScript
/// gets its redirect back to the form, which shows the sentence).
fn later(status: StatusCode, err: AppError, retry_after_secs: u64) -> AppError {
    if let Some(res) = hydrated_call() {
        res.set_status(status);
        res.insert_header(header::RETRY_AFTER, header::HeaderValue::from(retry_after_secs));
    }
    err
}

/// An error with its status set.
pub fn fail(status: StatusCode, err: AppError) -> AppError {
    set_error_status(status);
    err
}

/// Logs an unexpected failure and answers a generic 500.
pub fn internal(err: anyhow::Error) -> AppError {
    tracing::error!(error = ?err, "server function failed");
    fail(StatusCode::INTERNAL_SERVER_ERROR, AppError::Unexpected)
}

/// A 429 with the limit's sentence and `Retry-After`.
pub fn rate_limited(limited: Limited) -> AppError {
    later(StatusCode::TOO_MANY_REQUESTS, AppError::refused(limited.message, "rate_limited"), limited.retry_after_secs)
}

/// A 503 with `Retry-After`: the password-hashing queue is full.
pub fn busy() -> AppError {
    later(StatusCode::SERVICE_UNAVAILABLE, AppError::refused(super::error::BUSY, "busy"), BUSY_RETRY_AFTER_SECS)
}

/// The client's address for rate limits and the audit log, as every adapter sees it
/// ([`ClientIp`]: the peer, or what trusted proxies forwarded).
pub async fn client_ip() -> Option<String> {
    let state = use_context::<AppState>()?;
    let ip: ClientIp = leptos_axum::extract_with_state(&state).await.ok()?;
    Some(ip.to_string())
}

pub fn two_factor_error(err: TwoFactorError) -> AppError {
    match err {
        TwoFactorError::AlreadyEnrolled => fail(
            StatusCode::CONFLICT,
            AppError::refused("Two-factor authentication is already enabled for this account.", "already_enrolled"),
        ),
        TwoFactorError::NoPendingLogin => fail(
            StatusCode::BAD_REQUEST,
            AppError::refused(
                "No sign-in is waiting for a second factor; sign in with your password first.",
                "no_pending_login",
            ),
        ),
        TwoFactorError::Invalid(fields) => invalid(fields.into_map()),
        TwoFactorError::RateLimited(why) => rate_limited(why),
        TwoFactorError::Internal(err) => internal(err),
    }
}

pub fn verify_error(err: VerifyError) -> AppError {
    let details = err.to_string();
    match err {
        VerifyError::Invalid => fail(StatusCode::BAD_REQUEST, AppError::refused(details, "invalid")),
        VerifyError::Expired => fail(StatusCode::BAD_REQUEST, AppError::refused(details, "expired")),
        VerifyError::AlreadyUsed => fail(StatusCode::BAD_REQUEST, AppError::refused(details, "already_used")),
        VerifyError::AlreadyVerified => fail(StatusCode::CONFLICT, AppError::refused(details, "already_verified")),
        VerifyError::RateLimited(why) => rate_limited(why),
        VerifyError::Internal(err) => internal(err),
    }
}

pub fn join_error(err: JoinError) -> AppError {
    let details = err.to_string();
    match err {
        JoinError::NotFound => {
            fail(StatusCode::NOT_FOUND, AppError::refused("There is no such organization.", "not_found"))
        }
        JoinError::NotAllowed => fail(StatusCode::FORBIDDEN, AppError::refused(details, "join_requests_disabled")),
        JoinError::Invalid(fields) => invalid(fields.into_map()),
        JoinError::RateLimited(why) => rate_limited(why),
        JoinError::Internal(err) => internal(err),
    }
}

/// The values a form sent, to give back with its errors.
pub fn values<const N: usize>(pairs: [(&str, &String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v.clone())).collect()
}

/// Attaches the typed values to an `Invalid` error.
pub fn with_values(err: AppError, typed: BTreeMap<String, String>) -> AppError {
    match err {
        AppError::Invalid { fields, .. } => AppError::Invalid { fields, values: typed },
        other => other,
    }
}

fn invalid(fields: BTreeMap<String, Vec<String>>) -> AppError {
    fail(StatusCode::BAD_REQUEST, AppError::Invalid { fields, values: BTreeMap::new() })
}

pub fn register_error(err: RegisterError) -> AppError {
    match err {
        RegisterError::Invalid(fields) => invalid(fields.into_map()),
        RegisterError::NotAllowed => fail(
            StatusCode::FORBIDDEN,
            AppError::refused("Registration is not open on this site; use an invite link.", "registration_disabled"),
        ),
        RegisterError::AlreadySignedIn => {
            fail(StatusCode::CONFLICT, AppError::refused("You are already signed in.", "already_authenticated"))
        }
        RegisterError::RateLimited(why) => rate_limited(why),
        RegisterError::Busy => busy(),
        RegisterError::Internal(err) => internal(err),
    }
}

pub fn login_error(err: LoginError) -> AppError {
    match err {
        LoginError::BadCredentials => fail(
            StatusCode::UNAUTHORIZED,
            AppError::Invalid {
                fields: BTreeMap::from([("form".to_owned(), vec![accounts::BAD_CREDENTIALS.to_owned()])]),
                values: BTreeMap::new(),
            },
        ),
        LoginError::RateLimited(why) => rate_limited(why),
        LoginError::Busy => busy(),
        LoginError::Internal(err) => internal(err),
    }
}

pub fn user_view(user: &UserRow) -> UserView {
    UserView { id: user.id, email: user.email.clone(), name: user.name.clone(), email_verified: user.email_verified }
}

/// The signed-in user, or a 401 refusal.
pub async fn require_user(state: &AppState, session: &Session) -> Result<UserRow, AppError> {
    match accounts::current_user(state, session).await {
        Ok(user) => Ok(user),
        Err(accounts::CurrentUserError::Anonymous) => {
            Err(fail(StatusCode::UNAUTHORIZED, AppError::refused("Please sign in first.", "not_authenticated")))
        }
        Err(accounts::CurrentUserError::Internal(err)) => Err(internal(err)),
    }
}

pub fn org_error(err: OrgError) -> AppError {
    match err {
        OrgError::Invalid(fields) => invalid(fields.into_map()),
        OrgError::NotFound => fail(
            StatusCode::NOT_FOUND,
            AppError::refused("There is no such organization, or you are not a member.", "not_found"),
        ),
        OrgError::Forbidden(why) => fail(StatusCode::FORBIDDEN, AppError::refused(why, "forbidden")),
        OrgError::SsoRequired { ref org_name, ref provider, .. } => fail(
            StatusCode::UNAUTHORIZED,
            AppError::refused(
                format!("{org_name} requires signing in with {provider}. Link your account to continue."),
                "sso_required",
            ),
        ),
        OrgError::Internal(err) => internal(err),
    }
}

pub fn invite_error(err: InviteError) -> AppError {
    match err {
        InviteError::Invalid(fields) => invalid(fields.into_map()),
        InviteError::NotFound => {
            fail(StatusCode::NOT_FOUND, AppError::refused("There is no such invite.", "not_found"))
        }
        InviteError::Forbidden(why) => fail(StatusCode::FORBIDDEN, AppError::refused(why, "forbidden")),
        InviteError::Conflict(why) => invalid(BTreeMap::from([("email".to_owned(), vec![why.to_owned()])])),
        InviteError::RateLimited(why) => rate_limited(why),
        InviteError::SeatLimit => {
            fail(StatusCode::CONFLICT, AppError::refused(crate::server::service::invites::SEAT_LIMIT, "seat_limit"))
        }
        InviteError::SsoRequired(why) => fail(StatusCode::UNAUTHORIZED, AppError::refused(why, "sso_required")),
        InviteError::Internal(err) => internal(err),
    }
}

pub fn accept_error(err: AcceptError) -> AppError {
    match err {
        AcceptError::Refused(refusal) => {
            fail(StatusCode::BAD_REQUEST, AppError::refused(refusal.details(), refusal.reason()))
        }
        AcceptError::Expired { .. } => {
            fail(StatusCode::BAD_REQUEST, AppError::refused("This invite has expired.", "expired"))
        }
        AcceptError::Internal(err) => internal(err),
    }
}

pub fn org_view(membership: &Membership, entries: &[MemberEntry], teams: Vec<(String, String)>) -> OrgView {
    OrgView {
        teams,
        slug: membership.org.slug.clone(),
        name: membership.org.name.clone(),
        role: membership.role.as_str().to_owned(),
        can_invite: membership.role.can_invite(),
        invitee_joined: membership.org.first_invitee_joined_at.is_some(),
        members: entries
            .iter()
            .map(|e| MemberView {
                id: e.row.id,
                name: e.user.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
                email: e.row.email.clone().or_else(|| e.user.as_ref().map(|u| u.email.clone())).unwrap_or_default(),
                role: e.row.role.clone(),
                pending: e.row.is_pending(),
                expired: e.expired,
                inviter_name: e.inviter_name.clone(),
                mail_status: e.mail_state.clone(),
                invite_status: e.row.invite_status.clone(),
            })
            .collect(),
    }
}

pub async fn audit_views(state: &AppState, user: &UserRow, slug: &str) -> Result<Vec<AuditView>, AppError> {
    let membership = organizations::membership(state, user, slug).await.map_err(org_error)?;
    if !membership.role.can_invite() {
        return Err(org_error(OrgError::Forbidden("Only owners and managers can read the audit log.")));
    }
    let mut conn = state.db.conn().await.map_err(|e| internal(e.into()))?;
    let entries = audit::list(&mut conn, membership.org.id, 100).await.map_err(|e| internal(e.into()))?;
    Ok(entries
        .into_iter()
        .map(|e| AuditView {
            id: e.id,
            event: e.event,
            actor: e.actor_name,
            data: e.data.to_string(),
            ip: e.ip,
            date: super::api::rfc3339(e.created_at),
        })
        .collect())
}

pub fn invite_view(details: Result<Details, AcceptError>) -> Result<InviteView, AppError> {
    let blank = |reason: &str| InviteView {
        refusal: Some(reason.to_owned()),
        org_slug: String::new(),
        org_name: String::new(),
        invited_email: String::new(),
        inviter_name: None,
        needs_authentication: false,
        existing_member: false,
        email_mismatch: false,
        allow_email_mismatch: false,
        needs_2fa: false,
        needs_email_verification: false,
        signed_in_email: None,
        needs_sso: false,
        sso_provider: None,
        require_sso: false,
    };
    match details {
        Ok(d) => Ok(InviteView {
            refusal: None,
            org_slug: d.org.slug.clone(),
            org_name: d.org.name.clone(),
            invited_email: d.invited_email.clone(),
            inviter_name: d.inviter_name.clone(),
            needs_authentication: !d.visitor.signed_in,
            existing_member: d.visitor.existing_member,
            email_mismatch: d.visitor.signed_in && !d.visitor.email_matches,
            allow_email_mismatch: d.visitor.allow_email_mismatch,
            needs_2fa: d.visitor.needs_2fa,
            needs_email_verification: d.visitor.needs_email_verification,
            signed_in_email: d.signed_in_email.clone(),
            needs_sso: d.visitor.needs_sso,
            sso_provider: d.sso.as_ref().map(|s| s.provider_name.clone()),
            require_sso: d.sso.as_ref().is_some_and(|s| s.required),
        }),
        Err(AcceptError::Refused(refusal)) => Ok(blank(refusal.reason())),
        Err(AcceptError::Expired { inviter_name }) => Ok(InviteView { inviter_name, ..blank("expired") }),
        Err(AcceptError::Internal(err)) => Err(internal(err)),
    }
}

pub fn sso_error(err: crate::server::service::sso::SsoError) -> AppError {
    use crate::server::service::sso::SsoError;
    let details = err.to_string();
    match err {
        SsoError::NotFound => fail(StatusCode::NOT_FOUND, AppError::refused(details, "not_found")),
        SsoError::Forbidden(why) => fail(StatusCode::FORBIDDEN, AppError::refused(why, "forbidden")),
        SsoError::Invalid(fields) => invalid(fields.into_map()),
        SsoError::Refused { reason, message } => fail(StatusCode::BAD_REQUEST, AppError::refused(message, reason)),
        SsoError::Internal(err) => internal(err),
    }
}
