//! Queries on `join_links` (SPEC §5.9).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::organizations::{self, OrgRow};
use super::Conn;
use crate::model::Role;
use crate::server::domain::join_link::{may_create, LinkState};

/// A join link, with the name of the person who made it.
#[derive(Debug, Clone)]
pub struct JoinLinkRow {
    pub id: i64,
    pub organization_id: i64,
    pub role: Role,
    pub email_domain: Option<String>,
    pub max_uses: i64,
    pub uses: i64,
    pub expires_at: i64,
    pub created_by: Option<i64>,
    pub created_by_name: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// The creator's role in the organization now; `None` once they left it.
    pub creator_role: Option<Role>,
}

impl JoinLinkRow {
    /// Where the link stands at `now`. A link whose creator could no longer create it (they
    /// left, were removed or demoted) is revoked: it never grants more than its maker may.
    pub fn state(&self, now: i64) -> LinkState {
        let creator_may = self.creator_role.is_some_and(|creator| may_create(creator, self.role));
        LinkState::of(self.uses, self.max_uses, self.expires_at, self.revoked_at.is_some() || !creator_may, now)
    }

    pub fn uses_left(&self) -> i64 {
        (self.max_uses - self.uses).max(0)
    }
}

const SELECT: &str = "SELECT l.id AS l_id, l.organization_id AS l_organization_id, l.role AS l_role, \
     l.email_domain AS l_email_domain, l.max_uses AS l_max_uses, l.uses AS l_uses, l.expires_at AS l_expires_at, \
     l.created_by AS l_created_by, c.name AS l_created_by_name, l.created_at AS l_created_at, \
     l.revoked_at AS l_revoked_at, cm.role AS l_creator_role";

/// The tables every read of a link joins: its creator's name and their membership now.
const FROM: &str = "FROM join_links l LEFT JOIN users c ON c.id = l.created_by \
     LEFT JOIN members cm ON cm.organization_id = l.organization_id AND cm.user_id = l.created_by";

fn from_row(row: &AnyRow) -> Result<JoinLinkRow, sqlx::Error> {
    Ok(JoinLinkRow {
        id: row.try_get("l_id")?,
        organization_id: row.try_get("l_organization_id")?,
        role: row.try_get("l_role")?,
        email_domain: row.try_get("l_email_domain")?,
        max_uses: row.try_get("l_max_uses")?,
        uses: row.try_get("l_uses")?,
        expires_at: row.try_get("l_expires_at")?,
        created_by: row.try_get("l_created_by")?,
        created_by_name: row.try_get("l_created_by_name")?,
        created_at: row.try_get("l_created_at")?,
        revoked_at: row.try_get("l_revoked_at")?,
        creator_role: row.try_get("l_creator_role")?,
    })
}

/// What a new link is made of.
pub struct NewLink<'a> {
    pub org_id: i64,
    pub role: Role,
    pub email_domain: Option<&'a str>,
    pub max_uses: i64,
    pub expires_at: i64,
    pub created_by: i64,
    pub now: i64,
}

/// Inserts a link, still without its token (derived from the id: [`set_token`] follows in
/// the same transaction). Returns its id.
pub async fn insert(conn: &mut Conn, link: NewLink<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO join_links (organization_id, role, email_domain, max_uses, expires_at, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(link.org_id)
    .bind(link.role.as_str())
    .bind(link.email_domain)
    .bind(link.max_uses)
    .bind(link.expires_at)
    .bind(link.created_by)
    .bind(link.now)
    .fetch_one(conn)
    .await
}

pub async fn set_token(conn: &mut Conn, id: i64, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE join_links SET token_hash = $1 WHERE id = $2").bind(token_hash).bind(id).execute(conn).await?;
    Ok(())
}

/// The link `id` of organization `org_id`.
pub async fn find(conn: &mut Conn, org_id: i64, id: i64) -> Result<Option<JoinLinkRow>, sqlx::Error> {
    sqlx::query(&format!("{SELECT} {FROM} WHERE l.organization_id = $1 AND l.id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The organization's links, newest first (at most `limit`).
pub async fn list(conn: &mut Conn, org_id: i64, limit: i64) -> Result<Vec<JoinLinkRow>, sqlx::Error> {
    sqlx::query(&format!("{SELECT} {FROM} WHERE l.organization_id = $1 ORDER BY l.id DESC LIMIT $2"))
        .bind(org_id)
        .bind(limit)
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// How many of the organization's links can still be used at `now`.
pub async fn count_active(conn: &mut Conn, org_id: i64, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM join_links \
         WHERE organization_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND uses < max_uses",
    )
    .bind(org_id)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// A link found by its token's hash, with its organization and the organization's identity
/// provider (display name, required), in one query.
pub struct LinkContext {
    pub link: JoinLinkRow,
    pub org: OrgRow,
    pub sso: Option<(String, bool)>,
}

pub async fn by_token_hash(conn: &mut Conn, token_hash: &str) -> Result<Option<LinkContext>, sqlx::Error> {
    let org_cols = organizations::aliased_columns("o", "o_");
    let row = sqlx::query(&format!(
        "{SELECT}, {org_cols}, p.display_name AS sso_name, p.require_sso AS sso_required \
         {FROM} JOIN organizations o ON o.id = l.organization_id \
         LEFT JOIN auth_providers p ON p.organization_id = l.organization_id \
         WHERE l.token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let sso_name: Option<String> = row.try_get("sso_name")?;
    let sso_required: Option<i64> = row.try_get("sso_required")?;
    Ok(Some(LinkContext {
        link: from_row(&row)?,
        org: organizations::from_row_prefixed(&row, "o_")?,
        sso: sso_name.map(|name| (name, sso_required.unwrap_or(0) != 0)),
    }))
}

/// Takes one use of the link, only while it is usable: one statement, so parallel joins
/// can never take more uses than the link has (the row's lock orders them on PostgreSQL,
/// the write turn on SQLite). `false` when the link is used up, expired or revoked.
pub async fn take_use(conn: &mut Conn, id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE join_links SET uses = uses + 1 \
         WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2 AND uses < max_uses",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes the link; `false` when it was revoked already.
pub async fn revoke(conn: &mut Conn, id: i64, actor_id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE join_links SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(actor_id)
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}
