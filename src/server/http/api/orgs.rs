//! Organizations, members, invites, requests, teams and the audit log in the JSON API
//! (SPEC §3, §5.1, §5.7).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::server::db::audit;
use crate::server::db::members::MemberRow;
use crate::server::domain::Password;
use crate::server::http::client_ip::ClientIp;
use crate::server::http::extract::{ApiJson, SignedIn};
use crate::server::http::json;
use crate::server::http::paging::{self, PageQuery};
use crate::server::http::reply::ApiError;
use crate::server::service::invites::{self, BulkInput, InviteError, InviteInput};
use crate::server::service::join_links::{self, JoinLinkInput};
use crate::server::service::members;
use crate::server::service::organizations::{self as orgs, SettingsInput};
use crate::server::service::requests;
use crate::server::state::AppState;

/// A member id from a path: one that is not a number names no member.
fn member_id_of(raw: &str) -> Result<i64, InviteError> {
    raw.parse().map_err(|_| InviteError::NotFound)
}

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
        .route("/organizations/{slug}/members/me/", delete(leave))
        .route("/organizations/{slug}/members/bulk/", post(bulk_invite))
        .route("/organizations/{slug}/join-links/", get(list_join_links).post(create_join_link))
        .route("/organizations/{slug}/join-links/{id}/", delete(revoke_join_link))
        .route(
            "/organizations/{slug}/members/{member_id}/",
            get(member_details).delete(remove_member).put(update_member),
        )
        .route("/organizations/{slug}/members/{member_id}/teams/{team_slug}/", post(join_team).delete(leave_team))
        .route("/organizations/{slug}/transfer-ownership/", post(transfer_ownership))
        .route("/organizations/{slug}/teams/", get(list_teams).post(create_team))
        .route("/organizations/{slug}/audit-logs/", get(audit_logs))
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
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<CreateOrgBody>,
) -> Result<Response, ApiError> {
    let org = orgs::create(&state, &user, &body.name, body.slug.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(json::organization(&org))).into_response())
}

async fn org_details(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let membership = orgs::membership(&state, &user, &slug).await?;
    let mut body = json::organization(&membership.org);
    body["role"] = json!(membership.role.as_str());
    Ok(Json(body))
}

async fn list_members(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let slice = query.page()?;
    let membership = orgs::membership(&state, &user, &slug).await?;
    let page = orgs::members(&state, &membership, &slice).await?;
    let url = format!("{}/api/0/organizations/{}/members/", state.config.public_url(), membership.org.slug);
    Ok(paging::answer(&url, slice.per_page, page.map(|entry| json::member(&entry))))
}

async fn member_details(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((slug, member_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let member_id = member_id_of(&member_id)?;
    Ok(Json(json::member(&orgs::member(&state, &user, &slug, member_id).await?)))
}

/// The member JSON of a row just written, read back from the database (SPEC §3).
async fn written(state: &AppState, row: &MemberRow) -> Result<Json<Value>, ApiError> {
    Ok(Json(json::member(&orgs::read_back(state, row.organization_id, row.id).await?)))
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
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<Response, ApiError> {
    let input = InviteInput {
        email: body.email,
        role: body.role,
        teams: body.teams,
        send_invite: body.send_invite,
        expires_in_days: body.expires_in_days,
    };
    let (row, _link) = invites::create(&state, &user, &slug, input).await?;
    Ok((StatusCode::CREATED, written(&state, &row).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BulkBody {
    emails: Vec<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    teams: Vec<String>,
    #[serde(default = "yes")]
    send_invite: bool,
}

/// `207 Multi-Status`: each address has its own outcome (SPEC §5.9).
async fn bulk_invite(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<BulkBody>,
) -> Result<Response, ApiError> {
    let input = BulkInput { emails: body.emails, role: body.role, teams: body.teams, send_invite: body.send_invite };
    let mut results = Vec::new();
    for outcome in invites::bulk(&state, &user, &slug, input).await? {
        // Read back after its commit: one revoked meanwhile is reported without its JSON.
        let member = match &outcome.member {
            Some(row) => match orgs::read_back(&state, row.organization_id, row.id).await {
                Ok(entry) => Some(json::member(&entry)),
                Err(orgs::OrgError::NotFound) => None,
                Err(err) => return Err(err.into()),
            },
            None => None,
        };
        results.push(json!({
            "email": outcome.email,
            "status": outcome.status,
            "member": member,
            "reason": outcome.reason,
            "retryAfter": outcome.retry_after,
        }));
    }
    Ok((StatusCode::MULTI_STATUS, Json(json!({"results": results}))).into_response())
}

async fn list_join_links(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let now = crate::server::db::now();
    let links = join_links::list(&state, &user, &slug).await?;
    Ok(Json(Value::Array(links.iter().map(|l| json::join_link(l, now)).collect())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct JoinLinkBody {
    #[serde(default)]
    expires_in_days: Option<i64>,
    #[serde(default)]
    max_uses: Option<i64>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    email_domain: Option<String>,
}

async fn create_join_link(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<JoinLinkBody>,
) -> Result<Response, ApiError> {
    let input = JoinLinkInput {
        expires_in_days: body.expires_in_days,
        max_uses: body.max_uses,
        role: body.role,
        email_domain: body.email_domain,
    };
    let (link, url) = join_links::create(&state, &user, &slug, input).await?;
    let mut body = json::join_link(&link, crate::server::db::now());
    body["url"] = json!(url);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn revoke_join_link(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((slug, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    join_links::revoke(&state, &user, &slug, member_id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((slug, member_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let member_id = member_id_of(&member_id)?;
    members::remove(&state, &user, &slug, member_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn leave(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
) -> Result<StatusCode, ApiError> {
    members::leave(&state, &user, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TransferBody {
    member_id: i64,
    #[serde(default)]
    password: String,
}

async fn transfer_ownership(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<TransferBody>,
) -> Result<Json<Value>, ApiError> {
    let password = Password::new(body.password);
    let row = members::transfer_ownership(&state, &user, &slug, body.member_id, &password).await?;
    written(&state, &row).await
}

async fn join_team(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((slug, member_id, team_slug)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let member_id = member_id_of(&member_id)?;
    let row = members::set_team(&state, &user, &slug, member_id, &team_slug, true).await?;
    Ok((StatusCode::CREATED, written(&state, &row).await?).into_response())
}

async fn leave_team(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((slug, member_id, team_slug)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let member_id = member_id_of(&member_id)?;
    let row = members::set_team(&state, &user, &slug, member_id, &team_slug, false).await?;
    written(&state, &row).await
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
    SignedIn(user): SignedIn,
    Path((slug, member_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<UpdateMemberBody>,
) -> Result<Json<Value>, ApiError> {
    let member_id = member_id_of(&member_id)?;
    let row = match (&body.role, body.reinvite || body.regenerate) {
        (Some(role), false) => members::change_role(&state, &user, &slug, member_id, role).await?,
        (None, true) => invites::reissue(&state, &user, &slug, member_id, body.regenerate).await?,
        _ => {
            return Err(ApiError::http(
                StatusCode::BAD_REQUEST,
                "Send one of {\"role\": \"…\"}, {\"reinvite\": true} or {\"regenerate\": true}.",
                "bad_request",
            ))
        }
    };
    written(&state, &row).await
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
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let membership = orgs::membership(&state, &user, &slug).await?;
    let teams = orgs::teams(&state, &membership).await?;
    Ok(Json(Value::Array(teams.into_iter().map(|(slug, name)| json!({"slug": slug, "name": name})).collect())))
}

async fn create_team(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<TeamBody>,
) -> Result<Response, ApiError> {
    let (team_slug, name) = orgs::create_team(&state, &user, &slug, &body.name, body.slug.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(json!({"slug": team_slug, "name": name}))).into_response())
}

/// The audit log's filters: an event name, an actor's user id.
#[derive(Deserialize)]
struct AuditQuery {
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    actor: Option<String>,
}

async fn audit_logs(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
    Query(paging_query): Query<PageQuery>,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let slice = paging_query.page()?;
    let event = query.event.filter(|e| !e.is_empty());
    let actor_id = match query.actor.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| ApiError::http(StatusCode::BAD_REQUEST, "actor must be a user id.", "invalid_actor"))?,
        ),
    };
    let filter = audit::Filter { event, actor_id };
    let (membership, page) = orgs::audit_log(&state, &user, &slug, &filter, &slice).await?;
    let mut url = url::Url::parse(&format!(
        "{}/api/0/organizations/{}/audit-logs/",
        state.config.public_url(),
        membership.org.slug
    ))
    .map_err(|err| ApiError::from(crate::server::service::problem::Problem::internal(err.into())))?;
    if let Some(event) = &filter.event {
        url.query_pairs_mut().append_pair("event", event);
    }
    if let Some(actor) = filter.actor_id {
        url.query_pairs_mut().append_pair("actor", &actor.to_string());
    }
    Ok(paging::answer(url.as_str(), slice.per_page, page.map(|entry| json::audit_entry(&entry))))
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
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<OrgSettingsBody>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json::organization(&org)))
}

async fn list_requests(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (_, entries) = requests::list(&state, &user, &slug).await?;
    Ok(Json(Value::Array(entries.iter().map(json::member).collect())))
}

async fn request_details(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((slug, member_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let member_id = member_id_of(&member_id)?;
    let (_, entries) = requests::list(&state, &user, &slug).await?;
    let entry = entries.iter().find(|e| e.row.id == member_id).ok_or(InviteError::NotFound)?;
    Ok(Json(json::member(entry)))
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
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<InviteRequestBody>,
) -> Result<Response, ApiError> {
    let row = requests::request_invite(&state, &user, &slug, &body.email, body.role.as_deref()).await?;
    Ok((StatusCode::CREATED, written(&state, &row).await?).into_response())
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
    SignedIn(user): SignedIn,
    Path((slug, member_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<ApproveBody>,
) -> Result<Json<Value>, ApiError> {
    let member_id = member_id_of(&member_id)?;
    if !body.approve {
        return Err(ApiError::http(
            StatusCode::BAD_REQUEST,
            "Send {\"approve\": true} to approve; DELETE rejects.",
            "bad_request",
        ));
    }
    let row = requests::approve(&state, &user, &slug, member_id, body.role.as_deref()).await?;
    written(&state, &row).await
}

async fn reject_request(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((slug, member_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let member_id = member_id_of(&member_id)?;
    requests::reject(&state, &user, &slug, member_id).await?;
    Ok(StatusCode::NO_CONTENT)
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
    ip: ClientIp,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<JoinRequestBody>,
) -> Result<StatusCode, ApiError> {
    requests::join_request(&state, &slug, &body.email, Some(&ip.to_string())).await?;
    Ok(StatusCode::NO_CONTENT)
}
