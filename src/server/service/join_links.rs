//! Governed join links (SPEC §5.9): created and revoked by owners and managers, followed by
//! anyone holding one. A join runs the §5.3 policies (2FA, verified email, SSO, seats),
//! the link's email domain, and takes one of the link's uses atomically with the
//! membership it makes.

use serde_json::json;
use tower_sessions::Session;

use super::accept::{self, AcceptError, SsoFacts};
use super::invites::InviteError;
use super::organizations::{self as orgs, Membership};
use crate::model::Refusal;
use crate::server::auth::session::{self, PendingJoinLink};
use crate::server::db::join_links::{self, JoinLinkRow, LinkContext, NewLink};
use crate::server::db::organizations::OrgRow;
use crate::server::db::users::UserRow;
use crate::server::db::{self, audit, members, organizations};
use crate::server::domain::invite::{self, first_refusal, InviteKey, InviteToken, Visitor, DAY_SECS};
use crate::server::domain::join_link as rules;
use crate::server::domain::{seats, FieldErrors, Role};
use crate::server::state::AppState;

/// What an owner or manager asks for.
#[derive(Debug, Default, Clone)]
pub struct JoinLinkInput {
    pub expires_in_days: Option<i64>,
    pub max_uses: Option<i64>,
    pub role: Option<String>,
    pub email_domain: Option<String>,
}

/// The token of link `id`, derived under the instance secret (like an invite's), so that
/// the session can keep only its hash and the link's page can be named again.
fn token(state: &AppState, id: i64) -> InviteToken {
    InviteKey::join_links(&state.secret).token(id, 0)
}

/// The page of link `id`, `{public_url}/join/{token}/`.
fn url(state: &AppState, id: i64) -> String {
    format!("{}{}", state.config.public_url(), page_path(state, id))
}

fn page_path(state: &AppState, id: i64) -> String {
    format!("/join/{}/", token(state, id).expose())
}

async fn managing(state: &AppState, actor: &UserRow, slug: &str) -> Result<Membership, InviteError> {
    Ok(orgs::manager_membership(state, actor, slug, "Only owners and managers can manage join links.").await?)
}

/// Creates a link; returns it with its URL, the one time the token is shown.
#[tracing::instrument(skip_all, fields(org = slug))]
pub async fn create(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    input: JoinLinkInput,
) -> Result<(JoinLinkRow, String), InviteError> {
    let membership = managing(state, actor, slug).await?;
    let mut errors = FieldErrors::new();
    let days = errors.check("expiresInDays", rules::days(input.expires_in_days).map_err(|e| vec![e]));
    let max_uses = errors.check("maxUses", rules::max_uses(input.max_uses).map_err(|e| vec![e]));
    let role = match input.role.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => Some(Role::Member),
        Some(raw) => errors.check("role", raw.parse::<Role>().map_err(|e| vec![e])),
    };
    let domain = match input.email_domain.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => Some(None),
        Some(raw) => errors.check("emailDomain", rules::email_domain(raw).map(Some).map_err(|e| vec![e])),
    };
    let (Some(days), Some(max_uses), Some(role), Some(domain), true) =
        (days, max_uses, role, domain, errors.is_empty())
    else {
        return Err(InviteError::Invalid(errors));
    };
    if !rules::may_create(membership.role, role) {
        return Err(InviteError::Forbidden("Only owners can create join links for a role above member."));
    }
    let org = &membership.org;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    organizations::lock(&mut tx, state.db.kind(), org.id).await?;
    if join_links::count_active(&mut tx, org.id, now).await? >= rules::MAX_ACTIVE {
        return Err(InviteError::Conflict(
            "This organization has 50 active join links, the most it may have. Revoke one first.",
        ));
    }
    let new = NewLink {
        org_id: org.id,
        role,
        email_domain: domain.as_deref(),
        max_uses,
        expires_at: now + days * DAY_SECS,
        created_by: actor.id,
        now,
    };
    let id = join_links::insert(&mut tx, new).await?;
    join_links::set_token(&mut tx, id, &token(state, id).hash()).await?;
    let data = json!({
        "join_link": id, "role": role.as_str(), "max_uses": max_uses,
        "email_domain": domain, "expires_in_days": days,
    });
    audit::insert(&mut tx, audit::NewEntry::about_org(org.id, Some(actor), "join-link.create", data, now)).await?;
    let row = join_links::find(&mut tx, org.id, id).await?.ok_or(InviteError::NotFound)?;
    tx.commit().await?;
    tracing::info!(join_link = id, "join link created");
    Ok((row, url(state, id)))
}

/// The organization's links, newest first (the 200 newest).
pub async fn list(state: &AppState, actor: &UserRow, slug: &str) -> Result<Vec<JoinLinkRow>, InviteError> {
    let membership = managing(state, actor, slug).await?;
    Ok(join_links::list(&mut *state.db.conn().await?, membership.org.id, 200).await?)
}

/// The URL of the link this session has just created, shown once more by the page a form
/// post lands on (the session keeps only the id); `None` when there is none.
pub async fn just_created(
    state: &AppState,
    session: &Session,
    actor: &UserRow,
    slug: &str,
) -> Result<Option<(JoinLinkRow, String)>, InviteError> {
    let membership = managing(state, actor, slug).await?;
    let Some(id) = session::take_created_join_link(session, membership.org.id).await? else {
        return Ok(None);
    };
    let row = join_links::find(&mut *state.db.conn().await?, membership.org.id, id).await?;
    Ok(row.map(|row| (row, url(state, id))))
}

/// [`create`] from a page: the URL is kept (by the link's id) for the page the form lands on.
pub async fn create_from_page(
    state: &AppState,
    session: &Session,
    actor: &UserRow,
    slug: &str,
    input: JoinLinkInput,
) -> Result<(JoinLinkRow, String), InviteError> {
    let created = create(state, actor, slug, input).await?;
    session::set_created_join_link(session, created.0.organization_id, created.0.id).await?;
    Ok(created)
}

/// Revokes a link (again: nothing happens). A manager revokes only links of a role they
/// could grant.
pub async fn revoke(state: &AppState, actor: &UserRow, slug: &str, link_id: i64) -> Result<(), InviteError> {
    let membership = managing(state, actor, slug).await?;
    let org = &membership.org;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let link = join_links::find(&mut tx, org.id, link_id).await?.ok_or(InviteError::NotFound)?;
    if !membership.role.can_grant(link.role) {
        return Err(InviteError::Forbidden("You cannot revoke a join link for a role higher than your own."));
    }
    if join_links::revoke(&mut tx, link.id, actor.id, now).await? {
        let data = json!({"join_link": link.id, "role": link.role.as_str(), "uses": link.uses});
        audit::insert(&mut tx, audit::NewEntry::about_org(org.id, Some(actor), "join-link.revoke", data, now)).await?;
        tx.commit().await?;
        tracing::info!(join_link = link.id, "join link revoked");
    }
    Ok(())
}

/// What the join page shows.
#[derive(Debug, Clone)]
pub struct JoinDetails {
    pub org: OrgRow,
    pub link: JoinLinkRow,
    pub visitor: Visitor,
    /// The first check this visitor fails now, if any.
    pub refusal: Option<Refusal>,
    pub signed_in_email: Option<String>,
    pub sso: Option<SsoFacts>,
}

/// The link a token names, while it can be used: every wrong token (unknown, malformed)
/// is the same `invalid`; an ended link says how it ended.
async fn usable_link(conn: &mut db::Conn, token: &str) -> Result<LinkContext, AcceptError> {
    let invalid = AcceptError::Refused(Refusal::Invalid);
    if !invite::is_token_shaped(token) {
        return Err(invalid);
    }
    let ctx = join_links::by_token_hash(conn, &invite::hash_token(&token.to_ascii_lowercase())).await?;
    let ctx = ctx.ok_or(invalid)?;
    match ctx.link.state(db::now()).refusal() {
        Some(ended) => Err(AcceptError::Refused(ended)),
        None => Ok(ctx),
    }
}

/// What the checks of a join need to know about this visitor (§5.3 steps 2–8, the email
/// domain in the place of the invited address).
async fn visitor(conn: &mut db::Conn, ctx: &LinkContext, user: Option<&UserRow>) -> Result<Visitor, sqlx::Error> {
    let (org, link) = (&ctx.org, &ctx.link);
    let require_sso = ctx.sso.as_ref().is_some_and(|(_, required)| *required);
    let Some(user) = user else {
        return Ok(Visitor::anonymous(org.require_2fa, require_sso));
    };
    let domain = link.email_domain.as_deref();
    // A join takes a new seat: members and pending invites, with this one, must fit — the
    // user's own pending invite or request there, which the join replaces, aside.
    let own_pending = i64::from(members::pending_for_email(conn, org.id, &user.email).await?.is_some());
    let at_seat_limit = match org.member_limit {
        Some(_) => !seats::fit(org.member_limit, members::seats_used(conn, org.id).await? + 1 - own_pending),
        None => false,
    };
    Ok(Visitor {
        signed_in: true,
        existing_member: members::membership(conn, org.id, user.id).await?.is_some(),
        // Not addressed to anyone: the domain stands in for the address.
        email_matches: true,
        allow_email_mismatch: false,
        domain_mismatch: domain.is_some_and(|domain| !rules::at_domain(&user.email, domain)),
        needs_2fa: accept::needs_2fa(conn, org, user).await?,
        // A domain is only proof with a verified address.
        needs_email_verification: (org.require_email_verification || domain.is_some()) && !user.email_verified,
        needs_sso: accept::needs_sso(conn, org, require_sso, user).await?,
        at_seat_limit,
    })
}

/// The link's details. Changes nothing but the session: the link is remembered (its id and
/// token hash) so that registration and sign-in come back to it. It is no registration
/// pass: with `APP_REGISTRATION=invite_only` only an invite link opens registration (a
/// shared link is not addressed to anyone, and would open it for everyone who sees it).
#[tracing::instrument(skip_all)]
pub async fn details(state: &AppState, session: &Session, token: &str) -> Result<JoinDetails, AcceptError> {
    let user = super::accounts::signed_in(state, session).await?;
    let mut conn = state.db.conn().await?;
    let ctx = usable_link(&mut conn, token).await?;
    let facts = visitor(&mut conn, &ctx, user.as_ref()).await?;
    drop(conn);
    let LinkContext { link, org, sso } = ctx;
    let pending = PendingJoinLink {
        link_id: link.id,
        org_id: org.id,
        token_hash: invite::hash_token(&token.to_ascii_lowercase()),
        org_name: org.name.clone(),
    };
    session::set_pending_join_link(session, &pending).await?;
    Ok(JoinDetails {
        refusal: first_refusal(&facts),
        visitor: facts,
        signed_in_email: user.map(|u| u.email),
        sso: sso.map(|(provider_name, required)| SsoFacts { provider_name, required }),
        org,
        link,
    })
}

/// Joins the signed-in user through the link: every check, then one transaction that takes
/// a use (only while one is left), makes the membership with the link's role, and writes
/// the audit entry (with the link's id) and the `member.joined` event. Returns the
/// organization joined.
#[tracing::instrument(skip_all)]
pub async fn join(state: &AppState, session: &Session, token: &str, ip: Option<&str>) -> Result<OrgRow, AcceptError> {
    let user = super::accounts::signed_in(state, session).await?;
    let ctx = usable_link(&mut *state.db.conn().await?, token).await?;
    join_as(state, session, ctx, user, ip).await
}

async fn join_as(
    state: &AppState,
    session: &Session,
    mut ctx: LinkContext,
    user: Option<UserRow>,
    ip: Option<&str>,
) -> Result<OrgRow, AcceptError> {
    let mut tx = state.db.begin().await?;
    if ctx.org.member_limit.is_some() {
        // The seat count held still from the check to the write.
        organizations::lock_seats(&mut tx, state.db.kind(), ctx.org.id).await?;
        ctx.org =
            organizations::find_by_id(&mut tx, ctx.org.id).await?.ok_or(AcceptError::Refused(Refusal::Invalid))?;
    }
    let facts = visitor(&mut tx, &ctx, user.as_ref()).await?;
    let (Some(user), None) = (user, first_refusal(&facts)) else {
        let refusal = first_refusal(&facts).unwrap_or(Refusal::NeedsAuthentication);
        if refusal == Refusal::ExistingMember {
            // Nothing left to join: sign-ins stop coming back to the link.
            forget_pending(session, ctx.link.id).await?;
        }
        return Err(AcceptError::Refused(refusal));
    };
    let (org, link) = (&ctx.org, &ctx.link);
    let now = db::now();
    if !join_links::take_use(&mut tx, link.id, now).await? {
        // Used up, revoked or expired since it was read: say which.
        let now_link = join_links::find(&mut tx, org.id, link.id).await?;
        let ended = now_link.and_then(|l| l.state(now).refusal()).unwrap_or(Refusal::UsedUp);
        return Err(AcceptError::Refused(ended));
    }
    // The user's own pending invite or request in the organization is replaced by the
    // membership (it would otherwise stay listed, hold a seat, or be approved later).
    let replaced = members::pending_for_email(&mut tx, org.id, &user.email).await?;
    if let Some(pending) = &replaced {
        members::delete_pending(&mut tx, pending.id).await?;
    }
    let row = match members::insert_membership(&mut tx, org.id, user.id, link.role, link.created_by, now).await {
        Ok(row) => row,
        // Joined meanwhile (another request, an invite): the use is given back by the rollback.
        Err(err) if db::is_unique_violation(&err) => return Err(AcceptError::Refused(Refusal::ExistingMember)),
        Err(err) => return Err(err.into()),
    };
    let entry = audit::NewEntry {
        org_id: org.id,
        actor_id: Some(user.id),
        event: "member.join-link",
        target_member_id: Some(row.id),
        target_user_id: Some(user.id),
        target_email: Some(&user.email),
        ip,
        data: json!({
            "join_link": link.id, "email": user.email, "role": link.role.as_str(), "user": user.id,
            "replaced": replaced.map(|pending| json!({"id": pending.id, "invite_status": pending.invite_status})),
        }),
        now,
    };
    audit::insert(&mut tx, entry).await?;
    orgs::announce_joined(&mut tx, org.id, row.id, user.id, true, now).await?;
    tx.commit().await?;
    forget_pending(session, link.id).await?;
    tracing::info!(join_link = link.id, user_id = user.id, org_id = org.id, "joined through a join link");
    crate::server::metrics::joined("join_link");
    Ok(ctx.org)
}

/// Clears the session's pending join link when it is this one.
async fn forget_pending(session: &Session, link_id: i64) -> Result<(), tower_sessions::session::Error> {
    if session::pending_join_link(session).await?.is_some_and(|p| p.link_id == link_id) {
        session::clear_pending_join_link(session).await?;
    }
    Ok(())
}

/// The join link pending in this session while it can still be used, with its page (the
/// token derived again from the id and checked against the hash the session keeps); a
/// stale one is dropped.
pub async fn pending(state: &AppState, session: &Session) -> Result<Option<(PendingJoinLink, String)>, AcceptError> {
    let Some(pending) = session::pending_join_link(session).await? else { return Ok(None) };
    let token = token(state, pending.link_id);
    let usable = invite::token_matches(token.expose(), Some(&pending.token_hash))
        && usable_link(&mut *state.db.conn().await?, token.expose()).await.is_ok();
    if !usable {
        session::clear_pending_join_link(session).await?;
        return Ok(None);
    }
    let path = page_path(state, pending.link_id);
    Ok(Some((pending, path)))
}

/// Right after a registration whose form asked to join the link pending in the session:
/// the join, when every check passes (→ the organization's page), else the link's page,
/// which says what is still needed. `None` without a usable pending link.
pub async fn join_pending(
    state: &AppState,
    session: &Session,
    user: UserRow,
    ip: Option<&str>,
) -> Result<Option<String>, AcceptError> {
    let Some((pending, path)) = pending(state, session).await? else { return Ok(None) };
    let ctx = match usable_link(&mut *state.db.conn().await?, token(state, pending.link_id).expose()).await {
        Ok(ctx) => ctx,
        Err(AcceptError::Internal(err)) => return Err(AcceptError::Internal(err)),
        Err(_) => return Ok(Some(path)),
    };
    match join_as(state, session, ctx, Some(user), ip).await {
        Ok(org) => Ok(Some(format!("/organizations/{}/", org.slug))),
        Err(AcceptError::Internal(err)) => Err(AcceptError::Internal(err)),
        Err(_) => Ok(Some(path)),
    }
}
