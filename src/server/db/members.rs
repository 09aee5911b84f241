//! Queries on `members`: memberships and pending invites in one table (SPEC §1).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::page::{Order, Slice};
use super::Conn;
use crate::model::{InviteStatus, Role};

/// One row of the member table. `user_id` is set for a membership; `email` and
/// `token_hash` for a pending invite.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub id: i64,
    pub organization_id: i64,
    pub user_id: Option<i64>,
    pub email: Option<String>,
    pub role: Role,
    pub inviter_id: Option<i64>,
    pub invite_status: InviteStatus,
    pub token_hash: Option<String>,
    pub token_expires_at: Option<i64>,
    pub created_at: i64,
    pub accepted_at: Option<i64>,
    pub accepted_token_hash: Option<String>,
    /// Which derived token the invite's link carries (SPEC §5.1).
    pub token_generation: i64,
}

impl MemberRow {
    pub fn is_pending(&self) -> bool {
        self.user_id.is_none()
    }
}

const COLUMNS: &str = "id, organization_id, user_id, email, role, inviter_id, invite_status, token_hash, \
     token_expires_at, created_at, accepted_at, accepted_token_hash, token_generation";

fn from_row(row: &AnyRow) -> Result<MemberRow, sqlx::Error> {
    from_row_prefixed(row, "")
}

fn from_row_prefixed(row: &AnyRow, prefix: &str) -> Result<MemberRow, sqlx::Error> {
    // No allocation for the plain columns (every member query).
    let col = |name: &'static str| -> std::borrow::Cow<'static, str> {
        if prefix.is_empty() {
            name.into()
        } else {
            format!("{prefix}{name}").into()
        }
    };
    Ok(MemberRow {
        id: row.try_get(col("id").as_ref())?,
        organization_id: row.try_get(col("organization_id").as_ref())?,
        user_id: row.try_get(col("user_id").as_ref())?,
        email: row.try_get(col("email").as_ref())?,
        role: row.try_get(col("role").as_ref())?,
        inviter_id: row.try_get(col("inviter_id").as_ref())?,
        invite_status: row.try_get(col("invite_status").as_ref())?,
        token_hash: row.try_get(col("token_hash").as_ref())?,
        token_expires_at: row.try_get(col("token_expires_at").as_ref())?,
        created_at: row.try_get(col("created_at").as_ref())?,
        accepted_at: row.try_get(col("accepted_at").as_ref())?,
        accepted_token_hash: row.try_get(col("accepted_token_hash").as_ref())?,
        token_generation: row.try_get(col("token_generation").as_ref())?,
    })
}

/// A member row with everything the invite page and accept need about it, read at once.
#[derive(Debug, Clone)]
pub struct InviteContext {
    pub row: MemberRow,
    pub org: super::organizations::OrgRow,
    pub inviter_name: Option<String>,
    /// The organization's identity provider: display name and whether SSO is required.
    pub sso: Option<(String, bool)>,
}

/// The member rows with their organization, inviter's name and the organization's identity
/// provider, as [`invite_context`] and [`invitations_for`] read them.
fn context_select() -> String {
    let member_cols = COLUMNS.split(", ").map(|c| format!("m.{c} AS m_{c}")).collect::<Vec<_>>().join(", ");
    let org_cols = super::organizations::aliased_columns("o", "o_");
    format!(
        "SELECT {member_cols}, {org_cols}, u.name AS inviter_name, p.display_name AS sso_name, p.require_sso AS sso_required \
         FROM members m JOIN organizations o ON o.id = m.organization_id \
         LEFT JOIN users u ON u.id = m.inviter_id \
         LEFT JOIN auth_providers p ON p.organization_id = m.organization_id"
    )
}

fn context_from(row: &AnyRow) -> Result<InviteContext, sqlx::Error> {
    let sso_name: Option<String> = row.try_get("sso_name")?;
    let sso_required: Option<i64> = row.try_get("sso_required")?;
    Ok(InviteContext {
        row: from_row_prefixed(row, "m_")?,
        org: super::organizations::from_row_prefixed(row, "o_")?,
        inviter_name: row.try_get("inviter_name")?,
        sso: sso_name.map(|name| (name, sso_required.unwrap_or(0) != 0)),
    })
}

/// The member row `id` with its organization, its inviter's name and the organization's
/// identity provider, in one query.
pub async fn invite_context(conn: &mut Conn, id: i64) -> Result<Option<InviteContext>, sqlx::Error> {
    sqlx::query(&format!("{} WHERE m.id = $1", context_select()))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(context_from)
        .transpose()
}

/// Which invites "Your invitations" lists (SPEC §5.9): sent (approved), still pending,
/// unexpired, to this address (stored lower-cased, like the user's).
const INVITATIONS_OF: &str =
    "m.user_id IS NULL AND m.email = $1 AND m.invite_status = 'approved' AND m.token_expires_at > $2";

/// The most invitations one list shows.
pub const INVITATIONS_LISTED: i64 = 200;

/// The invites addressed to `email`, from every organization, newest first (at most
/// [`INVITATIONS_LISTED`]).
pub async fn invitations_for(conn: &mut Conn, email: &str, now: i64) -> Result<Vec<InviteContext>, sqlx::Error> {
    sqlx::query(&format!("{} WHERE {INVITATIONS_OF} ORDER BY m.id DESC LIMIT $3", context_select()))
        .bind(email)
        .bind(now)
        .bind(INVITATIONS_LISTED)
        .fetch_all(conn)
        .await?
        .iter()
        .map(context_from)
        .collect()
}

/// How many invites [`invitations_for`] would list.
pub async fn count_invitations_for(conn: &mut Conn, email: &str, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM members m WHERE {INVITATIONS_OF}"))
        .bind(email)
        .bind(now)
        .fetch_one(conn)
        .await
}

pub async fn find(conn: &mut Conn, id: i64) -> Result<Option<MemberRow>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM members WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The user's membership in an organization.
pub async fn membership(conn: &mut Conn, org_id: i64, user_id: i64) -> Result<Option<MemberRow>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM members WHERE organization_id = $1 AND user_id = $2"))
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The pending row (invite or request) for an address in an organization.
pub async fn pending_for_email(conn: &mut Conn, org_id: i64, email: &str) -> Result<Option<MemberRow>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM members WHERE organization_id = $1 AND email = $2 AND user_id IS NULL"))
        .bind(org_id)
        .bind(email)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Every row of an organization: memberships first, then pending invites.
pub async fn list(conn: &mut Conn, org_id: i64) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM members WHERE organization_id = $1 ORDER BY (user_id IS NULL), id"))
        .bind(org_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// The person of a membership, as the member list shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPerson {
    pub id: i64,
    pub email: String,
    pub name: String,
}

/// A row of an organization's member list with what the list shows beside it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub row: MemberRow,
    pub person: Option<MemberPerson>,
    pub inviter_name: Option<String>,
    /// The delivery state of the newest email about the row.
    pub mail_state: Option<String>,
}

/// Which rows of an organization's member table a list reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Memberships, then pending invites (SPEC §3's member list).
    MembersAndInvites,
    /// Invite requests and join requests waiting for a decision (§5.7).
    Requests,
    /// Memberships that are not an owner's (who ownership can go to, §5.10).
    NotOwners,
}

/// The sort key of the member list: memberships first, then pending rows, each by id
/// (ids stay far below 2^40). [`list_key`] computes the same for a row.
const LIST_KEY: &str = "(CASE WHEN m.user_id IS NULL THEN 1099511627776 ELSE 0 END + m.id)";

/// A row's place in the member list (see `LIST_KEY`).
pub fn list_key(row: &MemberRow) -> i64 {
    if row.is_pending() {
        (1_i64 << 40) + row.id
    } else {
        row.id
    }
}

/// The member list's SELECT: each row with its person, its inviter and the state of the
/// newest email about it.
fn listed_select() -> String {
    let member_cols = COLUMNS.split(", ").map(|c| format!("m.{c} AS m_{c}")).collect::<Vec<_>>().join(", ");
    format!(
        "SELECT {member_cols}, u.id AS u_id, u.email AS u_email, u.name AS u_name, i.name AS inviter_name, \
         (SELECT o.status FROM mail_outbox o WHERE o.member_id = m.id ORDER BY o.id DESC LIMIT 1) AS mail_state \
         FROM members m LEFT JOIN users u ON u.id = m.user_id LEFT JOIN users i ON i.id = m.inviter_id"
    )
}

fn listed_from(row: &AnyRow) -> Result<Listed, sqlx::Error> {
    let id: Option<i64> = row.try_get("u_id")?;
    let person = match id {
        Some(id) => Some(MemberPerson { id, email: row.try_get("u_email")?, name: row.try_get("u_name")? }),
        None => None,
    };
    Ok(Listed {
        row: from_row_prefixed(row, "m_")?,
        person,
        inviter_name: row.try_get("inviter_name")?,
        mail_state: row.try_get("mail_state")?,
    })
}

/// One page of an organization's member list, in one query (`slice` as `db::page` reads
/// it: one row more than the page, in the direction of reading).
pub async fn listed(conn: &mut Conn, org_id: i64, which: Rows, slice: &Slice) -> Result<Vec<Listed>, sqlx::Error> {
    let rows = match which {
        Rows::MembersAndInvites => "(m.user_id IS NOT NULL OR m.invite_status = 'approved')",
        Rows::Requests => "(m.user_id IS NULL AND m.invite_status <> 'approved')",
        Rows::NotOwners => "(m.user_id IS NOT NULL AND m.role <> 'owner')",
    };
    let keyset = slice.keyset_sql(LIST_KEY, Order::Ascending, 2);
    sqlx::query(&format!(
        "{} WHERE m.organization_id = $1 AND {rows} AND {} {}",
        listed_select(),
        keyset.condition,
        keyset.order_by
    ))
    .bind(org_id)
    .bind(keyset.bound)
    .fetch_all(conn)
    .await?
    .iter()
    .map(listed_from)
    .collect()
}

/// One row of an organization's member list, read as [`listed`] reads it.
pub async fn listed_one(conn: &mut Conn, org_id: i64, member_id: i64) -> Result<Option<Listed>, sqlx::Error> {
    sqlx::query(&format!("{} WHERE m.organization_id = $1 AND m.id = $2", listed_select()))
        .bind(org_id)
        .bind(member_id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(listed_from)
        .transpose()
}

/// Adds a user as a member (organization creation, single-organization mode, just in time,
/// a join link: then `inviter_id` is the link's creator).
pub async fn insert_membership(
    conn: &mut Conn,
    org_id: i64,
    user_id: i64,
    role: Role,
    inviter_id: Option<i64>,
    now: i64,
) -> Result<MemberRow, sqlx::Error> {
    let row = sqlx::query(&format!(
        "INSERT INTO members (organization_id, user_id, role, inviter_id, invite_status, created_at, accepted_at) \
         VALUES ($1, $2, $3, $4, 'approved', $5, $5) RETURNING {COLUMNS}"
    ))
    .bind(org_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(inviter_id)
    .bind(now)
    .fetch_one(conn)
    .await?;
    from_row(&row)
}

/// What a new pending invite is made of.
pub struct NewInvite<'a> {
    pub org_id: i64,
    pub email: &'a str,
    pub role: Role,
    pub inviter_id: i64,
    pub expires_at: i64,
    pub now: i64,
}

/// Inserts a pending invite, still without a token (its token is derived from the id the
/// row gets: [`set_token`] follows in the same transaction). A unique violation means a
/// pending row for that address exists.
pub async fn insert_invite(conn: &mut Conn, invite: NewInvite<'_>) -> Result<MemberRow, sqlx::Error> {
    let row = sqlx::query(&format!(
        "INSERT INTO members (organization_id, email, role, inviter_id, invite_status, token_expires_at, created_at) \
         VALUES ($1, $2, $3, $4, 'approved', $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(invite.org_id)
    .bind(invite.email)
    .bind(invite.role.as_str())
    .bind(invite.inviter_id)
    .bind(invite.expires_at)
    .bind(invite.now)
    .fetch_one(conn)
    .await?;
    from_row(&row)
}

/// Turns a pending invite into a membership, only if it is still the pending invite with
/// this token. Returns false when another request got there first (the race of two accepts).
pub async fn accept(
    conn: &mut Conn,
    member_id: i64,
    token_hash: &str,
    user_id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE members SET user_id = $1, email = NULL, token_hash = NULL, token_expires_at = NULL, \
         accepted_at = $2, accepted_token_hash = $3 \
         WHERE id = $4 AND user_id IS NULL AND token_hash = $3 AND invite_status = 'approved'",
    )
    .bind(user_id)
    .bind(now)
    .bind(token_hash)
    .bind(member_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a pending row (revoke, or an invite made pointless); never a membership.
pub async fn delete_pending(conn: &mut Conn, member_id: i64) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM members WHERE id = $1 AND user_id IS NULL").bind(member_id).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a membership or pending row of an organization.
pub async fn delete(conn: &mut Conn, org_id: i64, member_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM members WHERE id = $1 AND organization_id = $2")
        .bind(member_id)
        .bind(org_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// New token and expiry for a pending invite (regenerate).
pub async fn set_token(
    conn: &mut Conn,
    member_id: i64,
    token_hash: &str,
    expires_at: i64,
    generation: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE members SET token_hash = $1, token_expires_at = $2, token_generation = $3, invite_status = 'approved' \
         WHERE id = $4 AND user_id IS NULL",
    )
    .bind(token_hash)
    .bind(expires_at)
    .bind(generation)
    .bind(member_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Memberships of an organization.
pub async fn memberships_count(conn: &mut Conn, org_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE organization_id = $1 AND user_id IS NOT NULL")
        .bind(org_id)
        .fetch_one(conn)
        .await
}

/// Seats in use: members plus pending invites (requests do not hold a seat).
pub async fn seats_used(conn: &mut Conn, org_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE organization_id = $1 AND invite_status = 'approved'")
        .bind(org_id)
        .fetch_one(conn)
        .await
}

/// Invites (or sends) counted for a daily limit: how many since the window's start, and
/// when the oldest of them was, which says when the window frees a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentSince {
    pub count: i64,
    pub oldest: Option<i64>,
}

fn sent_since(row: &AnyRow) -> Result<SentSince, sqlx::Error> {
    Ok(SentSince { count: row.try_get(0)?, oldest: row.try_get(1)? })
}

/// Invites created since `since` by an inviter, in an organization, or for an address
/// (their `member.invite` audit entries).
pub async fn invites_since(
    conn: &mut Conn,
    since: i64,
    inviter_id: Option<i64>,
    org_id: Option<i64>,
    email: Option<&str>,
) -> Result<SentSince, sqlx::Error> {
    let row = sqlx::query(
        "SELECT COUNT(*), MIN(created_at) FROM audit_log WHERE event = 'member.invite' AND created_at >= $1 \
         AND ($2 IS NULL OR actor_id = $2) AND ($3 IS NULL OR organization_id = $3) \
         AND ($4 IS NULL OR target_email = $4)",
    )
    .bind(since)
    .bind(inviter_id)
    .bind(org_id)
    .bind(email)
    .fetch_one(conn)
    .await?;
    sent_since(&row)
}

/// Invite emails sent to an address of an organization since `since`: invites, resends,
/// regenerates and approved requests (SPEC §5.1: each mails an invite, and all count
/// against the per-address daily limit).
pub async fn sends_to_address_since(
    conn: &mut Conn,
    since: i64,
    org_id: i64,
    email: &str,
) -> Result<SentSince, sqlx::Error> {
    let row = sqlx::query(
        "SELECT COUNT(*), MIN(created_at) FROM audit_log \
         WHERE event IN ('member.invite', 'member.reinvite', 'invite.regenerate', 'invite-request.approve', 'join-request.approve') \
         AND created_at >= $1 AND organization_id = $2 AND target_email = $3",
    )
    .bind(since)
    .bind(org_id)
    .bind(email)
    .fetch_one(conn)
    .await?;
    sent_since(&row)
}

/// The owners of an organization (members with the role, not invites). Call under the
/// organization's lock (`organizations::lock`) when the answer decides a write.
pub async fn count_owners(conn: &mut Conn, org_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM members WHERE organization_id = $1 AND role = 'owner' AND user_id IS NOT NULL",
    )
    .bind(org_id)
    .fetch_one(conn)
    .await
}

/// Sets the role of a member or pending invite.
pub async fn set_role(conn: &mut Conn, member_id: i64, role: Role) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE members SET role = $1 WHERE id = $2").bind(role.as_str()).bind(member_id).execute(conn).await?;
    Ok(())
}

/// Deletes pending invites that expired before `before` (SPEC §5.8).
pub async fn delete_expired_invites(conn: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM members WHERE user_id IS NULL AND token_expires_at IS NOT NULL AND token_expires_at < $1",
    )
    .bind(before)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Adds a member to teams; how many of them they were not on yet.
pub async fn add_to_teams(conn: &mut Conn, member_id: i64, team_ids: &[i64]) -> Result<u64, sqlx::Error> {
    let mut added = 0;
    for team_id in team_ids {
        added += sqlx::query("INSERT INTO team_members (team_id, member_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(team_id)
            .bind(member_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(added)
}

/// What a new invite request or join request is made of (no token until approved).
pub struct NewRequest<'a> {
    pub org_id: i64,
    pub email: &'a str,
    pub role: Role,
    pub requester_id: Option<i64>,
    /// An invite request or a join request.
    pub status: InviteStatus,
    pub now: i64,
}

/// Inserts a request. A unique violation means a pending row for that address exists.
pub async fn insert_request(conn: &mut Conn, request: NewRequest<'_>) -> Result<MemberRow, sqlx::Error> {
    let row = sqlx::query(&format!(
        "INSERT INTO members (organization_id, email, role, inviter_id, invite_status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(request.org_id)
    .bind(request.email)
    .bind(request.role.as_str())
    .bind(request.requester_id)
    .bind(request.status.as_str())
    .bind(request.now)
    .fetch_one(conn)
    .await?;
    from_row(&row)
}

/// The invite requests and join requests of an organization, oldest first.
pub async fn requests(conn: &mut Conn, org_id: i64) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM members WHERE organization_id = $1 AND user_id IS NULL AND invite_status <> 'approved' ORDER BY id"
    ))
    .bind(org_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Approves a request: it becomes a pending invite with a token, sent by `inviter_id`.
pub async fn approve_request(
    conn: &mut Conn,
    member_id: i64,
    role: Role,
    inviter_id: i64,
    token_hash: &str,
    expires_at: i64,
    generation: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE members SET invite_status = 'approved', role = $1, inviter_id = $2, token_hash = $3, token_expires_at = $4, \
         token_generation = $5 WHERE id = $6 AND user_id IS NULL AND invite_status <> 'approved'",
    )
    .bind(role.as_str())
    .bind(inviter_id)
    .bind(token_hash)
    .bind(expires_at)
    .bind(generation)
    .bind(member_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The addresses of an organization's owners and managers (who hear about requests).
pub async fn admin_emails(conn: &mut Conn, org_id: i64) -> Result<Vec<String>, sqlx::Error> {
    emails_of_roles(conn, org_id, "'owner', 'manager'").await
}

/// The addresses of an organization's owners (who hear about its webhooks).
pub async fn owner_emails(conn: &mut Conn, org_id: i64) -> Result<Vec<String>, sqlx::Error> {
    emails_of_roles(conn, org_id, "'owner'").await
}

/// The addresses of the active members holding one of `roles` (a fixed SQL list).
async fn emails_of_roles(conn: &mut Conn, org_id: i64, roles: &'static str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT u.email FROM members m JOIN users u ON u.id = m.user_id \
         WHERE m.organization_id = $1 AND m.role IN ({roles}) AND u.is_active = 1 ORDER BY u.id"
    ))
    .bind(org_id)
    .fetch_all(conn)
    .await
}

/// A user's membership with its organization's name.
#[derive(Debug, Clone)]
pub struct UserMembership {
    pub member_id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub role: Role,
}

/// Every membership of a user.
pub async fn of_user(conn: &mut Conn, user_id: i64) -> Result<Vec<UserMembership>, sqlx::Error> {
    sqlx::query(
        "SELECT m.id, m.organization_id, o.name, m.role FROM members m \
         JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = $1 ORDER BY m.organization_id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| {
        Ok(UserMembership {
            member_id: row.try_get("id")?,
            org_id: row.try_get("organization_id")?,
            org_name: row.try_get("name")?,
            role: row.try_get("role")?,
        })
    })
    .collect()
}

/// Takes a member off a team; whether they were on it.
pub async fn remove_from_team(conn: &mut Conn, member_id: i64, team_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND member_id = $2")
        .bind(team_id)
        .bind(member_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
