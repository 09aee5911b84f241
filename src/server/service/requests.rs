//! Invite requests (a member asks for someone to be invited) and join requests (anyone
//! asks to join an organization that allows it), SPEC §5.7. Both are pending rows of the
//! member table without a token; approving gives the row a token and sends the invite.

use serde_json::json;

use super::invites::{self, check_seat, InviteError, ALREADY_MEMBER};
use super::limits;
use super::organizations::{self as orgs, MemberEntry, Membership};
use super::problem::{Failure, Kind, Problem};
use crate::model::InviteStatus;
use crate::server::db::users::UserRow;
use crate::server::db::{self, audit, members, members::MemberRow, organizations, outbox, users};
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
    let mut errors = FieldErrors::new();
    let email = errors.check("email", EmailAddress::parse(email));
    let role = match role.map(str::trim).filter(|r| !r.is_empty()) {
        None => Some(org.default_role),
        Some(raw) => errors.check("role", raw.parse::<Role>().map_err(|e| vec![e])),
    };
    let (Some(email), Some(role), true) = (email, role, errors.is_empty()) else {
        return Err(InviteError::Invalid(errors));
    };
    // At most 20 a day per member and organization (SPEC §5.7), counted before the work.
    limits::INVITE_REQUEST_MEMBER.consume(state, &format!("{}:{}", org.id, actor.id)).await?;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    if let Some(user) = users::find_by_email(&mut tx, email.as_str()).await? {
        if members::membership(&mut tx, org.id, user.id).await?.is_some() {
            return Err(InviteError::AddressTaken(ALREADY_MEMBER));
        }
    }
    let inserted = members::insert_request(
        &mut tx,
        members::NewRequest {
            org_id: org.id,
            email: email.as_str(),
            role,
            requester_id: Some(actor.id),
            status: INVITE_REQUEST,
            now,
        },
    )
    .await;
    let row = match inserted {
        Ok(row) => row,
        Err(err) if db::is_unique_violation(&err) => return Err(InviteError::AddressTaken(ALREADY_PENDING)),
        Err(err) => return Err(err.into()),
    };
    audit::insert(
        &mut tx,
        audit::NewEntry {
            org_id: org.id,
            actor_id: Some(actor.id),
            event: "invite-request.create",
            target_member_id: Some(row.id),
            target_user_id: None,
            target_email: Some(email.as_str()),
            ip: None,
            data: json!({"email": email.as_str(), "role": role.as_str()}),
            now,
        },
    )
    .await?;
    let subject = format!("{} asked to invite {} to {}", actor.name, email.as_str(), org.name);
    let body = format!(
        "{} ({}) asked for {} to be invited to {} as {}.\n\nApprove or reject the request on the members page:\n{}/organizations/{}/members/\n",
        actor.name,
        actor.email,
        email.as_str(),
        org.name,
        role.as_str(),
        state.config.public_url(),
        org.slug
    );
    notify_admins(&mut tx, org.id, &subject, &body, now).await?;
    tx.commit().await?;
    Ok(row)
}

async fn notify_admins(
    conn: &mut db::Conn,
    org_id: i64,
    subject: &str,
    body: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    for to in members::admin_emails(conn, org_id).await? {
        outbox::queue_mail(conn, &to, subject, body, None, now).await?;
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("There is no such organization.")]
    NotFound,
    #[error("This organization does not accept join requests.")]
    NotAllowed,
    #[error("Please correct the errors below.")]
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
    if let Some(user) = users::find_by_email(&mut tx, email.as_str()).await? {
        if members::membership(&mut tx, org.id, user.id).await?.is_some() {
            return Ok(());
        }
    }
    if members::pending_for_email(&mut tx, org.id, email.as_str()).await?.is_some() {
        return Ok(());
    }
    let inserted = members::insert_request(
        &mut tx,
        members::NewRequest {
            org_id: org.id,
            email: email.as_str(),
            role: org.default_role,
            requester_id: None,
            status: JOIN_REQUEST,
            now,
        },
    )
    .await;
    let row = match inserted {
        Ok(row) => row,
        Err(err) if db::is_unique_violation(&err) => return Ok(()),
        Err(err) => return Err(err.into()),
    };
    audit::insert(
        &mut tx,
        audit::NewEntry {
            org_id: org.id,
            actor_id: None,
            event: "join-request.create",
            target_member_id: Some(row.id),
            target_user_id: None,
            target_email: Some(email.as_str()),
            ip,
            data: json!({"email": email.as_str()}),
            now,
        },
    )
    .await?;
    let subject = format!("{} asked to join {}", email.as_str(), org.name);
    let body = format!(
        "{} asked to join {}.\n\nApprove or reject the request on the members page:\n{}/organizations/{}/members/\n",
        email.as_str(),
        org.name,
        state.config.public_url(),
        org.slug
    );
    notify_admins(&mut tx, org.id, &subject, &body, now).await?;
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
    let (membership, entries) = orgs::members(state, actor, slug).await?;
    if !membership.role.can_invite() {
        return Err(InviteError::Forbidden("Only owners and managers can see invite and join requests."));
    }
    let requests =
        entries.into_iter().filter(|e| e.row.is_pending() && e.row.invite_status != InviteStatus::Approved).collect();
    Ok((membership, requests))
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
    let membership = orgs::membership(state, actor, slug).await?;
    if !membership.role.can_invite() {
        return Err(InviteError::Forbidden("Only owners and managers can approve requests."));
    }
    let now = db::now();
    let mut tx = state.db.begin().await?;
    organizations::lock_seats(&mut tx, state.db.kind(), membership.org.id).await?;
    let Some(row) = members::find(&mut tx, member_id).await?.filter(|r| {
        r.organization_id == membership.org.id && r.is_pending() && r.invite_status != InviteStatus::Approved
    }) else {
        return Err(InviteError::NotFound);
    };
    let role: Role = match role.map(str::trim).filter(|r| !r.is_empty()) {
        Some(raw) => raw.parse().map_err(|e: String| InviteError::Invalid(FieldErrors::single("role", e)))?,
        None => row.role,
    };
    if !membership.role.can_grant(role) {
        return Err(InviteError::Forbidden(
            "You cannot approve a role higher than your own; change the role or ask an owner.",
        ));
    }
    check_seat(&mut tx, membership.org.id).await?;
    // Approving mails an invite: it counts against the address's daily limit (§5.1).
    let sent = members::sends_to_address_since(
        &mut tx,
        now - DAY_SECS,
        membership.org.id,
        row.email.as_deref().unwrap_or_default(),
    )
    .await?;
    invites::within_daily(sent, invites::PER_ADDRESS_PER_DAY, now, invites::ADDRESS_LIMITED)?;
    let days = i64::from(state.config.invite_days_valid);
    let generation = row.token_generation + 1;
    let token = invites::invite_token(state, row.id, generation);
    if !members::approve_request(&mut tx, row.id, role, actor.id, &token.hash(), now + days * DAY_SECS, generation)
        .await?
    {
        return Err(InviteError::NotFound);
    }
    let email = row.email.clone().unwrap_or_default();
    let kind = request_kind(&row);
    audit::insert(
        &mut tx,
        audit::NewEntry {
            org_id: membership.org.id,
            actor_id: Some(actor.id),
            event: if kind == "join-request" { "join-request.approve" } else { "invite-request.approve" },
            target_member_id: Some(row.id),
            target_user_id: None,
            target_email: Some(&email),
            ip: None,
            data: json!({"email": email, "role": role.as_str(), "requested_by": row.inviter_id}),
            now,
        },
    )
    .await?;
    outbox::queue_event(
        &mut tx,
        "member.invited",
        membership.org.id,
        &json!({"memberId": row.id, "email": email}),
        now,
    )
    .await?;
    let link = invites::invite_link(state, row.id, token.expose());
    let (subject, body) = invites::invite_email(&actor.name, &membership.org.name, &link, days);
    outbox::queue_mail(&mut tx, &email, &subject, &body, Some(row.id), now).await?;
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

/// Rejects (deletes) a request.
pub async fn reject(state: &AppState, actor: &UserRow, slug: &str, member_id: i64) -> Result<(), InviteError> {
    let membership = orgs::membership(state, actor, slug).await?;
    if !membership.role.can_invite() {
        return Err(InviteError::Forbidden("Only owners and managers can reject requests."));
    }
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let Some(row) = members::find(&mut tx, member_id).await?.filter(|r| {
        r.organization_id == membership.org.id && r.is_pending() && r.invite_status != InviteStatus::Approved
    }) else {
        return Err(InviteError::NotFound);
    };
    members::delete_pending(&mut tx, row.id).await?;
    let kind = request_kind(&row);
    audit::insert(
        &mut tx,
        audit::NewEntry {
            org_id: membership.org.id,
            actor_id: Some(actor.id),
            event: if kind == "join-request" { "join-request.reject" } else { "invite-request.reject" },
            target_member_id: Some(row.id),
            target_user_id: None,
            target_email: row.email.as_deref(),
            ip: None,
            data: json!({"email": row.email, "role": row.role}),
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
