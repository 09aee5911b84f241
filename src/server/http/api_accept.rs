//! `GET/POST /api/0/accept-invite/…` (SPEC §5.2, §5.3), both URL forms.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tower_sessions::Session;

use super::client_ip::ClientIp;
use super::error::ApiError;
use crate::server::domain::invite::Refusal;
use crate::server::service::accept::{self, AcceptError, Details, InviteLink};
use crate::server::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/accept-invite/{member_id}/{token}/", get(details_short).post(accept_short))
        .route("/accept-invite/{org_slug}/{member_id}/{token}/", get(details_long).post(accept_long))
}

/// A link from URL parts; a member id that is not a number is just an invalid link.
pub fn link(org_slug: Option<String>, member_id: &str, token: String) -> Result<InviteLink, AcceptError> {
    let member_id = member_id.parse().map_err(|_| AcceptError::Refused(Refusal::Invalid))?;
    Ok(InviteLink { org_slug, member_id, token })
}

impl From<AcceptError> for ApiError {
    fn from(err: AcceptError) -> Self {
        match err {
            AcceptError::Refused(refusal) => {
                ApiError::flow(StatusCode::BAD_REQUEST, refusal.details(), refusal.reason())
            }
            AcceptError::Expired { .. } => {
                ApiError::flow(StatusCode::BAD_REQUEST, Refusal::Expired.details(), Refusal::Expired.reason())
            }
            AcceptError::Internal(err) => ApiError::Internal(err),
        }
    }
}

/// The details JSON of SPEC §5.2.
pub fn details_json(d: &Details) -> Value {
    json!({
        "orgSlug": d.org.slug,
        "orgName": d.org.name,
        "invitedEmail": d.invited_email,
        "inviterName": d.inviter_name,
        "needsAuthentication": !d.visitor.signed_in,
        "existingMember": d.visitor.existing_member,
        "emailMismatch": d.visitor.signed_in && !d.visitor.email_matches,
        "needs2fa": d.visitor.needs_2fa,
        "needsEmailVerification": d.visitor.needs_email_verification,
        "needsSso": d.visitor.needs_sso,
        "hasAuthProvider": d.sso.is_some(),
        "requireSso": d.sso.as_ref().is_some_and(|s| s.required),
        "ssoProvider": d.sso.as_ref().map(|s| s.provider_name.clone()),
    })
}

async fn details(
    state: AppState,
    session: Session,
    link: Result<InviteLink, AcceptError>,
) -> Result<Json<Value>, ApiError> {
    let details = accept::details(&state, &session, &link?).await?;
    Ok(Json(details_json(&details)))
}

async fn details_short(
    State(state): State<AppState>,
    session: Session,
    Path((id, token)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    details(state, session, link(None, &id, token)).await
}

async fn details_long(
    State(state): State<AppState>,
    session: Session,
    Path((slug, id, token)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    details(state, session, link(Some(slug), &id, token)).await
}

async fn do_accept(
    state: AppState,
    session: Session,
    ip: String,
    link: Result<InviteLink, AcceptError>,
) -> Result<StatusCode, ApiError> {
    accept::accept(&state, &session, &link?, Some(&ip)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn accept_short(
    State(state): State<AppState>,
    ip: ClientIp,
    session: Session,
    Path((id, token)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    do_accept(state, session, ip.to_string(), link(None, &id, token)).await
}

async fn accept_long(
    State(state): State<AppState>,
    ip: ClientIp,
    session: Session,
    Path((slug, id, token)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    do_accept(state, session, ip.to_string(), link(Some(slug), &id, token)).await
}
