//! Inviting by email, revoking and cleaning up invites (SPEC §5.1, §5.8).

use serde_json::json;

use super::internal_errors;
use super::organizations::{self as orgs, OrgError};
use crate::server::db::users::UserRow;
use crate::server::db::{self, audit, members, members::MemberRow, outbox, users};
use crate::server::domain::invite::{self, InviteToken, DAY_SECS};
use crate::server::domain::{EmailAddress, FieldErrors, Role};
use crate::server::state::AppState;

/// Daily limits of SPEC §5.1.
pub const PER_INVITER_PER_DAY: i64 = 100;
pub const PER_ORG_PER_DAY: i64 = 100;
pub const PER_ADDRESS_PER_DAY: i64 = 10;

/// What an owner or manager sends to invite someone.
#[derive(Debug, Default)]
pub struct InviteInput {
    pub email: String,
    pub role: Option<String>,
    pub teams: Vec<String>,
    pub send_invite: bool,
    pub expires_in_days: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("the invite has errors")]
    Invalid(FieldErrors),
    #[error("organization not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    #[error("{0}")]
    RateLimited(&'static str),
    #[error("{}", SEAT_LIMIT)]
    SeatLimit,
    /// The actor must link an identity at the organization's provider first.
    #[error("{0}")]
    SsoRequired(String),
    #[error(transparent)]
    Internal(anyhow::Error),
}
internal_errors!(InviteError: sqlx::Error);

pub const SEAT_LIMIT: &str =
    "This organization has no seats left: members and pending invites fill its member limit. Raise the limit or revoke an invite first.";

/// Refuses when members and pending invites already fill the organization's seat limit.
/// Call inside the transaction that takes the seat, after `lock_seats`.
pub async fn check_seat(conn: &mut db::Conn, org_id: i64) -> Result<(), InviteError> {
    let org = crate::server::db::organizations::find_by_id(conn, org_id).await?.ok_or(InviteError::NotFound)?;
    if let Some(limit) = org.member_limit {
        if members::seats_used(conn, org_id).await? >= limit {
            return Err(InviteError::SeatLimit);
        }
    }
    Ok(())
}

impl From<OrgError> for InviteError {
    fn from(err: OrgError) -> Self {
        match err {
            OrgError::Invalid(fields) => Self::Invalid(fields),
            OrgError::NotFound => Self::NotFound,
            OrgError::Forbidden(why) => Self::Forbidden(why),
            sso @ OrgError::SsoRequired { .. } => Self::SsoRequired(sso.to_string()),
            OrgError::Internal(err) => Self::Internal(err),
        }
    }
}

pub const ALREADY_MEMBER: &str = "This email address is already a member of the organization.";
pub const ALREADY_INVITED: &str =
    "This email address already has a pending invite. Resend or regenerate it from the members page instead.";

/// The link of an invite email.
pub fn invite_link(state: &AppState, member_id: i64, token: &str) -> String {
    format!("{}/accept/{member_id}/{token}/", state.config.public_url())
}

/// Invites an address; returns the pending row and, for callers that hand links out
/// directly (admin commands), the link.
#[tracing::instrument(skip_all, fields(org = slug))]
pub async fn create(state: &AppState, actor: &UserRow, slug: &str, input: InviteInput) -> Result<(MemberRow, String), InviteError> {
    let membership = orgs::membership(state, actor, slug).await?;
    if !membership.role.can_invite() {
        return Err(InviteError::Forbidden("You do not have permission to invite members; ask an owner or manager, or request an invite."));
    }
    let mut errors = FieldErrors::new();
    let email = errors.check("email", EmailAddress::parse(&input.email));
    let role = match input.role.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => Some(Role::Member),
        Some(raw) => errors.check("role", raw.parse::<Role>().map_err(|e| vec![e])),
    };
    let days = errors.check("expiresInDays", invite::validity_days(input.expires_in_days, state.config.invite_days_valid).map_err(|e| vec![e]));
    let mut team_ids = Vec::new();
    {
        let mut conn = state.db.conn().await?;
        for team in &input.teams {
            match teams_find(&mut conn, membership.org.id, team).await? {
                Some(id) => team_ids.push(id),
                None => errors.add("teams", format!("Unknown team \"{team}\".")),
            }
        }
    }
    let (Some(email), Some(role), Some(days), true) = (email, role, days, errors.is_empty()) else {
        return Err(InviteError::Invalid(errors));
    };
    if !membership.role.can_grant(role) {
        return Err(InviteError::Forbidden("You cannot invite someone with a role higher than your own."));
    }

    let now = db::now();
    let token = InviteToken::generate();
    let mut tx = state.db.begin().await?;
    crate::server::db::organizations::lock_seats(&mut tx, state.db.kind(), membership.org.id).await?;
    let day_ago = now - DAY_SECS;
    if members::invites_since(&mut tx, day_ago, Some(actor.id), None, None).await? >= PER_INVITER_PER_DAY {
        return Err(InviteError::RateLimited("You have sent too many invites today. Try again tomorrow."));
    }
    if members::invites_since(&mut tx, day_ago, None, Some(membership.org.id), None).await? >= PER_ORG_PER_DAY {
        return Err(InviteError::RateLimited("This organization has sent too many invites today. Try again tomorrow."));
    }
    if members::invites_since(&mut tx, day_ago, None, Some(membership.org.id), Some(email.as_str())).await? >= PER_ADDRESS_PER_DAY {
        return Err(InviteError::RateLimited("This address has been invited too many times today. Try again tomorrow."));
    }
    if let Some(existing) = users::find_by_email(&mut tx, email.as_str()).await? {
        if members::membership(&mut tx, membership.org.id, existing.id).await?.is_some() {
            return Err(InviteError::Conflict(ALREADY_MEMBER));
        }
    }
    if let Some(pending) = members::pending_for_email(&mut tx, membership.org.id, email.as_str()).await? {
        if pending.invite_status == "approved" {
            return Err(InviteError::Conflict(ALREADY_INVITED));
        }
        // An invite request or join request for this address is replaced by the invite.
        members::delete_pending(&mut tx, pending.id).await?;
    }
    check_seat(&mut tx, membership.org.id).await?;
    let row = match members::insert_invite(
        &mut tx,
        members::NewInvite {
            org_id: membership.org.id,
            email: email.as_str(),
            role: role.as_str(),
            inviter_id: actor.id,
            token_hash: &token.hash(),
            expires_at: now + days * DAY_SECS,
            now,
        },
    )
    .await
    {
        Ok(row) => row,
        Err(err) if db::is_unique_violation(&err) => return Err(InviteError::Conflict(ALREADY_INVITED)),
        Err(err) => return Err(err.into()),
    };
    members::add_to_teams(&mut tx, row.id, &team_ids).await?;
    let link = invite_link(state, row.id, token.expose());
    audit::insert(
        &mut tx,
        audit::NewEntry {
            org_id: membership.org.id,
            actor_id: Some(actor.id),
            event: "member.invite",
            target_member_id: Some(row.id),
            target_user_id: None,
            target_email: Some(email.as_str()),
            ip: None,
            data: json!({"email": email.as_str(), "role": role.as_str(), "teams": input.teams}),
            now,
        },
    )
    .await?;
    outbox::queue_event(&mut tx, "member.invited", membership.org.id, &json!({"memberId": row.id, "email": email.as_str()}), now).await?;
    if input.send_invite {
        let (subject, body) = invite_email(&actor.name, &membership.org.name, &link, days);
        outbox::queue_mail(&mut tx, email.as_str(), &subject, &body, Some(row.id), now).await?;
    }
    tx.commit().await?;
    tracing::info!(member_id = row.id, "invite created");
    Ok((row, link))
}

/// The invite email: names the inviter and the organization, carries the link.
pub fn invite_email(inviter: &str, org: &str, link: &str, days: i64) -> (String, String) {
    let subject = format!("{inviter} invited you to join {org} on Gatehouse");
    let body = format!(
        "Hello,\n\n{inviter} invited you to join the organization {org} on Gatehouse.\n\n\
         Accept the invite here:\n{link}\n\n\
         The link works for {days} day{s}. If you did not expect this invite, you can ignore this email.\n",
        s = if days == 1 { "" } else { "s" }
    );
    (subject, body)
}

async fn teams_find(conn: &mut db::Conn, org_id: i64, slug: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM teams WHERE organization_id = $1 AND slug = $2")
        .bind(org_id)
        .bind(slug)
        .fetch_optional(conn)
        .await
}

/// Revokes a pending invite (its link then says the invite is no longer valid).
pub async fn revoke(state: &AppState, actor: &UserRow, slug: &str, member_id: i64) -> Result<(), InviteError> {
    let membership = orgs::membership(state, actor, slug).await?;
    if !membership.role.can_invite() {
        return Err(InviteError::Forbidden("You do not have permission to revoke invites."));
    }
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let Some(row) = members::find(&mut tx, member_id).await?.filter(|r| r.organization_id == membership.org.id && r.is_pending()) else {
        return Err(InviteError::NotFound);
    };
    members::delete_pending(&mut tx, row.id).await?;
    audit::insert(
        &mut tx,
        audit::NewEntry {
            org_id: membership.org.id,
            actor_id: Some(actor.id),
            event: "invite.revoke",
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

/// Deletes pending invites that expired more than `days` days ago (SPEC §5.8).
pub async fn cleanup_expired(state: &AppState, days: i64) -> Result<u64, sqlx::Error> {
    let mut tx = state.db.begin().await?;
    let deleted = members::delete_expired_invites(&mut tx, db::now() - days * DAY_SECS).await?;
    tx.commit().await?;
    Ok(deleted)
}

/// Resend or regenerate a pending invite (SPEC §5.1). Only a hash of the token is stored,
/// so every email needs a fresh token: `resend` keeps the expiry (and refuses an expired
/// invite), `regenerate` also renews the expiry. Either way the previous link stops working.
pub async fn reissue(state: &AppState, actor: &UserRow, slug: &str, member_id: i64, regenerate: bool) -> Result<MemberRow, InviteError> {
    let membership = orgs::membership(state, actor, slug).await?;
    if !membership.role.can_invite() {
        return Err(InviteError::Forbidden("You do not have permission to resend invites."));
    }
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let Some(row) = members::find(&mut tx, member_id)
        .await?
        .filter(|r| r.organization_id == membership.org.id && r.is_pending() && r.invite_status == "approved")
    else {
        return Err(InviteError::NotFound);
    };
    let expired = invite::is_expired(row.token_expires_at, now);
    if !regenerate && expired {
        return Err(InviteError::Conflict("This invite has expired; regenerate it to send a new link."));
    }
    let expires_at = if regenerate { now + i64::from(state.config.invite_days_valid) * DAY_SECS } else { row.token_expires_at.unwrap_or(now) };
    let token = InviteToken::generate();
    members::set_token(&mut tx, row.id, &token.hash(), expires_at).await?;
    let email = row.email.clone().unwrap_or_default();
    let link = invite_link(state, row.id, token.expose());
    let days = ((expires_at - now) + DAY_SECS - 1) / DAY_SECS;
    let (subject, body) = invite_email(&actor.name, &membership.org.name, &link, days.max(1));
    outbox::queue_mail(&mut tx, &email, &subject, &body, Some(row.id), now).await?;
    audit::insert(
        &mut tx,
        audit::NewEntry {
            org_id: membership.org.id,
            actor_id: Some(actor.id),
            event: if regenerate { "invite.regenerate" } else { "member.reinvite" },
            target_member_id: Some(row.id),
            target_user_id: None,
            target_email: Some(&email),
            ip: None,
            data: json!({"email": email, "role": row.role}),
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(MemberRow { token_expires_at: Some(expires_at), ..row })
}

/// Removes a member (not an invite: that is [`revoke`]). Managers cannot remove owners, and
/// the last owner cannot be removed.
pub async fn remove_member(state: &AppState, actor: &UserRow, slug: &str, member_id: i64) -> Result<(), InviteError> {
    let membership = orgs::membership(state, actor, slug).await?;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let Some(row) = members::find(&mut tx, member_id).await?.filter(|r| r.organization_id == membership.org.id) else {
        return Err(InviteError::NotFound);
    };
    let Some(user_id) = row.user_id else {
        drop(tx);
        return revoke(state, actor, slug, member_id).await;
    };
    let role: Role = row.role.parse().unwrap_or(Role::Member);
    let leaving_self = user_id == actor.id;
    if !leaving_self && (!membership.role.can_invite() || (role == Role::Owner && membership.role != Role::Owner)) {
        return Err(InviteError::Forbidden("You do not have permission to remove this member."));
    }
    if role == Role::Owner {
        let owners: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE organization_id = $1 AND role = 'owner' AND user_id IS NOT NULL")
            .bind(membership.org.id)
            .fetch_one(&mut *tx)
            .await?;
        if owners <= 1 {
            return Err(InviteError::Conflict("The last owner cannot be removed; make someone else an owner first."));
        }
    }
    members::delete(&mut tx, membership.org.id, row.id).await?;
    audit::insert(
        &mut tx,
        audit::NewEntry {
            org_id: membership.org.id,
            actor_id: Some(actor.id),
            event: "member.remove",
            target_member_id: Some(row.id),
            target_user_id: Some(user_id),
            target_email: None,
            ip: None,
            data: json!({"role": row.role, "user": user_id}),
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes a member's (or a pending invite's) role. Only roles the actor may grant can be
/// given or taken away; the last owner keeps the role.
pub async fn change_role(state: &AppState, actor: &UserRow, slug: &str, member_id: i64, role: &str) -> Result<MemberRow, InviteError> {
    let membership = orgs::membership(state, actor, slug).await?;
    let new_role: Role = role.parse().map_err(|e: String| InviteError::Invalid(FieldErrors::single("role", e)))?;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let Some(row) = members::find(&mut tx, member_id).await?.filter(|r| r.organization_id == membership.org.id) else {
        return Err(InviteError::NotFound);
    };
    let old_role: Role = row.role.parse().unwrap_or(Role::Member);
    if !membership.role.can_grant(new_role) || !membership.role.can_grant(old_role) {
        return Err(InviteError::Forbidden("You cannot give or take away a role higher than your own."));
    }
    if old_role == Role::Owner && new_role != Role::Owner && row.user_id.is_some() {
        let owners: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE organization_id = $1 AND role = 'owner' AND user_id IS NOT NULL")
            .bind(membership.org.id)
            .fetch_one(&mut *tx)
            .await?;
        if owners <= 1 {
            return Err(InviteError::Conflict("The last owner cannot be demoted; make someone else an owner first."));
        }
    }
    sqlx::query("UPDATE members SET role = $1 WHERE id = $2").bind(new_role.as_str()).bind(row.id).execute(&mut *tx).await?;
    audit::insert(
        &mut tx,
        audit::NewEntry {
            org_id: membership.org.id,
            actor_id: Some(actor.id),
            event: "member.edit",
            target_member_id: Some(row.id),
            target_user_id: row.user_id,
            target_email: row.email.as_deref(),
            ip: None,
            data: json!({"from": old_role.as_str(), "role": new_role.as_str()}),
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(MemberRow { role: new_role.as_str().to_owned(), ..row })
}
