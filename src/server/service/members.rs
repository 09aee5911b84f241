//! Administering members (SPEC §5.10): role changes, removals, leaving, handing the
//! organization to another owner, and teams.
//!
//! Every change here takes the organization's lock and reads the actor's role and the
//! owners as they are inside it, so that concurrent changes (two owners demoting each
//! other, a leave racing a transfer) always leave at least one owner.

use serde_json::json;

use super::accounts::{self, ReauthError};
use super::invites::{self, InviteError};
use super::organizations::{self as orgs, Membership};
use crate::server::db::members::MemberRow;
use crate::server::db::users::UserRow;
use crate::server::db::{self, audit, members, organizations, outbox, teams};
use crate::server::domain::{FieldErrors, Password, Role, REQUIRED};
use crate::server::state::AppState;

/// What the last owner is told when a change would leave the organization without one.
pub const LAST_OWNER_DEMOTED: &str = "The last owner cannot be demoted; make someone else an owner first.";
pub const LAST_OWNER_REMOVED: &str = "The last owner cannot be removed; make someone else an owner first.";
pub const LAST_OWNER_LEAVING: &str =
    "You are the last owner: make another member an owner (or transfer ownership) before leaving.";

/// The actor's role read again under the organization's lock: a concurrent change may
/// have demoted or removed them since their membership was read.
async fn role_under_lock(conn: &mut db::Conn, org_id: i64, user_id: i64) -> Result<Role, InviteError> {
    match members::membership(conn, org_id, user_id).await? {
        Some(row) => Ok(row.role),
        None => Err(InviteError::NotFound),
    }
}

/// The row `member_id` of organization `org_id`: a membership or an approved invite
/// (requests are decided elsewhere, §5.7).
async fn member_or_invite(conn: &mut db::Conn, org_id: i64, member_id: i64) -> Result<MemberRow, InviteError> {
    members::find(conn, member_id)
        .await?
        .filter(|r| {
            r.organization_id == org_id && (!r.is_pending() || r.invite_status == crate::model::InviteStatus::Approved)
        })
        .ok_or(InviteError::NotFound)
}

/// Refuses with `LastOwner(why)` when `row` is the organization's only owner (a
/// membership, not an invite). Call under the organization's lock.
async fn keep_an_owner(conn: &mut db::Conn, row: &MemberRow, why: &'static str) -> Result<(), InviteError> {
    if row.role == Role::Owner && !row.is_pending() && members::count_owners(conn, row.organization_id).await? <= 1 {
        return Err(InviteError::LastOwner(why));
    }
    Ok(())
}

/// An audit entry about a member row, by `actor` from the address they act from.
async fn audit_member(
    conn: &mut db::Conn,
    actor: &UserRow,
    event: &str,
    row: &MemberRow,
    data: serde_json::Value,
    now: i64,
) -> Result<(), sqlx::Error> {
    audit::insert(conn, audit::NewEntry::about_member(row, actor.id, actor.client_ip.as_deref(), event, data, now))
        .await
}

/// The event announcing a change of a member row (§8), in the change's transaction.
async fn announce(
    conn: &mut db::Conn,
    event: &str,
    row: &MemberRow,
    actor: &UserRow,
    extra: serde_json::Value,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut payload = json!({"memberId": row.id, "userId": row.user_id, "email": row.email, "actorId": actor.id});
    if let (Some(payload), Some(extra)) = (payload.as_object_mut(), extra.as_object()) {
        payload.extend(extra.clone());
    }
    outbox::queue_event(conn, event, row.organization_id, &payload, now).await
}

/// Changes a member's (or a pending invite's) role. Only roles the actor may grant can be
/// given or taken away; the last owner keeps the role.
pub async fn change_role(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    member_id: i64,
    role: &str,
) -> Result<MemberRow, InviteError> {
    let membership = orgs::membership(state, actor, slug).await?;
    let new_role: Role = role.parse().map_err(|e: String| InviteError::Invalid(FieldErrors::single("role", e)))?;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    organizations::lock(&mut tx, state.db.kind(), membership.org.id).await?;
    let actor_role = role_under_lock(&mut tx, membership.org.id, actor.id).await?;
    let row = member_or_invite(&mut tx, membership.org.id, member_id).await?;
    if !actor_role.can_manage(row.role) || !actor_role.can_grant(new_role) {
        return Err(InviteError::Forbidden("You cannot give or take away a role higher than your own."));
    }
    if row.role == new_role {
        return Ok(row);
    }
    if new_role != Role::Owner {
        keep_an_owner(&mut tx, &row, LAST_OWNER_DEMOTED).await?;
    }
    members::set_role(&mut tx, row.id, new_role).await?;
    let data = json!({"from": row.role.as_str(), "role": new_role.as_str()});
    audit_member(&mut tx, actor, "member.edit", &row, data.clone(), now).await?;
    announce(&mut tx, "member.role_changed", &row, actor, data, now).await?;
    tx.commit().await?;
    Ok(MemberRow { role: new_role, ..row })
}

/// Removes a member, or revokes an invite (`invites::revoke`). Managers cannot remove
/// owners, and the last owner cannot be removed. Removing oneself is [`leave`].
pub async fn remove(state: &AppState, actor: &UserRow, slug: &str, member_id: i64) -> Result<(), InviteError> {
    let membership = orgs::membership(state, actor, slug).await?;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    organizations::lock(&mut tx, state.db.kind(), membership.org.id).await?;
    let actor_role = role_under_lock(&mut tx, membership.org.id, actor.id).await?;
    let row = member_or_invite(&mut tx, membership.org.id, member_id).await?;
    if row.is_pending() {
        drop(tx);
        return invites::revoke(state, actor, slug, member_id).await;
    }
    if row.user_id == Some(actor.id) {
        drop(tx);
        return leave(state, actor, slug).await;
    }
    if !actor_role.can_manage(row.role) {
        return Err(InviteError::Forbidden("You do not have permission to remove this member."));
    }
    keep_an_owner(&mut tx, &row, LAST_OWNER_REMOVED).await?;
    members::delete(&mut tx, membership.org.id, row.id).await?;
    let data = json!({"role": row.role, "user": row.user_id});
    audit_member(&mut tx, actor, "member.remove", &row, data, now).await?;
    announce(&mut tx, "member.removed", &row, actor, json!({"role": row.role}), now).await?;
    tx.commit().await?;
    Ok(())
}

/// The signed-in user leaves the organization (any role; the last owner must hand it on
/// first). Leaving needs no sign-in through the organization's provider: giving up access
/// must not depend on it.
pub async fn leave(state: &AppState, actor: &UserRow, slug: &str) -> Result<(), InviteError> {
    let membership = orgs::membership_ungated(state, actor, slug).await?;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    organizations::lock(&mut tx, state.db.kind(), membership.org.id).await?;
    let row = members::membership(&mut tx, membership.org.id, actor.id).await?.ok_or(InviteError::NotFound)?;
    keep_an_owner(&mut tx, &row, LAST_OWNER_LEAVING).await?;
    members::delete(&mut tx, membership.org.id, row.id).await?;
    audit_member(&mut tx, actor, "member.leave", &row, json!({"role": row.role, "email": actor.email}), now).await?;
    announce(&mut tx, "member.left", &row, actor, json!({"role": row.role}), now).await?;
    tx.commit().await?;
    tracing::info!(org_id = membership.org.id, user_id = actor.id, "member left");
    Ok(())
}

/// An owner makes another member owner and becomes a manager (SPEC §5.10), with their
/// password. Returns the new owner's row.
pub async fn transfer_ownership(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    member_id: i64,
    password: &Password,
) -> Result<MemberRow, InviteError> {
    let membership = owner_membership(state, actor, slug).await?;
    if password.expose().is_empty() {
        return Err(InviteError::Invalid(FieldErrors::single("password", REQUIRED)));
    }
    accounts::reauthenticate(state, actor, password, actor.client_ip.as_deref()).await?;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    organizations::lock(&mut tx, state.db.kind(), membership.org.id).await?;
    let own = members::membership(&mut tx, membership.org.id, actor.id).await?.ok_or(InviteError::NotFound)?;
    if own.role != Role::Owner {
        return Err(InviteError::Forbidden(ONLY_OWNERS_TRANSFER));
    }
    let row = member_or_invite(&mut tx, membership.org.id, member_id).await?;
    if row.is_pending() {
        return Err(InviteError::NotFound);
    }
    if row.id == own.id {
        return Err(InviteError::Conflict("You are already the owner; choose the member to hand the organization to."));
    }
    if row.role == Role::Owner {
        return Err(InviteError::Conflict("This member is already an owner."));
    }
    members::set_role(&mut tx, row.id, Role::Owner).await?;
    members::set_role(&mut tx, own.id, Role::Manager).await?;
    let data =
        json!({"from": row.role, "role": Role::Owner, "previousOwner": actor.id, "previousOwnerRole": Role::Manager});
    audit_member(&mut tx, actor, "org.transfer-ownership", &row, data.clone(), now).await?;
    announce(&mut tx, "organization.ownership_transferred", &row, actor, data, now).await?;
    tx.commit().await?;
    tracing::info!(org_id = membership.org.id, from = actor.id, to = ?row.user_id, "ownership transferred");
    Ok(MemberRow { role: Role::Owner, ..row })
}

const ONLY_OWNERS_TRANSFER: &str = "Only an owner can transfer ownership.";

/// [`orgs::membership`] of an owner, for what only owners may do.
async fn owner_membership(state: &AppState, actor: &UserRow, slug: &str) -> Result<Membership, InviteError> {
    let membership = orgs::membership(state, actor, slug).await?;
    if membership.role != Role::Owner {
        return Err(InviteError::Forbidden(ONLY_OWNERS_TRANSFER));
    }
    Ok(membership)
}

/// Puts a member or a pending invite on a team (`on`) or takes them off it (owners and
/// managers). An invite's teams carry into the membership when it is accepted.
pub async fn set_team(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    member_id: i64,
    team_slug: &str,
    on: bool,
) -> Result<MemberRow, InviteError> {
    let membership =
        orgs::manager_membership(state, actor, slug, "Only owners and managers can change who is on a team.").await?;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let row = member_or_invite(&mut tx, membership.org.id, member_id).await?;
    let (team_id, team_name) =
        teams::find(&mut tx, membership.org.id, team_slug).await?.ok_or(InviteError::NoSuchTeam)?;
    let changed = if on {
        members::add_to_teams(&mut tx, row.id, &[team_id]).await? > 0
    } else {
        members::remove_from_team(&mut tx, row.id, team_id).await?
    };
    if changed {
        let event = if on { "team.add-member" } else { "team.remove-member" };
        audit_member(&mut tx, actor, event, &row, json!({"team": team_slug, "teamName": team_name}), now).await?;
    }
    tx.commit().await?;
    Ok(row)
}

/// Whether `ReauthError` needs saying: the transfer's password check fails as a sign-in does.
impl From<ReauthError> for InviteError {
    fn from(err: ReauthError) -> Self {
        Self::Reauth(err)
    }
}
