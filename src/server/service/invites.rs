//! Inviting by email, revoking and cleaning up invites (SPEC §5.1, §5.8).

use serde_json::json;

use super::internal_errors;
use super::limits::Limited;
use super::organizations::{self as orgs, Membership, OrgError};
use super::problem::{Failure, Kind, Problem, INVALID};
use crate::model::{BulkStatus, InviteStatus};
use crate::server::db::organizations::OrgRow;
use crate::server::db::users::UserRow;
use crate::server::db::{self, audit, members, members::MemberRow, outbox, users};
use crate::server::domain::invite::{self, InviteKey, InviteToken, DAY_SECS};
use crate::server::domain::{seats, EmailAddress, FieldErrors, Role};
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
    #[error("{}", INVALID)]
    Invalid(FieldErrors),
    /// No such organization (or not a member), member, invite or request.
    #[error("There is no such organization, member or invite, or you are not a member.")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    /// The address is already a member, invited or asked for: said beside the address.
    #[error("{0}")]
    AddressTaken(&'static str),
    /// The state of the organization does not allow it (the last owner, an expired invite).
    #[error("{0}")]
    Conflict(&'static str),
    #[error("{0}")]
    RateLimited(Limited),
    #[error("{}", SEAT_LIMIT)]
    SeatLimit,
    /// The actor must link an identity at the organization's provider first.
    #[error("{0}")]
    SsoRequired(String),
    /// The change would leave the organization without an owner.
    #[error("{0}")]
    LastOwner(&'static str),
    #[error("There is no such team in this organization.")]
    NoSuchTeam,
    /// The actor's password, asked again for a sensitive change, was not given right.
    #[error(transparent)]
    Reauth(super::accounts::ReauthError),
    #[error(transparent)]
    Internal(anyhow::Error),
}
internal_errors!(InviteError: sqlx::Error, tower_sessions::session::Error);
super::rate_limited_errors!(InviteError);

impl Failure for InviteError {
    fn problem(self) -> Problem {
        let sentence = self.to_string();
        match self {
            Self::Invalid(fields) => Problem::invalid(fields),
            Self::NotFound => Problem::new(Kind::NotFound, "not_found", sentence),
            Self::Forbidden(_) => Problem::new(Kind::Forbidden, "forbidden", sentence),
            Self::AddressTaken(_) => Problem::new(Kind::Conflict, "conflict", sentence).at_field("email"),
            Self::Conflict(_) => Problem::new(Kind::Conflict, "conflict", sentence),
            Self::RateLimited(limited) => Problem::limited(limited),
            Self::SeatLimit => Problem::new(Kind::Conflict, "seat_limit", sentence),
            Self::SsoRequired(_) => Problem::new(Kind::NotAuthenticated, "sso_required", sentence),
            Self::LastOwner(_) => Problem::new(Kind::Conflict, "last_owner", sentence),
            Self::NoSuchTeam => Problem::new(Kind::NotFound, "not_found", sentence),
            Self::Reauth(err) => err.problem(),
            Self::Internal(err) => Problem::internal(err),
        }
    }
}

/// What a daily invite limit of the address says when it is reached.
pub const ADDRESS_LIMITED: &str = "This address has been invited too many times today. Try again tomorrow.";

/// Refuses when a daily limit counted from the audit log is reached. Call under the
/// organization's lock, in the transaction that writes the send's audit entry, so that
/// the count and the new entry are one step for concurrent sends. `Retry-After` is when
/// the oldest counted send leaves the rolling day.
fn within_daily(
    limit: &'static str,
    sent: members::SentSince,
    max: i64,
    now: i64,
    message: &'static str,
) -> Result<(), InviteError> {
    if sent.count < max {
        return Ok(());
    }
    crate::server::metrics::rate_limited(limit);
    let retry_after_secs = sent.oldest.map_or(DAY_SECS, |oldest| oldest + DAY_SECS - now).max(1) as u64;
    Err(InviteError::RateLimited(Limited { message, retry_after_secs }))
}

/// Refuses when the organization has sent the address its daily share of invites (SPEC
/// §5.1): new invites, resends, regenerates and approved requests all count. Call like
/// [`within_daily`], under the organization's lock.
pub(super) async fn within_address_limit(
    conn: &mut db::Conn,
    org_id: i64,
    email: &str,
    now: i64,
) -> Result<(), InviteError> {
    let to_address = members::sends_to_address_since(conn, now - DAY_SECS, org_id, email).await?;
    within_daily("invites-address-day", to_address, PER_ADDRESS_PER_DAY, now, ADDRESS_LIMITED)
}

/// The pending row `member_id` of organization `org_id` (an invite or a request) when
/// `wanted` accepts its status; `NotFound` otherwise.
pub(super) async fn find_pending(
    conn: &mut db::Conn,
    org_id: i64,
    member_id: i64,
    wanted: impl FnOnce(InviteStatus) -> bool,
) -> Result<MemberRow, InviteError> {
    let row = members::find(conn, member_id).await?;
    row.filter(|r| r.organization_id == org_id && r.is_pending() && wanted(r.invite_status))
        .ok_or(InviteError::NotFound)
}

/// Whether the address belongs to a member of organization `org_id`.
pub(super) async fn is_member(conn: &mut db::Conn, org_id: i64, email: &str) -> Result<bool, sqlx::Error> {
    Ok(match users::find_by_email(conn, email).await? {
        Some(user) => members::membership(conn, org_id, user.id).await?.is_some(),
        None => false,
    })
}

pub const SEAT_LIMIT: &str =
    "This organization has no seats left: members and pending invites fill its member limit. Raise the limit or revoke an invite first.";

/// Refuses when members and pending invites already fill the organization's seat limit.
/// Call inside the transaction that takes the seat, after `lock_seats`.
pub async fn check_seat(conn: &mut db::Conn, org_id: i64) -> Result<(), InviteError> {
    let org = crate::server::db::organizations::find_by_id(conn, org_id).await?.ok_or(InviteError::NotFound)?;
    if org.member_limit.is_some() && !seats::fit(org.member_limit, members::seats_used(conn, org_id).await? + 1) {
        return Err(InviteError::SeatLimit);
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

/// The token of invite `member_id` at `generation`, derived under the instance secret.
pub fn invite_token(state: &AppState, member_id: i64, generation: i64) -> InviteToken {
    InviteKey::derive(&state.secret).token(member_id, generation)
}

/// The link of an invite email.
pub fn invite_link(state: &AppState, member_id: i64, token: &str) -> String {
    format!("{}/accept/{member_id}/{token}/", state.config.public_url())
}

/// Invites an address; returns the pending row and, for callers that hand links out
/// directly (admin commands), the link.
#[tracing::instrument(skip_all, fields(org = slug))]
pub async fn create(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    input: InviteInput,
) -> Result<(MemberRow, String), InviteError> {
    let membership = inviting(state, actor, slug).await?;
    let mut errors = FieldErrors::new();
    let email = errors.check("email", EmailAddress::parse(&input.email));
    let terms = terms(state, &membership, &input, &mut errors).await?;
    let (Some(email), Some(terms)) = (email, terms) else { return Err(InviteError::Invalid(errors)) };
    terms.granted_by(&membership)?;
    invite_one(state, actor, &membership.org, &email, &terms, input.send_invite).await
}

/// The inviter's membership: owners and managers invite (SPEC §5.1).
async fn inviting(state: &AppState, actor: &UserRow, slug: &str) -> Result<Membership, InviteError> {
    Ok(orgs::manager_membership(
        state,
        actor,
        slug,
        "You do not have permission to invite members; ask an owner or manager, or request an invite.",
    )
    .await?)
}

/// One address invited under checked terms, in its own transaction: the daily limits, the
/// address not taken, a seat; then the row, its audit entry, event and email.
async fn invite_one(
    state: &AppState,
    actor: &UserRow,
    org: &OrgRow,
    email: &EmailAddress,
    terms: &InviteTerms,
    send_invite: bool,
) -> Result<(MemberRow, String), InviteError> {
    let email = email.as_str();
    let now = db::now();
    let mut tx = state.db.begin().await?;
    crate::server::db::organizations::lock_seats(&mut tx, state.db.kind(), org.id).await?;
    // The inviter's daily count spans organizations: their own row is locked too.
    users::lock(&mut tx, state.db.kind(), actor.id).await?;
    within_daily_limits(&mut tx, org.id, actor.id, email, now).await?;
    claim_address(&mut tx, org.id, email).await?;
    check_seat(&mut tx, org.id).await?;
    let (row, token) = write_invite(&mut tx, state, org.id, actor.id, email, terms, now).await?;
    let link = invite_link(state, row.id, token.expose());
    let sent = InviteSent {
        org,
        sender: actor,
        member_id: row.id,
        email,
        audit_event: "member.invite",
        data: json!({"email": email, "role": terms.role.as_str(), "teams": terms.team_slugs}),
        link: &link,
        days: terms.days,
        now,
    };
    sent.write(&mut tx, send_invite).await?;
    tx.commit().await?;
    tracing::info!(member_id = row.id, "invite created");
    Ok((row, link))
}

/// What several people are invited with at once (SPEC §5.9).
#[derive(Debug, Default)]
pub struct BulkInput {
    pub emails: Vec<String>,
    pub role: Option<String>,
    pub teams: Vec<String>,
    pub send_invite: bool,
}

/// What became of one address of a bulk invite.
#[derive(Debug, Clone)]
pub struct BulkResult {
    /// The address, trimmed and lower-cased.
    pub email: String,
    pub status: BulkStatus,
    /// The invite, when one was made.
    pub member: Option<MemberRow>,
    /// The sentence saying why not, otherwise.
    pub reason: Option<String>,
    /// For `limited`: when the limit lets this address through again.
    pub retry_after: Option<u64>,
}

/// Invites up to [`MAX_BULK`](crate::server::domain::email::MAX_BULK) addresses with one
/// role and set of teams (SPEC §5.9). The request's own faults (no addresses, too many, a
/// bad role or team, a role above the actor's) refuse it whole; after that each address
/// is invited on its own, exactly as one invite is — its own transaction, limits and seat
/// — so the valid ones are invited whatever becomes of the others.
#[tracing::instrument(skip_all, fields(org = slug, addresses = input.emails.len()))]
pub async fn bulk(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    input: BulkInput,
) -> Result<Vec<BulkResult>, InviteError> {
    let membership = inviting(state, actor, slug).await?;
    let mut errors = FieldErrors::new();
    let addresses = errors.check("emails", crate::server::domain::email::bulk_addresses(&input.emails));
    let one = InviteInput {
        email: String::new(),
        role: input.role,
        teams: input.teams,
        send_invite: input.send_invite,
        expires_in_days: None,
    };
    let terms = terms(state, &membership, &one, &mut errors).await?;
    let (Some(addresses), Some(terms)) = (addresses, terms) else { return Err(InviteError::Invalid(errors)) };
    terms.granted_by(&membership)?;
    let mut results = Vec::with_capacity(addresses.len());
    for address in addresses {
        let outcome = match EmailAddress::parse(&address) {
            Err(why) => Err(InviteError::Invalid(FieldErrors::single("email", why.join(" ")))),
            Ok(email) => invite_one(state, actor, &membership.org, &email, &terms, one.send_invite).await,
        };
        results.push(bulk_result(address, outcome)?);
    }
    Ok(results)
}

/// One address's outcome; a failure that is not about the address (the database) ends the
/// whole request.
fn bulk_result(email: String, outcome: Result<(MemberRow, String), InviteError>) -> Result<BulkResult, InviteError> {
    let refused = |status: BulkStatus, reason: String, retry_after: Option<u64>| BulkResult {
        email: email.clone(),
        status,
        member: None,
        reason: Some(reason),
        retry_after,
    };
    Ok(match outcome {
        Ok((row, _)) => {
            BulkResult { email, status: BulkStatus::Invited, member: Some(row), reason: None, retry_after: None }
        }
        Err(InviteError::AddressTaken(ALREADY_MEMBER)) => {
            refused(BulkStatus::AlreadyMember, ALREADY_MEMBER.into(), None)
        }
        Err(InviteError::AddressTaken(why)) => refused(BulkStatus::AlreadyInvited, why.into(), None),
        Err(InviteError::Invalid(fields)) => {
            let why = fields.get("email").join(" ");
            refused(BulkStatus::Invalid, if why.is_empty() { "Enter a valid email address.".into() } else { why }, None)
        }
        Err(InviteError::RateLimited(limited)) => {
            refused(BulkStatus::Limited, limited.message.to_owned(), Some(limited.retry_after_secs))
        }
        Err(InviteError::SeatLimit) => refused(BulkStatus::SeatLimit, SEAT_LIMIT.into(), None),
        Err(other) => return Err(other),
    })
}

/// What an invite is sent with, once checked: everything but the address.
struct InviteTerms {
    role: Role,
    /// How many days the link works.
    days: i64,
    team_ids: Vec<i64>,
    team_slugs: Vec<String>,
}

impl InviteTerms {
    /// The role must be one the actor may grant.
    fn granted_by(&self, membership: &Membership) -> Result<(), InviteError> {
        if membership.role.can_grant(self.role) {
            Ok(())
        } else {
            Err(InviteError::Forbidden("You cannot invite someone with a role higher than your own."))
        }
    }
}

/// Checks the role (none: the organization's default, SPEC §5.1), the expiry and the teams
/// (they must be the organization's), adding each field's errors to `errors`.
async fn terms(
    state: &AppState,
    membership: &Membership,
    input: &InviteInput,
    errors: &mut FieldErrors,
) -> Result<Option<InviteTerms>, InviteError> {
    let role = match input.role.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => Some(membership.org.default_role),
        Some(raw) => errors.check("role", raw.parse::<Role>().map_err(|e| vec![e])),
    };
    let days = errors.check(
        "expiresInDays",
        invite::validity_days(input.expires_in_days, state.config.invite_days_valid).map_err(|e| vec![e]),
    );
    let mut team_ids = Vec::new();
    {
        let mut conn = state.db.conn().await?;
        for team in &input.teams {
            match crate::server::db::teams::find(&mut conn, membership.org.id, team).await? {
                Some((id, _)) => team_ids.push(id),
                None => errors.add("teams", format!("Unknown team \"{team}\".")),
            }
        }
    }
    let (Some(role), Some(days), true) = (role, days, errors.is_empty()) else { return Ok(None) };
    Ok(Some(InviteTerms { role, days, team_ids, team_slugs: input.teams.clone() }))
}

/// The daily limits of a new invite (SPEC §5.1): the inviter's, the organization's and the
/// address's. Call under the organization's lock and the inviter's own.
async fn within_daily_limits(
    conn: &mut db::Conn,
    org_id: i64,
    inviter_id: i64,
    email: &str,
    now: i64,
) -> Result<(), InviteError> {
    let day_ago = now - DAY_SECS;
    let by_inviter = members::invites_since(conn, day_ago, Some(inviter_id), None, None).await?;
    within_daily(
        "invites-inviter-day",
        by_inviter,
        PER_INVITER_PER_DAY,
        now,
        "You have sent too many invites today. Try again tomorrow.",
    )?;
    let by_org = members::invites_since(conn, day_ago, None, Some(org_id), None).await?;
    within_daily(
        "invites-org-day",
        by_org,
        PER_ORG_PER_DAY,
        now,
        "This organization has sent too many invites today. Try again tomorrow.",
    )?;
    within_address_limit(conn, org_id, email, now).await
}

/// Refuses an address that is a member already or has a pending invite; an invite request
/// or join request for it is deleted, since the invite replaces it.
async fn claim_address(conn: &mut db::Conn, org_id: i64, email: &str) -> Result<(), InviteError> {
    if is_member(conn, org_id, email).await? {
        return Err(InviteError::AddressTaken(ALREADY_MEMBER));
    }
    if let Some(pending) = members::pending_for_email(conn, org_id, email).await? {
        if pending.invite_status == InviteStatus::Approved {
            return Err(InviteError::AddressTaken(ALREADY_INVITED));
        }
        // An invite request or join request for this address is replaced by the invite.
        members::delete_pending(conn, pending.id).await?;
    }
    Ok(())
}

/// Writes the invite row with its first token (generation 0) and its teams; an address
/// invited meanwhile (the unique index decides) is `AddressTaken`.
async fn write_invite(
    conn: &mut db::Conn,
    state: &AppState,
    org_id: i64,
    inviter_id: i64,
    email: &str,
    terms: &InviteTerms,
    now: i64,
) -> Result<(MemberRow, InviteToken), InviteError> {
    let new = members::NewInvite {
        org_id,
        email,
        role: terms.role,
        inviter_id,
        expires_at: now + terms.days * DAY_SECS,
        now,
    };
    let row = match members::insert_invite(conn, new).await {
        Ok(row) => row,
        Err(err) if db::is_unique_violation(&err) => return Err(InviteError::AddressTaken(ALREADY_INVITED)),
        Err(err) => return Err(err.into()),
    };
    let token = invite_token(state, row.id, 0);
    members::set_token(conn, row.id, &token.hash(), now + terms.days * DAY_SECS, 0).await?;
    let row = MemberRow { token_hash: Some(token.hash()), token_generation: 0, ..row };
    members::add_to_teams(conn, row.id, &terms.team_ids).await?;
    Ok((row, token))
}

/// An invite link going out (a new invite, an approved request, a resend or regenerate):
/// what its audit entry, its email and its `member.invited` event (not written for a
/// resend or regenerate) say. The audit entry is what the address's daily limit counts.
pub(super) struct InviteSent<'a> {
    pub org: &'a OrgRow,
    /// The actor, in whose name the email goes.
    pub sender: &'a UserRow,
    pub member_id: i64,
    pub email: &'a str,
    pub audit_event: &'a str,
    pub data: serde_json::Value,
    pub link: &'a str,
    /// How many days the link works, as the email says it.
    pub days: i64,
    pub now: i64,
}

impl InviteSent<'_> {
    /// The audit entry, the `member.invited` event and, when `mail`, the invite email, in
    /// that order, in the caller's transaction.
    pub(super) async fn write(&self, conn: &mut db::Conn, mail: bool) -> Result<(), sqlx::Error> {
        self.audit(conn).await?;
        outbox::queue_event(
            conn,
            "member.invited",
            self.org.id,
            &json!({"memberId": self.member_id, "email": self.email, "actorId": self.sender.id}),
            self.now,
        )
        .await?;
        if mail {
            self.mail(conn).await?;
        }
        Ok(())
    }

    /// The audit entry alone.
    pub(super) async fn audit(&self, conn: &mut db::Conn) -> Result<(), sqlx::Error> {
        let entry = audit::NewEntry {
            org_id: self.org.id,
            actor_id: Some(self.sender.id),
            event: self.audit_event,
            target_member_id: Some(self.member_id),
            target_user_id: None,
            target_email: Some(self.email),
            ip: self.sender.client_ip.as_deref(),
            data: self.data.clone(),
            now: self.now,
        };
        audit::insert(conn, entry).await
    }

    /// The invite email alone, queued in the outbox.
    pub(super) async fn mail(&self, conn: &mut db::Conn) -> Result<(), sqlx::Error> {
        let mail = super::mails::invite(&self.sender.name, &self.org.name, self.link, self.days);
        super::mails::queue(conn, self.email, &mail, Some(self.member_id), self.now).await?;
        Ok(())
    }
}

/// Revokes a pending invite (its link then says the invite is no longer valid).
pub async fn revoke(state: &AppState, actor: &UserRow, slug: &str, member_id: i64) -> Result<(), InviteError> {
    let membership =
        orgs::manager_membership(state, actor, slug, "You do not have permission to revoke invites.").await?;
    let approved = |status| status == InviteStatus::Approved;
    delete_pending_row(state, &membership, actor, member_id, approved, |_| ("invite.revoke", Some("invite.revoked")))
        .await
}

/// Deletes a pending row of the organization whose status is `wanted` (an invite, a request),
/// audits it and announces it as `events` names them (audit event, outbox event), in one
/// transaction. Revoking and rejecting.
pub(super) async fn delete_pending_row(
    state: &AppState,
    membership: &Membership,
    actor: &UserRow,
    member_id: i64,
    wanted: impl FnOnce(InviteStatus) -> bool,
    events: impl Fn(&MemberRow) -> (&'static str, Option<&'static str>),
) -> Result<(), InviteError> {
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let row = find_pending(&mut tx, membership.org.id, member_id, wanted).await?;
    if !membership.role.can_manage(row.role) {
        return Err(InviteError::Forbidden(HIGHER_ROLE_INVITE));
    }
    members::delete_pending(&mut tx, row.id).await?;
    let (event, announced) = events(&row);
    if let Some(announced) = announced {
        let payload = json!({"memberId": row.id, "email": row.email, "actorId": actor.id});
        outbox::queue_event(&mut tx, announced, membership.org.id, &payload, now).await?;
    }
    let data = json!({"email": row.email, "role": row.role});
    audit::insert(&mut tx, audit::NewEntry::about_member(&row, actor.id, actor.client_ip.as_deref(), event, data, now))
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

/// What a manager is told about an invite for an owner: only owners resend, regenerate or
/// revoke it, as only they could have sent it.
const HIGHER_ROLE_INVITE: &str = "You cannot change an invite for a role higher than your own.";

/// What resending an expired invite answers (SPEC §5.1).
pub const RESEND_EXPIRED: &str = "You cannot resend an expired invitation without regenerating it.";

/// Resend or regenerate a pending invite (SPEC §5.1). `resend` mails the same link again
/// (the token is derived, so it can be) and keeps the expiry, refusing an expired invite;
/// `regenerate` derives a new token and renews the expiry: the previous link stops working.
pub async fn reissue(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    member_id: i64,
    regenerate: bool,
) -> Result<MemberRow, InviteError> {
    let membership =
        orgs::manager_membership(state, actor, slug, "You do not have permission to resend invites.").await?;
    let org = &membership.org;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    // Resends and regenerates count against the address's daily limit (SPEC §5.1), under
    // the organization's lock like `create`, so that parallel ones are counted in turn.
    crate::server::db::organizations::lock(&mut tx, state.db.kind(), org.id).await?;
    let row = find_pending(&mut tx, org.id, member_id, |status| status == InviteStatus::Approved).await?;
    if !membership.role.can_manage(row.role) {
        return Err(InviteError::Forbidden(HIGHER_ROLE_INVITE));
    }
    let expired = invite::is_expired(row.token_expires_at, now);
    if !regenerate && expired {
        return Err(InviteError::Conflict(RESEND_EXPIRED));
    }
    let email = row.email.clone().unwrap_or_default();
    within_address_limit(&mut tx, org.id, &email, now).await?;
    let expires_at = if regenerate {
        now + i64::from(state.config.invite_days_valid) * DAY_SECS
    } else {
        row.token_expires_at.unwrap_or(now)
    };
    let (generation, token) = reissued_token(state, &row, regenerate);
    members::set_token(&mut tx, row.id, &token.hash(), expires_at, generation).await?;
    let link = invite_link(state, row.id, token.expose());
    let sent = InviteSent {
        org,
        sender: actor,
        member_id: row.id,
        email: &email,
        audit_event: if regenerate { "invite.regenerate" } else { "member.reinvite" },
        data: json!({"email": email, "role": row.role}),
        link: &link,
        days: (((expires_at - now) + DAY_SECS - 1) / DAY_SECS).max(1),
        now,
    };
    sent.mail(&mut tx).await?;
    sent.audit(&mut tx).await?;
    tx.commit().await?;
    Ok(MemberRow {
        token_expires_at: Some(expires_at),
        token_generation: generation,
        token_hash: Some(token.hash()),
        ..row
    })
}

/// The generation and token a reissued invite gets. A resend mails the link the invite
/// already has; a regenerate (or an invite whose token was not derived) moves to the next
/// generation, which kills the old link.
fn reissued_token(state: &AppState, row: &MemberRow, regenerate: bool) -> (i64, InviteToken) {
    let current = invite_token(state, row.id, row.token_generation);
    if !regenerate && invite::token_matches(current.expose(), row.token_hash.as_deref()) {
        (row.token_generation, current)
    } else {
        (row.token_generation + 1, invite_token(state, row.id, row.token_generation + 1))
    }
}
