//! "Your invitations" (SPEC §5.9): every pending invite addressed to the signed-in user's
//! verified email, from every organization, with Join (§5.3) and Decline.

use serde_json::json;
use tower_sessions::Session;

use super::accept::{self, AcceptError};
use super::internal_errors;
use super::problem::{Failure, Kind, Problem};
use crate::model::{InviteStatus, Refusal, Role};
use crate::server::db::members::InviteContext;
use crate::server::db::organizations::OrgRow;
use crate::server::db::users::UserRow;
use crate::server::db::{self, audit, members, outbox, users};
use crate::server::domain::invite::{self, first_refusal};
use crate::server::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum InvitationError {
    /// Not a pending invite addressed to this user's verified email (another person's, a
    /// membership, a request, a declined or revoked one): the same answer for each.
    #[error("There is no such invitation for your verified email address.")]
    NotFound,
    #[error(transparent)]
    Accept(#[from] AcceptError),
    #[error(transparent)]
    Internal(anyhow::Error),
}
internal_errors!(InvitationError: sqlx::Error);

impl Failure for InvitationError {
    fn problem(self) -> Problem {
        match self {
            Self::NotFound => Problem::new(Kind::NotFound, "not_found", self.to_string()),
            Self::Accept(err) => err.problem(),
            Self::Internal(err) => Problem::internal(err),
        }
    }
}

/// One invite of the list.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub member_id: i64,
    pub org: OrgRow,
    pub role: Role,
    pub inviter_name: Option<String>,
    pub email: String,
    pub expires_at: i64,
    pub created_at: i64,
    /// What Join would answer now (§5.3), `None` when it would join.
    pub needs: Option<Refusal>,
}

/// The user's invitations, newest first; none until their address is verified (an
/// unverified address proves nothing about whose mailbox the invites went to).
pub async fn list(state: &AppState, user: &UserRow) -> Result<Vec<Invitation>, InvitationError> {
    if !user.email_verified {
        return Ok(Vec::new());
    }
    let mut conn = state.db.conn().await?;
    let mut listed = Vec::new();
    for ctx in members::invitations_for(&mut conn, &user.email, db::now()).await? {
        let needs = first_refusal(&accept::visitor(&mut conn, &ctx, Some(user), None).await?);
        let InviteContext { row, org, inviter_name, .. } = ctx;
        listed.push(Invitation {
            member_id: row.id,
            role: row.role,
            email: row.email.unwrap_or_default(),
            expires_at: row.token_expires_at.unwrap_or_default(),
            created_at: row.created_at,
            org,
            inviter_name,
            needs,
        });
    }
    Ok(listed)
}

/// How many invitations [`list`] would show (the notice after sign-in, registration and
/// verification).
pub async fn count(state: &AppState, user: &UserRow) -> Result<i64, InvitationError> {
    if !user.email_verified {
        return Ok(0);
    }
    let count = members::count_invitations_for(&mut *state.db.conn().await?, &user.email, db::now()).await?;
    // No more than the list shows.
    Ok(count.min(members::INVITATIONS_LISTED))
}

/// The invite `member_id` when it is one of this user's invitations: pending, sent (not a
/// request), addressed to their verified email. An expired one is still theirs (Join then
/// says it expired).
async fn addressed_to(conn: &mut db::Conn, user: &UserRow, member_id: i64) -> Result<InviteContext, InvitationError> {
    let ctx = members::invite_context(conn, member_id).await?;
    ctx.filter(|ctx| {
        user.email_verified
            && ctx.row.is_pending()
            && ctx.row.invite_status == InviteStatus::Approved
            && ctx.row.email.as_deref() == Some(user.email.as_str())
    })
    .ok_or(InvitationError::NotFound)
}

/// Join: the invite accepted for this user with every check of §5.3, exactly as through
/// its link. Returns the organization joined.
pub async fn accept(
    state: &AppState,
    session: &Session,
    user: UserRow,
    member_id: i64,
    ip: Option<&str>,
) -> Result<OrgRow, InvitationError> {
    let ctx = addressed_to(&mut *state.db.conn().await?, &user, member_id).await?;
    if invite::is_expired(ctx.row.token_expires_at, db::now()) {
        return Err(AcceptError::Expired { inviter_name: ctx.inviter_name }.into());
    }
    let token_hash = ctx.row.token_hash.clone().ok_or(InvitationError::NotFound)?;
    Ok(accept::finish_accept(state, session, ctx, &token_hash, Some(user), None, ip).await?)
}

/// Decline: the invite is deleted, audited (`invite.decline`), announced
/// (`invite.declined`) and its inviter told by email, in one transaction. A second decline
/// finds nothing.
pub async fn decline(
    state: &AppState,
    user: &UserRow,
    member_id: i64,
    ip: Option<&str>,
) -> Result<(), InvitationError> {
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let InviteContext { row, org, .. } = addressed_to(&mut tx, user, member_id).await?;
    // Parallel declines: the delete decides which one did it.
    if !members::delete_pending(&mut tx, row.id).await? {
        return Err(InvitationError::NotFound);
    }
    let data = json!({"email": row.email, "role": row.role});
    audit::insert(&mut tx, audit::NewEntry::about_member(&row, user.id, ip, "invite.decline", data, now)).await?;
    let payload = json!({"memberId": row.id, "email": row.email, "userId": user.id});
    outbox::queue_event(&mut tx, "invite.declined", org.id, &payload, now).await?;
    // The inviter is told while they still administer the organization.
    let inviter = match row.inviter_id {
        Some(id) => users::find_by_id(&mut tx, id).await?.filter(|u| u.is_active),
        None => None,
    };
    let still_inviting = match &inviter {
        Some(inviter) => members::membership(&mut tx, org.id, inviter.id).await?.is_some_and(|m| m.role.can_invite()),
        None => false,
    };
    if let (Some(inviter), true) = (inviter, still_inviting) {
        let members_page = format!("{}/organizations/{}/members/", state.config.public_url(), org.slug);
        let mail = super::mails::invite_declined(&inviter.name, &user.email, &org.name, &members_page);
        super::mails::queue(&mut tx, &inviter.email, &mail, None, now).await?;
    }
    tx.commit().await?;
    tracing::info!(member_id = row.id, user_id = user.id, "invite declined");
    Ok(())
}
