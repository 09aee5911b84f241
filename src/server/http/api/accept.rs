//! The ways into an organization: `GET/POST /api/0/accept-invite/…` (SPEC §5.2, §5.3),
//! both URL forms; the user's invitations (`/users/me/invitations/`) and join links
//! (`/join-links/{token}/`) of §5.9.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::Value;
use tower_sessions::Session;

use crate::server::http::client_ip::ClientIp;
use crate::server::http::extract::SignedIn;
use crate::server::http::json;
use crate::server::http::reply::ApiError;
use crate::server::service::accept::{self, InviteLink};
use crate::server::service::invitations::{self, InvitationError};
use crate::server::service::join_links;
use crate::server::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/accept-invite/{member_id}/{token}/", get(details_short).post(accept_short))
        .route("/accept-invite/{org_slug}/{member_id}/{token}/", get(details_long).post(accept_long))
        .route("/users/me/invitations/", get(my_invitations))
        .route("/users/me/invitations/{member_id}/", delete(decline_invitation))
        .route("/users/me/invitations/{member_id}/accept/", post(accept_invitation))
        .route("/join-links/{token}/", get(join_link_details).post(join_through_link))
}

/// A member id from a path: one that is not a number names none of the user's invitations.
fn invitation_id(raw: &str) -> Result<i64, InvitationError> {
    raw.parse().map_err(|_| InvitationError::NotFound)
}

async fn my_invitations(State(state): State<AppState>, SignedIn(user): SignedIn) -> Result<Json<Value>, ApiError> {
    let listed = invitations::list(&state, &user).await?;
    Ok(Json(Value::Array(listed.iter().map(json::invitation).collect())))
}

async fn accept_invitation(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ip: ClientIp,
    session: Session,
    Path(member_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ip = ip.to_string();
    let org = invitations::accept(&state, &session, user, invitation_id(&member_id)?, Some(&ip)).await?;
    Ok(Json(serde_json::json!({"orgSlug": org.slug})))
}

async fn decline_invitation(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ip: ClientIp,
    Path(member_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    invitations::decline(&state, &user, invitation_id(&member_id)?, Some(&ip.to_string())).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn join_link_details(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json::join_details(&join_links::details(&state, &session, &token).await?)))
}

async fn join_through_link(
    State(state): State<AppState>,
    ip: ClientIp,
    session: Session,
    Path(token): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let org = join_links::join(&state, &session, &token, Some(&ip.to_string())).await?;
    Ok(Json(serde_json::json!({"orgSlug": org.slug})))
}

async fn details(state: AppState, session: Session, link: InviteLink) -> Result<Json<Value>, ApiError> {
    let details = accept::details(&state, &session, &link).await?;
    Ok(Json(json::invite_details(&details)))
}

async fn details_short(
    State(state): State<AppState>,
    session: Session,
    Path((id, token)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    details(state, session, InviteLink::parse(None, &id, token)?).await
}

async fn details_long(
    State(state): State<AppState>,
    session: Session,
    Path((slug, id, token)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    details(state, session, InviteLink::parse(Some(slug), &id, token)?).await
}

async fn accept(state: AppState, session: Session, ip: ClientIp, link: InviteLink) -> Result<StatusCode, ApiError> {
    accept::accept(&state, &session, &link, Some(&ip.to_string())).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn accept_short(
    State(state): State<AppState>,
    ip: ClientIp,
    session: Session,
    Path((id, token)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    accept(state, session, ip, InviteLink::parse(None, &id, token)?).await
}

async fn accept_long(
    State(state): State<AppState>,
    ip: ClientIp,
    session: Session,
    Path((slug, id, token)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    accept(state, session, ip, InviteLink::parse(Some(slug), &id, token)?).await
}
