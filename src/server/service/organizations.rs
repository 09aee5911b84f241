//! Creating organizations and reading them as a member (SPEC §1, §3).

use serde_json::json;

use super::internal_errors;
use super::problem::{Failure, Kind, Problem, INVALID};
use crate::model::InviteStatus;
use crate::server::db::members::{MemberRow, Rows};
use crate::server::db::organizations::OrgRow;
use crate::server::db::page::{Paged, Slice};
use crate::server::db::users::UserRow;
use crate::server::db::{self, audit, members, organizations, outbox, sso};
use crate::server::domain::{required_text, seats, FieldErrors, Role, Slug};
use crate::server::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("{}", INVALID)]
    Invalid(FieldErrors),
    /// The organization does not exist or the user is not a member: the same answer, so
    /// outsiders learn nothing.
    #[error("There is no such organization, or you are not a member.")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    /// The organization requires single sign-on and this member has not signed in through
    /// its provider in this session (recently enough).
    #[error("{org_name} requires signing in with {provider}. Continue at /auth/login/{slug}/ to sign in.")]
    SsoRequired { slug: String, org_name: String, provider: String },
    #[error(transparent)]
    Internal(anyhow::Error),
}
internal_errors!(OrgError: sqlx::Error);

impl Failure for OrgError {
    fn problem(self) -> Problem {
        let sentence = self.to_string();
        match self {
            Self::Invalid(fields) => Problem::invalid(fields),
            Self::NotFound => Problem::new(Kind::NotFound, "not_found", sentence),
            Self::Forbidden(_) => Problem::new(Kind::Forbidden, "forbidden", sentence),
            Self::SsoRequired { .. } => Problem::new(Kind::NotAuthenticated, "sso_required", sentence),
            Self::Internal(err) => Problem::internal(err),
        }
    }
}

/// The longest organization name.
const MAX_ORG_NAME_LEN: usize = 64;

/// Slugs that would shadow pages under `/organizations/`.
const RESERVED_SLUGS: &[&str] = &["new"];

/// An organization as seen by one of its members.
#[derive(Debug, Clone)]
pub struct Membership {
    pub org: OrgRow,
    pub member: MemberRow,
    pub role: Role,
}

/// Creates an organization; the creator becomes its owner.
#[tracing::instrument(skip_all)]
pub async fn create(state: &AppState, user: &UserRow, name: &str, slug: Option<&str>) -> Result<OrgRow, OrgError> {
    let mut errors = FieldErrors::new();
    let name = name.trim();
    errors.check("name", required_text(name, MAX_ORG_NAME_LEN));
    let slug = match slug.map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => errors.check("slug", Slug::parse(raw)),
        None if !name.is_empty() => match Slug::from_name(name) {
            Some(slug) => Some(slug),
            None => {
                errors.add("slug", "Choose a slug: the name has no letters or digits to make one from.");
                None
            }
        },
        None => None,
    };
    if slug.as_ref().is_some_and(|s| RESERVED_SLUGS.contains(&s.as_str())) {
        errors.add("slug", "This slug is reserved; choose another.");
    }
    let (Some(slug), true) = (slug, errors.is_empty()) else { return Err(OrgError::Invalid(errors)) };

    let now = db::now();
    let mut tx = state.db.begin().await?;
    let org = match organizations::insert(&mut tx, slug.as_str(), name, now).await {
        Ok(org) => org,
        Err(err) if db::is_unique_violation(&err) => {
            return Err(OrgError::Invalid(FieldErrors::single(
                "slug",
                "An organization with this slug already exists.",
            )))
        }
        Err(err) => return Err(err.into()),
    };
    let member = members::insert_membership(&mut tx, org.id, user.id, Role::Owner, None, now).await?;
    audit::insert(
        &mut tx,
        audit::NewEntry {
            org_id: org.id,
            actor_id: Some(user.id),
            event: "org.create",
            target_member_id: Some(member.id),
            target_user_id: Some(user.id),
            target_email: None,
            ip: user.client_ip.as_deref(),
            data: json!({"slug": org.slug, "name": org.name}),
            now,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(org_id = org.id, user_id = user.id, "organization created");
    Ok(org)
}

/// The organization `slug` and the user's membership in it. A member of an organization
/// that requires single sign-on must have linked an identity there first.
pub async fn membership(state: &AppState, user: &UserRow, slug: &str) -> Result<Membership, OrgError> {
    let membership = membership_ungated(state, user, slug).await?;
    // Required SSO means a sign-in through the provider in this session (§9.10), not a
    // link made once, and through an identity still linked (an unlink, a new issuer or a
    // removed provider ends what earlier sign-ins allowed).
    let mut conn = state.db.conn().await?;
    if let Some(provider) = sso::required_provider(&mut conn, membership.org.id).await? {
        let fresh = user.sso_signed_in.contains(&membership.org.id)
            && sso::identity_of_user(&mut conn, membership.org.id, user.id).await?.is_some();
        if !fresh {
            return Err(OrgError::SsoRequired {
                slug: membership.org.slug.clone(),
                org_name: membership.org.name.clone(),
                provider,
            });
        }
    }
    drop(conn);
    Ok(membership)
}

/// [`membership`] for what only owners and managers may do: anyone else is refused with
/// `Forbidden(refusal)`, the sentence naming what they cannot do.
pub async fn manager_membership(
    state: &AppState,
    user: &UserRow,
    slug: &str,
    refusal: &'static str,
) -> Result<Membership, OrgError> {
    let membership = membership(state, user, slug).await?;
    if !membership.role.can_invite() {
        return Err(OrgError::Forbidden(refusal));
    }
    Ok(membership)
}

/// [`membership`] without the single sign-on requirement (the provider's own settings).
pub async fn membership_ungated(state: &AppState, user: &UserRow, slug: &str) -> Result<Membership, OrgError> {
    let mut conn = state.db.conn().await?;
    let org = organizations::find_by_slug(&mut conn, slug).await?.ok_or(OrgError::NotFound)?;
    let member = members::membership(&mut conn, org.id, user.id).await?.ok_or(OrgError::NotFound)?;
    Ok(Membership { role: member.role, org, member })
}

/// The organization `slug` opened by one of its members: [`membership`], remembered as
/// the one `/` and the organization switcher start from (SPEC §2).
pub async fn open(state: &AppState, user: &UserRow, slug: &str) -> Result<Membership, OrgError> {
    let membership = membership(state, user, slug).await?;
    // A read first: opening the same organization again (the common case) writes nothing,
    // and takes no write turn on SQLite.
    if db::users::last_org(&mut *state.db.conn().await?, user.id).await? != Some(membership.org.id) {
        let mut conn = state.db.single_write().await?;
        db::users::set_last_org(&mut conn, user.id, membership.org.id).await?;
    }
    Ok(membership)
}

/// The organizations a user belongs to, the one they last opened first.
pub async fn for_user(state: &AppState, user: &UserRow) -> Result<Vec<OrgRow>, OrgError> {
    Ok(organizations::for_user(&mut *state.db.conn().await?, user.id).await?)
}

/// A row of the member list with what the pages and the API show of it.
#[derive(Debug, Clone)]
pub struct MemberEntry {
    pub row: MemberRow,
    pub user: Option<members::MemberPerson>,
    pub inviter_name: Option<String>,
    pub expired: bool,
    pub mail_state: Option<String>,
    /// The slugs of the teams it belongs to.
    pub teams: Vec<String>,
}

/// The members an owner can hand the organization to: every membership that is not an
/// owner's, by name.
pub async fn transfer_candidates(state: &AppState, membership: &Membership) -> Result<Vec<MemberEntry>, OrgError> {
    let mut entries = unpaged(state, membership, Rows::NotOwners, TRANSFER_CANDIDATES).await?;
    entries.sort_by_key(|e| e.user.as_ref().map(|u| u.name.to_lowercase()));
    Ok(entries)
}

/// The first `max` rows of a short list of an organization's member table (no teams):
/// the lists a page shows whole rather than in pages.
async fn unpaged(
    state: &AppState,
    membership: &Membership,
    which: Rows,
    max: i64,
) -> Result<Vec<MemberEntry>, OrgError> {
    let slice = Slice { cursor: None, per_page: max };
    let rows = members::listed(&mut *state.db.conn().await?, membership.org.id, which, &slice).await?;
    let now = db::now();
    // `listed` reads one row more than a page, to tell whether the list goes on.
    Ok(rows.into_iter().take(max as usize).map(|listed| entry(listed, Vec::new(), now)).collect())
}

/// How many members the transfer form offers at most.
const TRANSFER_CANDIDATES: i64 = 1000;

/// How many owners an organization has (a page marks the last one, who cannot leave or be
/// demoted).
pub async fn owners(state: &AppState, membership: &Membership) -> Result<i64, OrgError> {
    Ok(members::count_owners(&mut *state.db.conn().await?, membership.org.id).await?)
}

/// One page of an organization's member list (memberships, then pending invites), for
/// one of its members.
pub async fn members(state: &AppState, membership: &Membership, slice: &Slice) -> Result<Paged<MemberEntry>, OrgError> {
    let mut conn = state.db.conn().await?;
    let rows = members::listed(&mut conn, membership.org.id, Rows::MembersAndInvites, slice).await?;
    let page = slice.keyset_page(rows, |listed| members::list_key(&listed.row));
    let mut teams = db::teams::slugs_by_member(&mut conn, membership.org.id).await?;
    let now = db::now();
    let page = page.map(|listed| {
        let teams = teams.remove(&listed.row.id).unwrap_or_default();
        entry(listed, teams, now)
    });
    Ok(page)
}

/// How many pending requests a list shows at most (each is limited per day, §5.7).
const REQUESTS_SHOWN: i64 = 500;

/// The invite and join requests of an organization waiting for a decision. Call only for
/// an owner's or manager's membership: requesters' addresses are theirs to see (§5.7).
pub async fn requests(state: &AppState, membership: &Membership) -> Result<Vec<MemberEntry>, OrgError> {
    unpaged(state, membership, Rows::Requests, REQUESTS_SHOWN).await
}

/// One row of the member list, for one of the organization's members: a request only
/// for owners and managers.
pub async fn member(state: &AppState, user: &UserRow, slug: &str, member_id: i64) -> Result<MemberEntry, OrgError> {
    let membership = membership(state, user, slug).await?;
    let entry = read_back(state, membership.org.id, member_id).await?;
    if entry.row.invite_status != InviteStatus::Approved && !membership.role.can_invite() {
        return Err(OrgError::NotFound);
    }
    Ok(entry)
}

/// A member row as the database holds it now: what every write answers (SPEC §3), never
/// assembled from the request.
pub async fn read_back(state: &AppState, org_id: i64, member_id: i64) -> Result<MemberEntry, OrgError> {
    member_now(&mut *state.db.conn().await?, org_id, member_id).await?.ok_or(OrgError::NotFound)
}

/// A member row of organization `org_id` as the database holds it now, if it still exists.
pub async fn member_now(conn: &mut db::Conn, org_id: i64, member_id: i64) -> Result<Option<MemberEntry>, sqlx::Error> {
    let Some(listed) = members::listed_one(conn, org_id, member_id).await? else { return Ok(None) };
    let teams = db::teams::member_slugs(conn, member_id).await?;
    Ok(Some(entry(listed, teams, db::now())))
}

fn entry(listed: members::Listed, teams: Vec<String>, now: i64) -> MemberEntry {
    let pending = listed.row.is_pending();
    MemberEntry {
        expired: pending && crate::server::domain::invite::is_expired(listed.row.token_expires_at, now),
        mail_state: if pending { listed.mail_state } else { None },
        user: listed.person,
        inviter_name: listed.inviter_name,
        teams,
        row: listed.row,
    }
}

/// The audit log of an organization, newest first, one page, for its owners and managers.
pub async fn audit_log(
    state: &AppState,
    user: &UserRow,
    slug: &str,
    filter: &audit::Filter,
    slice: &Slice,
) -> Result<(Membership, Paged<audit::EntryRow>), OrgError> {
    let membership = manager_membership(state, user, slug, "Only owners and managers can read the audit log.").await?;
    let rows = audit::list(&mut *state.db.conn().await?, membership.org.id, filter, slice).await?;
    Ok((membership, slice.keyset_page(rows, |e| e.id)))
}

/// What the audit log's filters offer: its events and the people who acted.
pub async fn audit_facets(
    state: &AppState,
    membership: &Membership,
) -> Result<(Vec<String>, Vec<(i64, String)>), OrgError> {
    Ok(audit::facets(&mut *state.db.conn().await?, membership.org.id).await?)
}

/// An audit entry as a sentence (`domain::audit`).
pub fn audit_note(e: &audit::EntryRow) -> String {
    let actor = e.actor_name.as_deref().or(e.actor_email.as_deref());
    let target = e.target_name.as_deref().or(e.target_email.as_deref());
    crate::server::domain::audit::sentence(&crate::server::domain::audit::Entry {
        event: &e.event,
        actor,
        target,
        inviter: e.inviter_name.as_deref(),
        data: &e.data,
    })
}

/// An organization's settings as one of its members reads them.
#[derive(Debug, Clone)]
pub struct Settings {
    pub membership: Membership,
    /// Members plus pending invites: what the member limit counts.
    pub seats_used: i64,
}

/// The settings page of an organization, for one of its members.
pub async fn settings(state: &AppState, user: &UserRow, slug: &str) -> Result<Settings, OrgError> {
    let membership = membership(state, user, slug).await?;
    let seats_used = members::seats_used(&mut *state.db.conn().await?, membership.org.id).await?;
    Ok(Settings { membership, seats_used })
}

/// The teams of an organization, for one of its members: `(slug, name)`.
pub async fn teams(state: &AppState, membership: &Membership) -> Result<Vec<(String, String)>, OrgError> {
    Ok(db::teams::list(&mut *state.db.conn().await?, membership.org.id).await?)
}

/// Creates a team (owners and managers).
pub async fn create_team(
    state: &AppState,
    user: &UserRow,
    slug: &str,
    name: &str,
    team_slug: Option<&str>,
) -> Result<(String, String), OrgError> {
    let membership = manager_membership(state, user, slug, "Only owners and managers can create teams.").await?;
    let mut errors = FieldErrors::new();
    let name = name.trim();
    if name.is_empty() {
        errors.add("name", crate::server::domain::REQUIRED);
    }
    let team_slug = team_slug.map(str::trim).filter(|s| !s.is_empty());
    let slug_given = team_slug.is_some();
    let team_slug = match team_slug {
        Some(raw) => errors.check("slug", Slug::parse(raw)),
        None => Slug::from_name(name),
    };
    let (Some(team_slug), true) = (team_slug, errors.is_empty()) else {
        if errors.is_empty() {
            errors.add("slug", "Choose a slug.");
        }
        return Err(OrgError::Invalid(errors));
    };
    let now = db::now();
    let mut tx = state.db.begin().await?;
    match db::teams::insert(&mut tx, membership.org.id, team_slug.as_str(), name, now).await {
        Ok(_) => {}
        Err(err) if db::is_unique_violation(&err) => {
            // A slug made from the name is the name's fault: said beside the name.
            return Err(OrgError::Invalid(if slug_given {
                FieldErrors::single("slug", "A team with this slug already exists.")
            } else {
                FieldErrors::single("name", "A team with this name already exists.")
            }));
        }
        Err(err) => return Err(err.into()),
    }
    audit::insert(
        &mut tx,
        audit::NewEntry {
            org_id: membership.org.id,
            actor_id: Some(user.id),
            event: "team.create",
            target_member_id: None,
            target_user_id: None,
            target_email: None,
            ip: user.client_ip.as_deref(),
            data: json!({"slug": team_slug.as_str(), "name": name}),
            now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((team_slug.as_str().to_owned(), name.to_owned()))
}

/// Single-organization mode (`APP_SINGLE_ORG`): creates the organization at start if it is
/// missing (named after its slug, no members until the first user joins).
pub async fn ensure_single_org(state: &AppState) -> anyhow::Result<()> {
    let Some(slug) = state.config.single_org.as_deref() else { return Ok(()) };
    let slug = Slug::parse(slug).map_err(|e| anyhow::anyhow!("APP_SINGLE_ORG: {}", e.join(" ")))?;
    let mut tx = state.db.begin().await?;
    if organizations::find_by_slug(&mut tx, slug.as_str()).await?.is_none() {
        organizations::insert(&mut tx, slug.as_str(), slug.as_str(), db::now()).await?;
        tracing::info!(slug = slug.as_str(), "single organization created");
    }
    tx.commit().await?;
    Ok(())
}

/// SPEC §4.3 step 3: in single-organization mode, a user who registered without a pending
/// invite joins the one organization with its default role — audited (`member.add`) and
/// announced (`member.joined`). Returns the organization, or `None` when the mode is off.
pub async fn join_single_org(state: &AppState, user: &UserRow) -> Result<Option<OrgRow>, OrgError> {
    add_to_single_org(state, user, None).await
}

/// Makes a superuser (created by the admin command) owner of the single organization.
pub async fn own_single_org(state: &AppState, user: &UserRow) -> Result<Option<OrgRow>, OrgError> {
    add_to_single_org(state, user, Some(Role::Owner)).await
}

async fn add_to_single_org(state: &AppState, user: &UserRow, role: Option<Role>) -> Result<Option<OrgRow>, OrgError> {
    let Some(slug) = state.config.single_org.as_deref() else { return Ok(None) };
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let Some(org) = organizations::find_by_slug(&mut tx, slug).await? else { return Ok(None) };
    if members::membership(&mut tx, org.id, user.id).await?.is_some() {
        return Ok(Some(org));
    }
    // Self-registrants get the default role, never owner (§4.3): the operator makes owners
    // with the admin command.
    let role = role.unwrap_or(org.default_role);
    let member = members::insert_membership(&mut tx, org.id, user.id, role, None, now).await?;
    let data = json!({"email": user.email, "role": role, "single_org": true});
    record_member_added(&mut tx, &member, user, &user.email, None, data, now).await?;
    tx.commit().await?;
    Ok(Some(org))
}

/// A membership made without an invite (single-organization mode, just-in-time through a
/// provider), in its transaction: audited as `member.add` by the new member with `data`,
/// and announced (`member.joined`).
pub(crate) async fn record_member_added(
    conn: &mut db::Conn,
    member: &MemberRow,
    user: &UserRow,
    email: &str,
    ip: Option<&str>,
    data: serde_json::Value,
    now: i64,
) -> Result<(), sqlx::Error> {
    let entry = audit::NewEntry {
        target_email: Some(email),
        ..audit::NewEntry::about_member(member, user.id, ip, "member.add", data, now)
    };
    audit::insert(conn, entry).await?;
    announce_joined(conn, member.organization_id, member.id, user.id, false, now).await
}

/// Announces a new membership to the organization's webhooks (`member.joined`), in the
/// transaction that writes it; `via_invite` says whether an invite was accepted.
pub(super) async fn announce_joined(
    conn: &mut db::Conn,
    org_id: i64,
    member_id: i64,
    user_id: i64,
    via_invite: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    outbox::queue_event(
        conn,
        "member.joined",
        org_id,
        &json!({"memberId": member_id, "userId": user_id, "viaInvite": via_invite}),
        now,
    )
    .await
}

/// A change of an organization's settings: `None` leaves a setting as it is; for the
/// member limit, `Some(None)` removes it.
#[derive(Debug, Default, Clone)]
pub struct SettingsInput {
    pub name: Option<String>,
    pub require_2fa: Option<bool>,
    pub require_email_verification: Option<bool>,
    pub allow_join_requests: Option<bool>,
    pub default_role: Option<String>,
    pub allow_email_mismatch: Option<bool>,
    pub member_limit: Option<Option<i64>>,
}

/// The largest seat limit an organization can set.
pub const MAX_MEMBER_LIMIT: i64 = 100_000;

/// Changes an organization's policies (owners and managers; a manager cannot make `owner`
/// the default role). Audited as `org.edit` with what changed.
pub async fn update_settings(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    input: SettingsInput,
) -> Result<OrgRow, OrgError> {
    let membership =
        manager_membership(state, actor, slug, "Only owners and managers can change the organization's settings.")
            .await?;
    let mut tx = state.db.begin().await?;
    organizations::lock_seats(&mut tx, state.db.kind(), membership.org.id).await?;
    let org = organizations::find_by_id(&mut tx, membership.org.id).await?.ok_or(OrgError::NotFound)?;
    let before = org.settings();
    let after = checked_settings(&mut tx, org.id, actor.id, membership.role, &before, &input).await?;
    let updated = organizations::update_settings(&mut tx, org.id, &after).await?;
    let changed = settings_changes(&before, &after);
    if !changed.is_empty() {
        audit::insert(
            &mut tx,
            audit::NewEntry {
                org_id: org.id,
                actor_id: Some(actor.id),
                event: "org.edit",
                target_member_id: None,
                target_user_id: None,
                target_email: None,
                ip: actor.client_ip.as_deref(),
                data: serde_json::Value::Object(changed),
                now: db::now(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(updated)
}

/// Validates the change and applies it to the settings `before`, read under the seat lock:
/// a new member limit is checked against the seats in use as they are when it is written.
/// Every field's errors together, or the settings to write.
async fn checked_settings(
    tx: &mut db::Conn,
    org_id: i64,
    actor_id: i64,
    actor_role: Role,
    before: &organizations::Settings,
    input: &SettingsInput,
) -> Result<organizations::Settings, OrgError> {
    let mut errors = FieldErrors::new();
    let mut after = before.clone();
    if let Some(name) = &input.name {
        errors.check("name", required_text(name, MAX_ORG_NAME_LEN));
        after.name = name.trim().to_owned();
    }
    if let Some(role) = &input.default_role {
        match role.parse::<Role>() {
            Ok(role) if actor_role.can_grant(role) => after.default_role = role,
            Ok(_) => errors.add("defaultRole", "You cannot make a role higher than your own the default."),
            Err(e) => errors.add("defaultRole", e),
        }
    }
    after.require_2fa = input.require_2fa.unwrap_or(before.require_2fa);
    after.require_email_verification = input.require_email_verification.unwrap_or(before.require_email_verification);
    after.allow_join_requests = input.allow_join_requests.unwrap_or(before.allow_join_requests);
    after.allow_email_mismatch = input.allow_email_mismatch.unwrap_or(before.allow_email_mismatch);
    if after.require_2fa && !before.require_2fa && !db::two_factor::is_enrolled(tx, actor_id).await? {
        errors.add("require2FA", "Enable two-factor authentication on your own account before requiring it.");
    }
    if let Some(limit) = input.member_limit {
        match limit {
            Some(n) if !(1..=MAX_MEMBER_LIMIT).contains(&n) => errors.add(
                "memberLimit",
                format!("Ensure this value is between 1 and {MAX_MEMBER_LIMIT}, or empty for no limit."),
            ),
            Some(n) => {
                let used = members::seats_used(tx, org_id).await?;
                if !seats::fit(Some(n), used) {
                    errors.add(
                        "memberLimit",
                        format!("{used} seats are in use (members and pending invites); the limit cannot be lower. Remove members or revoke invites first."),
                    );
                }
                after.member_limit = Some(n);
            }
            None => after.member_limit = None,
        }
    }
    if !errors.is_empty() {
        return Err(OrgError::Invalid(errors));
    }
    Ok(after)
}

/// What the `org.edit` audit entry records: each setting that changed, `{from, to}`.
fn settings_changes(
    before: &organizations::Settings,
    after: &organizations::Settings,
) -> serde_json::Map<String, serde_json::Value> {
    let mut changed = serde_json::Map::new();
    let pairs = [
        ("name", json!(before.name), json!(after.name)),
        ("require2FA", json!(before.require_2fa), json!(after.require_2fa)),
        ("requireEmailVerification", json!(before.require_email_verification), json!(after.require_email_verification)),
        ("allowJoinRequests", json!(before.allow_join_requests), json!(after.allow_join_requests)),
        ("defaultRole", json!(before.default_role), json!(after.default_role)),
        ("allowEmailMismatch", json!(before.allow_email_mismatch), json!(after.allow_email_mismatch)),
        ("memberLimit", json!(before.member_limit), json!(after.member_limit)),
    ];
    for (key, old, new) in pairs {
        if old != new {
            changed.insert(key.to_owned(), json!({"from": old, "to": new}));
        }
    }
    changed
}
