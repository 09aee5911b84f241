//! Invite details and acceptance (SPEC §5.2, §5.3, §5.6), and finishing a pending invite
//! after registration or login (§4.3, §4.4).

use serde_json::json;
use tower_sessions::Session;

use super::internal_errors;
use super::problem::{Failure, Kind, Problem};
use crate::model::InviteStatus;
use crate::server::auth::session::{self, PendingInvite};
use crate::server::db::members::{InviteContext, MemberRow};
use crate::server::db::organizations::OrgRow;
use crate::server::db::users::UserRow;
use crate::server::db::{self, audit, members, organizations, sso, two_factor, users};
use crate::server::domain::invite::{self, first_refusal, Refusal, Visitor};
use crate::server::domain::seats;
use crate::server::state::AppState;

/// An invite link as it appears in a URL (both forms of SPEC §2).
#[derive(Debug, Clone)]
pub struct InviteLink {
    pub org_slug: Option<String>,
    pub member_id: i64,
    pub token: String,
}

impl InviteLink {
    /// A link from the parts of a URL or a form; a member id that is not a number, like any
    /// other wrong link, is just an invalid link.
    pub fn parse(org_slug: Option<String>, member_id: &str, token: String) -> Result<Self, AcceptError> {
        let member_id = member_id.parse().map_err(|_| AcceptError::Refused(Refusal::Invalid))?;
        Ok(Self { org_slug: org_slug.filter(|slug| !slug.is_empty()), member_id, token })
    }

    /// The invite page of this link, `/accept/{member_id}/{token}/`.
    pub fn page_path(&self) -> String {
        format!("/accept/{}/{}/", self.member_id, self.token)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("{}", .0.details())]
    Refused(Refusal),
    /// An expired invite, with who sent it so the page can say whom to ask (§5.5).
    #[error("{}", Refusal::Expired.details())]
    Expired { inviter_name: Option<String> },
    #[error(transparent)]
    Internal(anyhow::Error),
}
internal_errors!(AcceptError: sqlx::Error, tower_sessions::session::Error, super::accounts::CurrentUserError);

impl AcceptError {
    /// The refusal of §5.2/§5.3 this error is, if it is one.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Self::Refused(refusal) => Some(*refusal),
            Self::Expired { .. } => Some(Refusal::Expired),
            Self::Internal(_) => None,
        }
    }
}

impl Failure for AcceptError {
    fn problem(self) -> Problem {
        let refused = |refusal: Refusal| Problem::new(Kind::Refused, refusal.reason(), refusal.details());
        match self {
            Self::Refused(refusal) => refused(refusal),
            Self::Expired { .. } => refused(Refusal::Expired),
            Self::Internal(err) => Problem::internal(err),
        }
    }
}

/// What the invite page shows (the details JSON of §5.2).
#[derive(Debug, Clone)]
pub struct Details {
    pub org: OrgRow,
    pub invited_email: String,
    pub inviter_name: Option<String>,
    pub visitor: Visitor,
    /// The first check of §5.3 this visitor fails now (`first_refusal`), if any.
    pub refusal: Option<Refusal>,
    pub signed_in_email: Option<String>,
    /// The organization's identity provider: its display name and whether SSO is required.
    pub sso: Option<SsoFacts>,
}

/// What the invite page needs to know about the organization's single sign-on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoFacts {
    pub provider_name: String,
    pub required: bool,
}

/// Loads the invite a link names (with its organization, inviter and provider, in one
/// query) and checks it is still valid (§5.2's first checks). Every way a link can be
/// wrong gives the same `invalid`, except a correct token of an expired or an accepted
/// invite.
async fn valid_invite(conn: &mut db::Conn, link: &InviteLink) -> Result<InviteContext, AcceptError> {
    let Some(ctx) = members::invite_context(conn, link.member_id).await? else {
        return Err(AcceptError::Refused(Refusal::Invalid));
    };
    check_valid(ctx, link)
}

/// [`valid_invite`]'s checks on an invite already read.
fn check_valid(ctx: InviteContext, link: &InviteLink) -> Result<InviteContext, AcceptError> {
    let refuse = |r| Err(AcceptError::Refused(r));
    let row = &ctx.row;
    if link.org_slug.as_deref().is_some_and(|slug| slug != ctx.org.slug) {
        return refuse(Refusal::Invalid);
    }
    if !row.is_pending() {
        return if invite::token_matches(&link.token, row.accepted_token_hash.as_deref()) {
            refuse(Refusal::AlreadyUsed)
        } else {
            refuse(Refusal::Invalid)
        };
    }
    if row.invite_status != InviteStatus::Approved || !invite::token_matches(&link.token, row.token_hash.as_deref()) {
        return refuse(Refusal::Invalid);
    }
    if invite::is_expired(row.token_expires_at, db::now()) {
        return Err(AcceptError::Expired { inviter_name: ctx.inviter_name });
    }
    Ok(ctx)
}

/// What the accept checks need to know about this visitor and this invite. `proof` is an
/// address the user has just proven through the identity provider (its verified email).
pub(super) async fn visitor(
    conn: &mut db::Conn,
    ctx: &InviteContext,
    user: Option<&UserRow>,
    proof: Option<&str>,
) -> Result<Visitor, sqlx::Error> {
    let (org, row) = (&ctx.org, &ctx.row);
    let invited = row.email.as_deref().unwrap_or_default();
    let require_sso = ctx.sso.as_ref().is_some_and(|(_, required)| *required);
    let Some(user) = user else {
        return Ok(Visitor::anonymous(org.require_2fa, require_sso));
    };
    let email_matches = user.email == invited || proof == Some(invited);
    // Accepting turns the invite's reserved seat into a membership: it fits while the
    // memberships, with this one, fit the limit.
    let at_seat_limit = match org.member_limit {
        Some(_) => !seats::fit(org.member_limit, members::memberships_count(conn, org.id).await? + 1),
        None => false,
    };
    Ok(Visitor {
        signed_in: true,
        existing_member: members::membership(conn, org.id, user.id).await?.is_some(),
        email_matches,
        allow_email_mismatch: org.allow_email_mismatch,
        needs_2fa: needs_2fa(conn, org, user).await?,
        // Accepting with the invited address proves the mailbox.
        needs_email_verification: org.require_email_verification && !user.email_verified && !email_matches,
        needs_sso: needs_sso(conn, org, require_sso, user).await?,
        at_seat_limit,
        domain_mismatch: false,
    })
}

/// §5.3 step 5 for a signed-in user: the organization requires 2FA and they have none.
pub(super) async fn needs_2fa(conn: &mut db::Conn, org: &OrgRow, user: &UserRow) -> Result<bool, sqlx::Error> {
    Ok(org.require_2fa && !two_factor::is_enrolled(conn, user.id).await?)
}

/// §5.3 step 7 for a signed-in user: the organization requires SSO and this session has
/// not signed in through the provider (a sign-in in this session, not a link made once,
/// §9.10, through an identity still linked).
pub(super) async fn needs_sso(
    conn: &mut db::Conn,
    org: &OrgRow,
    require_sso: bool,
    user: &UserRow,
) -> Result<bool, sqlx::Error> {
    Ok(require_sso
        && !(user.sso_signed_in.contains(&org.id) && sso::identity_of_user(conn, org.id, user.id).await?.is_some()))
}

/// The invite's details. Changes no invite; remembers the invite in the session (and, for
/// anonymous visitors, allows one registration).
#[tracing::instrument(skip_all, fields(member_id = link.member_id))]
pub async fn details(state: &AppState, session: &Session, link: &InviteLink) -> Result<Details, AcceptError> {
    let user = super::accounts::signed_in(state, session).await?;
    let mut conn = state.db.conn().await?;
    let ctx = valid_invite(&mut conn, link).await?;
    let visitor = visitor(&mut conn, &ctx, user.as_ref(), None).await?;
    drop(conn);
    let InviteContext { org, row, inviter_name, sso } = ctx;
    let invited_email = row.email.clone().unwrap_or_default();
    session::set_pending_invite(
        session,
        &PendingInvite {
            member_id: row.id,
            org_id: org.id,
            org_slug: org.slug.clone(),
            token_hash: invite::hash_token(&link.token.to_ascii_lowercase()),
            email: invited_email.clone(),
        },
    )
    .await?;
    if user.is_none() {
        session::grant_invite_pass(session).await?;
    }
    let sso = sso.map(|(provider_name, required)| SsoFacts { provider_name, required });
    let refusal = first_refusal(&visitor);
    Ok(Details { org, invited_email, inviter_name, visitor, refusal, signed_in_email: user.map(|u| u.email), sso })
}

/// Accepts the invite for the signed-in user: every check of §5.3 in order, then one
/// transaction. Returns the organization joined.
#[tracing::instrument(skip_all, fields(member_id = link.member_id))]
pub async fn accept(
    state: &AppState,
    session: &Session,
    link: &InviteLink,
    ip: Option<&str>,
) -> Result<OrgRow, AcceptError> {
    let user = super::accounts::signed_in(state, session).await?;
    accept_as(state, session, link, user, None, ip).await
}

/// [`accept`] for a given user, who may have just proven the address `proof` through the
/// organization's identity provider (SSO callback).
pub async fn accept_as(
    state: &AppState,
    session: &Session,
    link: &InviteLink,
    user: Option<UserRow>,
    proof: Option<&str>,
    ip: Option<&str>,
) -> Result<OrgRow, AcceptError> {
    let ctx = valid_invite(&mut *state.db.conn().await?, link).await?;
    let token_hash = invite::hash_token(&link.token.to_ascii_lowercase());
    finish_accept(state, session, ctx, &token_hash, user, proof, ip).await
}

/// SSO callback without a link: the pending invite for `email` in the organization, when
/// there is a valid one, accepted for `user`, who proved `email` at the identity provider.
/// `Ok(None)` when there is no such invite.
pub async fn accept_for_email(
    state: &AppState,
    session: &Session,
    org_id: i64,
    email: &str,
    user: UserRow,
    ip: Option<&str>,
) -> Result<Option<OrgRow>, AcceptError> {
    let mut conn = state.db.conn().await?;
    let Some(row) = members::pending_for_email(&mut conn, org_id, email).await? else { return Ok(None) };
    let Some(token_hash) = row.token_hash.clone() else { return Ok(None) };
    if row.invite_status != InviteStatus::Approved || invite::is_expired(row.token_expires_at, db::now()) {
        return Ok(None);
    }
    let Some(ctx) = members::invite_context(&mut conn, row.id).await? else { return Ok(None) };
    drop(conn);
    finish_accept(state, session, ctx, &token_hash, Some(user), Some(email), ip).await.map(Some)
}

/// Steps 2–8 of §5.3, then the accepting transaction, for an invite already found valid.
/// The checks read outside the transaction (the write is guarded by the token and the
/// unique membership index), except in an organization with a seat limit, where the seat
/// count is held still under `lock_seats` from the check to the write.
pub(super) async fn finish_accept(
    state: &AppState,
    session: &Session,
    mut ctx: InviteContext,
    token_hash: &str,
    user: Option<UserRow>,
    proof: Option<&str>,
    ip: Option<&str>,
) -> Result<OrgRow, AcceptError> {
    let mut locked = hold_seats(state, &mut ctx).await?;
    let facts = match locked.as_mut() {
        Some(tx) => visitor(tx, &ctx, user.as_ref(), proof).await?,
        None => visitor(&mut *state.db.conn().await?, &ctx, user.as_ref(), proof).await?,
    };
    let row = &ctx.row;
    let (Some(user), None) = (user, first_refusal(&facts)) else {
        let refusal = first_refusal(&facts).unwrap_or(Refusal::NeedsAuthentication);
        if refusal == Refusal::ExistingMember && facts.email_matches {
            // The invite addressed to this member is now pointless: delete it, and only it.
            delete_invite(state, locked, row.id).await?;
            forget_pending_invite(session, row.id).await?;
        }
        return Err(AcceptError::Refused(refusal));
    };

    let mut tx = match locked {
        Some(tx) => tx,
        None => state.db.begin().await?,
    };
    let now = db::now();
    match members::accept(&mut tx, row.id, token_hash, user.id, now).await {
        Ok(true) => {}
        // Another request accepted it between our read and our write.
        Ok(false) => return Err(AcceptError::Refused(Refusal::AlreadyUsed)),
        Err(err) if db::is_unique_violation(&err) => return Err(AcceptError::Refused(Refusal::ExistingMember)),
        Err(err) => return Err(err.into()),
    }
    // Accepting with the invited address proves the mailbox (§4.3, §5.3 step 6): the one
    // place that says so.
    if row.email.as_deref().unwrap_or_default() == user.email && !user.email_verified {
        users::set_email_verified(&mut tx, user.id).await?;
    }
    record_accept(&mut tx, ctx.org.id, row, &user, proof, ip, now).await?;
    tx.commit().await?;
    forget_pending_invite(session, row.id).await?;
    tracing::info!(member_id = row.id, user_id = user.id, org_id = ctx.org.id, "invite accepted");
    crate::server::metrics::joined("invite");
    Ok(ctx.org)
}

/// In an organization with a seat limit: a transaction holding the seat count still
/// (`lock_seats`) from the check to the write, with the organization read again under it.
/// `None` elsewhere.
async fn hold_seats(state: &AppState, ctx: &mut InviteContext) -> Result<Option<db::Tx>, AcceptError> {
    if ctx.org.member_limit.is_none() {
        return Ok(None);
    }
    let mut tx = state.db.begin().await?;
    organizations::lock_seats(&mut tx, state.db.kind(), ctx.org.id).await?;
    ctx.org = organizations::find_by_id(&mut tx, ctx.org.id).await?.ok_or(AcceptError::Refused(Refusal::Invalid))?;
    Ok(Some(tx))
}

/// Deletes the pending invite `member_id`: in the transaction holding the seats when there
/// is one (then committed), else on its own.
async fn delete_invite(state: &AppState, locked: Option<db::Tx>, member_id: i64) -> Result<(), AcceptError> {
    match locked {
        Some(mut tx) => {
            members::delete_pending(&mut tx, member_id).await?;
            tx.commit().await?;
        }
        None => {
            members::delete_pending(&mut *state.db.conn().await?, member_id).await?;
        }
    }
    Ok(())
}

/// What an accepted invite writes beside the membership: the `member.accept-invite` audit
/// entry (with the teams joined, the address it was accepted as when not the invited one,
/// and `via: sso` when the provider proved the address) and the `member.joined` event.
async fn record_accept(
    conn: &mut db::Conn,
    org_id: i64,
    row: &MemberRow,
    user: &UserRow,
    proof: Option<&str>,
    ip: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let invited = row.email.clone().unwrap_or_default();
    let teams = db::teams::member_slugs(conn, row.id).await?;
    let mut data = json!({
        "email": invited, "role": row.role, "teams": teams,
        "invite_status": row.invite_status, "user": user.id,
    });
    if invited != user.email {
        data["accepted_as"] = json!(user.email);
    }
    if proof.is_some() {
        data["via"] = json!("sso");
    }
    audit::insert(
        conn,
        audit::NewEntry {
            org_id,
            actor_id: Some(user.id),
            event: "member.accept-invite",
            target_member_id: Some(row.id),
            target_user_id: Some(user.id),
            target_email: Some(&invited),
            ip,
            data,
            now,
        },
    )
    .await?;
    super::organizations::announce_joined(conn, org_id, row.id, user.id, true, now).await
}

/// Clears the session's pending invite when it is this one (another pending invite stays).
async fn forget_pending_invite(session: &Session, member_id: i64) -> Result<(), tower_sessions::session::Error> {
    if session::pending_invite(session).await?.is_some_and(|p| p.member_id == member_id) {
        session::clear_pending_invite(session).await?;
    }
    Ok(())
}

/// The invite pending in the session, while it still names a valid invite, with its link
/// (derived again from the row, since the session keeps only the token's hash).
#[derive(Debug, Clone)]
pub struct PendingLink {
    pub pending: PendingInvite,
    pub link: InviteLink,
}

/// After registration or login: the pending invite in the session, if it still names a
/// valid invite through its current link (a stale one — revoked, regenerated, expired,
/// accepted, or made before tokens were derived — is dropped from the session).
pub async fn pending_link(state: &AppState, session: &Session) -> Result<Option<PendingLink>, AcceptError> {
    let Some(pending) = session::pending_invite(session).await? else { return Ok(None) };
    let ctx = members::invite_context(&mut *state.db.conn().await?, pending.member_id).await?;
    let valid = ctx.and_then(|ctx| {
        let token = super::invites::invite_token(state, ctx.row.id, ctx.row.token_generation);
        let link = InviteLink { org_slug: None, member_id: ctx.row.id, token: token.expose().to_owned() };
        let opened = invite::token_matches(&link.token, Some(&pending.token_hash));
        (opened && check_valid(ctx, &link).is_ok()).then_some(link)
    });
    let Some(link) = valid else {
        session::clear_pending_invite(session).await?;
        return Ok(None);
    };
    Ok(Some(PendingLink { pending, link }))
}

/// Whether accepting the pending invite without the user's own click is allowed: only for
/// the address it was sent to (SPEC §4.3 step 4), or one the organization's provider has
/// just proven for this user. A link planted by another site's navigation never joins
/// anyone to anything.
pub fn may_accept_implicitly(pending: &PendingInvite, user: &UserRow, proven: Option<&str>) -> bool {
    pending.email == user.email || proven == Some(pending.email.as_str())
}

/// After a step that may have lifted a refusal (2FA enrolment, email verification): the
/// invite pending in the session is accepted when §5.3 now allows it (SPEC §6). Returns
/// the organization joined; a refusal leaves the invite pending and is not an error.
pub async fn accept_pending(state: &AppState, session: &Session, ip: Option<&str>) -> anyhow::Result<Option<OrgRow>> {
    let pending = match pending_link(state, session).await {
        Ok(Some(pending)) => pending,
        Ok(None) | Err(AcceptError::Refused(_) | AcceptError::Expired { .. }) => return Ok(None),
        Err(AcceptError::Internal(err)) => return Err(err),
    };
    let Some(user) = super::accounts::signed_in(state, session).await? else { return Ok(None) };
    if !may_accept_implicitly(&pending.pending, &user, None) {
        return Ok(None);
    }
    match accept_as(state, session, &pending.link, Some(user), None, ip).await {
        Ok(org) => Ok(Some(org)),
        Err(AcceptError::Internal(err)) => Err(err),
        Err(_) => Ok(None),
    }
}
