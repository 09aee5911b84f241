//! `GET/POST /api/0/accept-invite/…` (SPEC §5.2, §5.3), both URL forms.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;
use tower_sessions::Session;

use crate::server::http::client_ip::ClientIp;
use crate::server::http::json;
use crate::server::http::reply::ApiError;
use crate::server::service::accept::{self, InviteLink};
use crate::server::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/accept-invite/{member_id}/{token}/", get(details_short).post(accept_short))
        .route("/accept-invite/{org_slug}/{member_id}/{token}/", get(details_long).post(accept_long))
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
