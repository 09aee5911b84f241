//! Invite requests (a member asks for someone to be invited) and join requests (anyone
//! asks to join an organization that allows it), SPEC §5.7. Both are pending rows of the
//! member table without a token; approving gives the row a token and sends the invite.

use serde_json::json;

use super::invites::{self, check_seat, find_pending, is_member, InviteError, InviteSent, ALREADY_MEMBER};
use super::limits;
use super::organizations::{self as orgs, MemberEntry, Membership};
use super::problem::{Failure, Kind, Problem, INVALID};
use crate::model::InviteStatus;
use crate::server::db::users::UserRow;
use crate::server::db::{self, audit, members, members::MemberRow, organizations};
use crate::server::domain::invite::DAY_SECS;
use crate::server::domain::{EmailAddress, FieldErrors, Role};
use crate::server::state::AppState;

pub const INVITE_REQUEST: InviteStatus = InviteStatus::RequestedToBeInvited;
pub const JOIN_REQUEST: InviteStatus = InviteStatus::RequestedToJoin;
pub const ALREADY_PENDING: &str = "This address already has a pending invite or request.";

/// A member asks for an address to be invited (any member may, 20 times a day).
pub async fn request_invite(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    email: &str,
    role: Option<&str>,
) -> Result<MemberRow, InviteError> {
    let membership = orgs::membership(state, actor, slug).await?;
    let org = &membership.org;
    let (email, role) = validate_request(org, email, role)?;
    // At most 20 a day per member and organization (SPEC §5.7), counted before the work.
    limits::INVITE_REQUEST_MEMBER.consume(state, &format!("{}:{}", org.id, actor.id)).await?;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    if is_member(&mut tx, org.id, email.as_str()).await? {
        return Err(InviteError::AddressTaken(ALREADY_MEMBER));
    }
    let request = members::NewRequest {
        org_id: org.id,
        email: email.as_str(),
        role,
        requester_id: Some(actor.id),
        status: INVITE_REQUEST,
        now,
    };
    let data = json!({"email": email.as_str(), "role": role.as_str()});
    let Some(row) = file_request(
        &mut tx,
        request,
        ("invite-request.create", "invite_request.created"),
        actor.client_ip.as_deref(),
        data,
    )
    .await?
    else {
        return Err(InviteError::AddressTaken(ALREADY_PENDING));
    };
    let subject = format!("{} asked to invite {} to {}", actor.name, email.as_str(), org.name);
    let asked = format!(
        "{} ({}) asked for {} to be invited to {} as {}.",
        actor.name,
        actor.email,
        email.as_str(),
        org.name,
        role.as_str()
    );
    notify_admins(&mut tx, state, org, &subject, &asked, now).await?;
    tx.commit().await?;
    Ok(row)
}

/// An invite request's input, checked: the address, and the role asked for (the
/// organization's default role when none is).
fn validate_request(
    org: &organizations::OrgRow,
    email: &str,
    role: Option<&str>,
) -> Result<(EmailAddress, Role), InviteError> {
    let mut errors = FieldErrors::new();
    let email = errors.check("email", EmailAddress::parse(email));
    let role = match role.map(str::trim).filter(|r| !r.is_empty()) {
        None => Some(org.default_role),
        Some(raw) => errors.check("role", raw.parse::<Role>().map_err(|e| vec![e])),
    };
    let (Some(email), Some(role), true) = (email, role, errors.is_empty()) else {
        return Err(InviteError::Invalid(errors));
    };
    Ok((email, role))
}

/// Writes a request row, its audit entry (`event`, by the requester, from `ip`) and its
/// event (`announced`, SPEC §8); `None` when the address already has a pending row (the
/// unique index decided).
async fn file_request(
    conn: &mut db::Conn,
    request: members::NewRequest<'_>,
    (event, announced): (&str, &str),
    ip: Option<&str>,
    data: serde_json::Value,
) -> Result<Option<MemberRow>, sqlx::Error> {
    let (org_id, actor_id, email, now) = (request.org_id, request.requester_id, request.email, request.now);
    let row = match members::insert_request(conn, request).await {
        Ok(row) => row,
        Err(err) if db::is_unique_violation(&err) => return Ok(None),
        Err(err) => return Err(err),
    };
    audit::insert(
        conn,
        audit::NewEntry {
            org_id,
            actor_id,
            event,
            target_member_id: Some(row.id),
            target_user_id: None,
            target_email: Some(email),
            ip,
            data,
            now,
        },
    )
    .await?;
    let payload = json!({"memberId": row.id, "email": email, "role": row.role, "requesterId": actor_id});
    db::outbox::queue_event(conn, announced, org_id, &payload, now).await?;
    Ok(Some(row))
}

/// Mails the organization's owners and managers about a new request: what was `asked`,
/// then where to approve or reject it.
async fn notify_admins(
    conn: &mut db::Conn,
    state: &AppState,
    org: &organizations::OrgRow,
    subject: &str,
    asked: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let page = format!("{}/organizations/{}/members/", state.config.public_url(), org.slug);
    let mail = super::mails::request_filed(subject, asked, &page);
    for to in members::admin_emails(conn, org.id).await? {
        super::mails::queue(conn, &to, &mail, None, now).await?;
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("There is no such organization.")]
    NotFound,
    #[error("This organization does not accept join requests.")]
    NotAllowed,
    #[error("{}", INVALID)]
    Invalid(FieldErrors),
    #[error("{0}")]
    RateLimited(limits::Limited),
    #[error(transparent)]
    Internal(anyhow::Error),
}
super::internal_errors!(JoinError: sqlx::Error);
super::rate_limited_errors!(JoinError);

impl Failure for JoinError {
    fn problem(self) -> Problem {
        let sentence = self.to_string();
        match self {
            Self::NotFound => Problem::new(Kind::NotFound, "not_found", sentence),
            Self::NotAllowed => Problem::new(Kind::Forbidden, "join_requests_disabled", sentence),
            Self::Invalid(fields) => Problem::invalid(fields),
            Self::RateLimited(limited) => Problem::limited(limited),
            Self::Internal(err) => Problem::internal(err),
        }
    }
}

/// The organization a join-request page is about (anyone may look).
pub async fn join_page(state: &AppState, slug: &str) -> Result<organizations::OrgRow, JoinError> {
    organizations::find_by_slug(&mut *state.db.conn().await?, slug).await?.ok_or(JoinError::NotFound)
}

/// Anyone asks to join an organization that allows join requests. The answer is the same
/// whether or not the address is already a member or has a pending row, so that it reveals
/// nothing; at most 5 requests per client address per day.
#[tracing::instrument(skip_all, fields(org = slug))]
pub async fn join_request(state: &AppState, slug: &str, email: &str, ip: Option<&str>) -> Result<(), JoinError> {
    let org = organizations::find_by_slug(&mut *state.db.conn().await?, slug).await?.ok_or(JoinError::NotFound)?;
    if !org.allow_join_requests {
        return Err(JoinError::NotAllowed);
    }
    let mut errors = FieldErrors::new();
    let Some(email) = errors.check("email", EmailAddress::parse(email)) else { return Err(JoinError::Invalid(errors)) };
    if let Some(ip) = ip {
        limits::JOIN_REQUEST_IP.consume(state, ip).await?;
    }
    let now = db::now();
    let mut tx = state.db.begin().await?;
    if is_member(&mut tx, org.id, email.as_str()).await? {
        return Ok(());
    }
    if members::pending_for_email(&mut tx, org.id, email.as_str()).await?.is_some() {
        return Ok(());
    }
    let request = members::NewRequest {
        org_id: org.id,
        email: email.as_str(),
        role: org.default_role,
        requester_id: None,
        status: JOIN_REQUEST,
        now,
    };
    let data = json!({"email": email.as_str()});
    let Some(row) = file_request(&mut tx, request, ("join-request.create", "join_request.created"), ip, data).await?
    else {
        return Ok(());
    };
    let subject = format!("{} asked to join {}", email.as_str(), org.name);
    let asked = format!("{} asked to join {}.", email.as_str(), org.name);
    notify_admins(&mut tx, state, &org, &subject, &asked, now).await?;
    tx.commit().await?;
    tracing::info!(member_id = row.id, "join request created");
    Ok(())
}

/// The pending requests of an organization (owners and managers).
pub async fn list(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
) -> Result<(Membership, Vec<MemberEntry>), InviteError> {
    let membership =
        orgs::manager_membership(state, actor, slug, "Only owners and managers can see invite and join requests.")
            .await?;
    let requests = orgs::requests(state, &membership).await?;
    Ok((membership, requests))
}

/// Whether a pending row with this status is a request (an invite request or a join
/// request) rather than an invite.
fn is_request(status: InviteStatus) -> bool {
    status != InviteStatus::Approved
}

fn request_kind(row: &MemberRow) -> &'static str {
    if row.invite_status == JOIN_REQUEST {
        "join-request"
    } else {
        "invite-request"
    }
}

/// Approves a request with the same role limits as inviting: the row gets a fresh token
/// and the invite email goes out, sent in the approver's name.
pub async fn approve(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    member_id: i64,
    role: Option<&str>,
) -> Result<MemberRow, InviteError> {
    let membership =
        orgs::manager_membership(state, actor, slug, "Only owners and managers can approve requests.").await?;
    let org = &membership.org;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    organizations::lock_seats(&mut tx, state.db.kind(), org.id).await?;
    let row = find_pending(&mut tx, org.id, member_id, is_request).await?;
    let role = approved_role(&membership, role, row.role)?;
    check_seat(&mut tx, org.id).await?;
    let email = row.email.clone().unwrap_or_default();
    // Approving mails an invite: it counts against the address's daily limit (§5.1).
    invites::within_address_limit(&mut tx, org.id, &email, now).await?;
    let days = i64::from(state.config.invite_days_valid);
    let generation = row.token_generation + 1;
    let token = invites::invite_token(state, row.id, generation);
    if !members::approve_request(&mut tx, row.id, role, actor.id, &token.hash(), now + days * DAY_SECS, generation)
        .await?
    {
        return Err(InviteError::NotFound);
    }
    let link = invites::invite_link(state, row.id, token.expose());
    let sent = InviteSent {
        org,
        sender: actor,
        member_id: row.id,
        email: &email,
        audit_event: if request_kind(&row) == "join-request" {
            "join-request.approve"
        } else {
            "invite-request.approve"
        },
        data: json!({"email": email, "role": role.as_str(), "requested_by": row.inviter_id}),
        link: &link,
        days,
        now,
    };
    sent.write(&mut tx, true).await?;
    tx.commit().await?;
    tracing::info!(member_id = row.id, "request approved");
    Ok(MemberRow {
        invite_status: InviteStatus::Approved,
        role,
        inviter_id: Some(actor.id),
        token_expires_at: Some(now + days * DAY_SECS),
        token_hash: Some(token.hash()),
        token_generation: generation,
        ..row
    })
}

/// The role a request is approved with: the one the approver gives, else the one asked
/// for; either way one the approver may grant.
fn approved_role(membership: &Membership, given: Option<&str>, asked: Role) -> Result<Role, InviteError> {
    let role: Role = match given.map(str::trim).filter(|r| !r.is_empty()) {
        Some(raw) => raw.parse().map_err(|e: String| InviteError::Invalid(FieldErrors::single("role", e)))?,
        None => asked,
    };
    if !membership.role.can_grant(role) {
        return Err(InviteError::Forbidden(
            "You cannot approve a role higher than your own; change the role or ask an owner.",
        ));
    }
    Ok(role)
}

/// Rejects (deletes) a request.
pub async fn reject(state: &AppState, actor: &UserRow, slug: &str, member_id: i64) -> Result<(), InviteError> {
    let membership =
        orgs::manager_membership(state, actor, slug, "Only owners and managers can reject requests.").await?;
    let event = |row: &MemberRow| {
        let audited = if request_kind(row) == "join-request" { "join-request.reject" } else { "invite-request.reject" };
        (audited, None)
    };
    invites::delete_pending_row(state, &membership, actor, member_id, is_request, event).await
}
