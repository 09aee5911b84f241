//! Organizations, members and invites in the JSON API (SPEC §3, §5.1).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_sessions::Session;

use super::api::{require_user, rfc3339};
use super::error::{ApiError, ApiJson};
use crate::server::db::organizations::OrgRow;
use crate::server::db::{audit, members};
use crate::server::service::invites::{self, InviteError, InviteInput};
use crate::server::service::organizations::{self as orgs, MemberEntry, OrgError, SettingsInput};
use crate::server::service::requests::{self, JoinError};
use crate::server::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organizations/", post(create_org))
        .route("/organizations/{slug}/", get(org_details).put(update_org))
        .route("/organizations/{slug}/invite-requests/", get(list_requests).post(create_invite_request))
        .route(
            "/organizations/{slug}/invite-requests/{member_id}/",
            get(request_details).put(approve_request).delete(reject_request),
        )
        .route("/organizations/{slug}/join-request/", post(join_request))
        .route("/organizations/{slug}/members/", get(list_members).post(invite))
        .route("/organizations/{slug}/members/{member_id}/", delete(remove_member).put(update_member))
        .route("/organizations/{slug}/teams/", get(list_teams).post(create_team))
        .route("/organizations/{slug}/audit-logs/", get(audit_logs))
}

pub fn org_json(org: &OrgRow) -> Value {
    json!({
        "id": org.id.to_string(),
        "slug": org.slug,
        "name": org.name,
        "require2FA": org.require_2fa,
        "requireEmailVerification": org.require_email_verification,
        "allowJoinRequests": org.allow_join_requests,
        "defaultRole": org.default_role,
        "allowEmailMismatch": org.allow_email_mismatch,
        "memberLimit": org.member_limit,
        "dateCreated": rfc3339(org.created_at),
    })
}

/// The member JSON of SPEC §3. Never carries the token or the link.
pub fn member_json(entry: &MemberEntry, teams: Vec<String>) -> Value {
    let row = &entry.row;
    json!({
        "id": row.id,
        "email": row.email.clone().or_else(|| entry.user.as_ref().map(|u| u.email.clone())),
        "name": entry.user.as_ref().map(|u| u.name.clone()).or_else(|| row.email.clone()),
        "user": entry.user.as_ref().map(|u| json!({"id": u.id.to_string(), "email": u.email, "name": u.name})),
        "role": row.role,
        "pending": row.is_pending(),
        "expired": entry.expired,
        "inviteStatus": row.invite_status,
        "inviterName": entry.inviter_name,
        "teams": teams,
        "mailStatus": entry.mail_state,
        "dateCreated": rfc3339(row.created_at),
    })
}

impl From<OrgError> for ApiError {
    fn from(err: OrgError) -> Self {
        match err {
            OrgError::Invalid(fields) => ApiError::fields(fields),
            OrgError::NotFound => {
                ApiError::flow(StatusCode::NOT_FOUND, "The requested resource does not exist.", "not_found")
            }
            OrgError::Forbidden(why) => ApiError::flow(StatusCode::FORBIDDEN, why, "forbidden"),
            OrgError::SsoRequired { .. } => ApiError::flow(StatusCode::UNAUTHORIZED, err.to_string(), "sso_required"),
            OrgError::Internal(err) => ApiError::Internal(err),
        }
    }
}

impl From<InviteError> for ApiError {
    fn from(err: InviteError) -> Self {
        match err {
            InviteError::Invalid(fields) => ApiError::fields(fields),
            InviteError::NotFound => {
                ApiError::flow(StatusCode::NOT_FOUND, "The requested resource does not exist.", "not_found")
            }
            InviteError::Forbidden(why) => ApiError::flow(StatusCode::FORBIDDEN, why, "forbidden"),
            InviteError::Conflict(why) => ApiError::flow(StatusCode::CONFLICT, why, "conflict"),
            InviteError::RateLimited(why) => ApiError::rate_limited(why),
            InviteError::SeatLimit => ApiError::flow(StatusCode::CONFLICT, invites::SEAT_LIMIT, "seat_limit"),
            InviteError::SsoRequired(why) => ApiError::flow(StatusCode::UNAUTHORIZED, why, "sso_required"),
            InviteError::Internal(err) => ApiError::Internal(err),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOrgBody {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: Option<String>,
}

async fn create_org(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<CreateOrgBody>,
) -> Result<Response, ApiError> {
    let user = require_user(&state, &session).await?;
    let org = orgs::create(&state, &user, &body.name, body.slug.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(org_json(&org))).into_response())
}

async fn org_details(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = require_user(&state, &session).await?;
    let membership = orgs::membership(&state, &user, &slug).await?;
    let mut body = org_json(&membership.org);
    body["role"] = json!(membership.role.as_str());
    Ok(Json(body))
}

async fn team_slugs(state: &AppState, member_id: i64) -> Result<Vec<String>, ApiError> {
    let mut conn = state.db.conn().await.map_err(|e| ApiError::Internal(e.into()))?;
    members::team_slugs(&mut conn, member_id).await.map_err(|e| ApiError::Internal(e.into()))
}

async fn list_members(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = require_user(&state, &session).await?;
    let (_, entries) = orgs::members(&state, &user, &slug).await?;
    let mut out = Vec::new();
    for entry in &entries {
        out.push(member_json(entry, team_slugs(&state, entry.row.id).await?));
    }
    Ok(Json(Value::Array(out)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct InviteBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    teams: Vec<String>,
    #[serde(default = "yes")]
    send_invite: bool,
    #[serde(default)]
    expires_in_days: Option<i64>,
}

fn yes() -> bool {
    true
}

async fn invite(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<Response, ApiError> {
    let user = require_user(&state, &session).await?;
    let input = InviteInput {
        email: body.email,
        role: body.role,
        teams: body.teams,
        send_invite: body.send_invite,
        expires_in_days: body.expires_in_days,
    };
    let (row, _link) = invites::create(&state, &user, &slug, input).await?;
    let entry = MemberEntry {
        row,
        user: None,
        inviter_name: Some(user.name.clone()),
        expired: false,
        mail_state: Some("queued".into()),
    };
    let teams = team_slugs(&state, entry.row.id).await?;
    Ok((StatusCode::CREATED, Json(member_json(&entry, teams))).into_response())
}

async fn remove_member(
    State(state): State<AppState>,
    session: Session,
    Path((slug, member_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = require_user(&state, &session).await?;
    let member_id: i64 = member_id.parse().map_err(|_| InviteError::NotFound)?;
    invites::remove_member(&state, &user, &slug, member_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateMemberBody {
    #[serde(default)]
    reinvite: bool,
    #[serde(default)]
    regenerate: bool,
    #[serde(default)]
    role: Option<String>,
}

/// `PUT {reinvite}` resends (fresh link, same expiry); `PUT {regenerate}` also renews the expiry.
async fn update_member(
    State(state): State<AppState>,
    session: Session,
    Path((slug, member_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<UpdateMemberBody>,
) -> Result<Json<Value>, ApiError> {
    let user = require_user(&state, &session).await?;
    let member_id: i64 = member_id.parse().map_err(|_| InviteError::NotFound)?;
    let row = match (&body.role, body.reinvite || body.regenerate) {
        (Some(role), false) => invites::change_role(&state, &user, &slug, member_id, role).await?,
        (None, true) => invites::reissue(&state, &user, &slug, member_id, body.regenerate).await?,
        _ => {
            return Err(ApiError::flow(
                StatusCode::BAD_REQUEST,
                "Send one of {\"role\": \"…\"}, {\"reinvite\": true} or {\"regenerate\": true}.",
                "bad_request",
            ))
        }
    };
    let entry = MemberEntry {
        row,
        user: None,
        inviter_name: Some(user.name.clone()),
        expired: false,
        mail_state: Some("queued".into()),
    };
    let teams = team_slugs(&state, entry.row.id).await?;
    Ok(Json(member_json(&entry, teams)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamBody {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: Option<String>,
}

async fn list_teams(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = require_user(&state, &session).await?;
    let teams = orgs::teams(&state, &user, &slug).await?;
    Ok(Json(Value::Array(teams.into_iter().map(|(slug, name)| json!({"slug": slug, "name": name})).collect())))
}

async fn create_team(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<TeamBody>,
) -> Result<Response, ApiError> {
    let user = require_user(&state, &session).await?;
    let (team_slug, name) = orgs::create_team(&state, &user, &slug, &body.name, body.slug.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(json!({"slug": team_slug, "name": name}))).into_response())
}

async fn audit_logs(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = require_user(&state, &session).await?;
    let membership = orgs::membership(&state, &user, &slug).await?;
    if !membership.role.can_invite() {
        return Err(OrgError::Forbidden("Only owners and managers can read the audit log.").into());
    }
    let mut conn = state.db.conn().await.map_err(|e| ApiError::Internal(e.into()))?;
    let entries = audit::list(&mut conn, membership.org.id, 100).await.map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Json(Value::Array(
        entries
            .iter()
            .map(|e| {
                json!({
                    "id": e.id.to_string(),
                    "event": e.event,
                    "actor": e.actor_id.map(|id| json!({"id": id.to_string(), "name": e.actor_name})),
                    "targetObject": e.target_member_id,
                    "targetUser": e.target_user_id.map(|id| id.to_string()),
                    "ipAddress": e.ip,
                    "data": e.data,
                    "dateCreated": rfc3339(e.created_at),
                })
            })
            .collect(),
    )))
}

/// `null` and absent differ for the member limit: `null` removes it, absent keeps it.
fn double_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OrgSettingsBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "require2FA")]
    require_2fa: Option<bool>,
    #[serde(default)]
    require_email_verification: Option<bool>,
    #[serde(default)]
    allow_join_requests: Option<bool>,
    #[serde(default)]
    default_role: Option<String>,
    #[serde(default)]
    allow_email_mismatch: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    member_limit: Option<Option<i64>>,
}

async fn update_org(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<OrgSettingsBody>,
) -> Result<Json<Value>, ApiError> {
    let user = require_user(&state, &session).await?;
    let input = SettingsInput {
        name: body.name,
        require_2fa: body.require_2fa,
        require_email_verification: body.require_email_verification,
        allow_join_requests: body.allow_join_requests,
        default_role: body.default_role,
        allow_email_mismatch: body.allow_email_mismatch,
        member_limit: body.member_limit,
    };
    let org = orgs::update_settings(&state, &user, &slug, input).await?;
    Ok(Json(org_json(&org)))
}

async fn list_requests(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = require_user(&state, &session).await?;
    let (_, entries) = requests::list(&state, &user, &slug).await?;
    Ok(Json(Value::Array(entries.iter().map(|e| member_json(e, Vec::new())).collect())))
}

async fn request_details(
    State(state): State<AppState>,
    session: Session,
    Path((slug, member_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let user = require_user(&state, &session).await?;
    let member_id: i64 = member_id.parse().map_err(|_| InviteError::NotFound)?;
    let (_, entries) = requests::list(&state, &user, &slug).await?;
    let entry = entries.iter().find(|e| e.row.id == member_id).ok_or(InviteError::NotFound)?;
    Ok(Json(member_json(entry, Vec::new())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteRequestBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: Option<String>,
}

async fn create_invite_request(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<InviteRequestBody>,
) -> Result<Response, ApiError> {
    let user = require_user(&state, &session).await?;
    let row = requests::request_invite(&state, &user, &slug, &body.email, body.role.as_deref()).await?;
    let entry =
        MemberEntry { row, user: None, inviter_name: Some(user.name.clone()), expired: false, mail_state: None };
    Ok((StatusCode::CREATED, Json(member_json(&entry, Vec::new()))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    #[serde(default)]
    approve: bool,
    #[serde(default)]
    role: Option<String>,
}

async fn approve_request(
    State(state): State<AppState>,
    session: Session,
    Path((slug, member_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<ApproveBody>,
) -> Result<Json<Value>, ApiError> {
    let user = require_user(&state, &session).await?;
    let member_id: i64 = member_id.parse().map_err(|_| InviteError::NotFound)?;
    if !body.approve {
        return Err(ApiError::flow(
            StatusCode::BAD_REQUEST,
            "Send {\"approve\": true} to approve; DELETE rejects.",
            "bad_request",
        ));
    }
    let row = requests::approve(&state, &user, &slug, member_id, body.role.as_deref()).await?;
    let entry = MemberEntry {
        row,
        user: None,
        inviter_name: Some(user.name.clone()),
        expired: false,
        mail_state: Some("queued".into()),
    };
    Ok(Json(member_json(&entry, Vec::new())))
}

async fn reject_request(
    State(state): State<AppState>,
    session: Session,
    Path((slug, member_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = require_user(&state, &session).await?;
    let member_id: i64 = member_id.parse().map_err(|_| InviteError::NotFound)?;
    requests::reject(&state, &user, &slug, member_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl From<JoinError> for ApiError {
    fn from(err: JoinError) -> Self {
        match err {
            JoinError::NotFound => {
                ApiError::flow(StatusCode::NOT_FOUND, "The requested resource does not exist.", "not_found")
            }
            JoinError::NotAllowed => ApiError::flow(StatusCode::FORBIDDEN, err.to_string(), "join_requests_disabled"),
            JoinError::Invalid(fields) => ApiError::fields(fields),
            JoinError::RateLimited(why) => ApiError::rate_limited(why),
            JoinError::Internal(err) => ApiError::Internal(err),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinRequestBody {
    #[serde(default)]
    email: String,
}

/// Anonymous allowed; 204 whatever the address's standing, so membership is not revealed.
async fn join_request(
    State(state): State<AppState>,
    ip: super::client_ip::ClientIp,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<JoinRequestBody>,
) -> Result<StatusCode, ApiError> {
    requests::join_request(&state, &slug, &body.email, Some(&ip.to_string())).await?;
    Ok(StatusCode::NO_CONTENT)
}
