//! Queries on `organizations`.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::Conn;
use crate::model::Role;

/// An organization and its policy settings.
#[derive(Debug, Clone)]
pub struct OrgRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub require_2fa: bool,
    pub require_email_verification: bool,
    pub allow_join_requests: bool,
    pub default_role: Role,
    pub allow_email_mismatch: bool,
    pub member_limit: Option<i64>,
    pub first_invitee_joined_at: Option<i64>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, slug, name, require_2fa, require_email_verification, allow_join_requests, \
     default_role, allow_email_mismatch, member_limit, first_invitee_joined_at, created_at";

fn from_row(row: &AnyRow) -> Result<OrgRow, sqlx::Error> {
    from_row_prefixed(row, "")
}

/// Reads an organization from columns named `{prefix}{column}` (for joined queries).
pub(crate) fn from_row_prefixed(row: &AnyRow, prefix: &str) -> Result<OrgRow, sqlx::Error> {
    let col = |name: &str| format!("{prefix}{name}");
    Ok(OrgRow {
        id: row.try_get(col("id").as_str())?,
        slug: row.try_get(col("slug").as_str())?,
        name: row.try_get(col("name").as_str())?,
        require_2fa: row.try_get::<i64, _>(col("require_2fa").as_str())? != 0,
        require_email_verification: row.try_get::<i64, _>(col("require_email_verification").as_str())? != 0,
        allow_join_requests: row.try_get::<i64, _>(col("allow_join_requests").as_str())? != 0,
        default_role: row.try_get(col("default_role").as_str())?,
        allow_email_mismatch: row.try_get::<i64, _>(col("allow_email_mismatch").as_str())? != 0,
        member_limit: row.try_get(col("member_limit").as_str())?,
        first_invitee_joined_at: row.try_get(col("first_invitee_joined_at").as_str())?,
        created_at: row.try_get(col("created_at").as_str())?,
    })
}

/// The organization columns as `{alias}.{column} AS {prefix}{column}`, for joined queries.
pub(crate) fn aliased_columns(alias: &str, prefix: &str) -> String {
    COLUMNS.split(", ").map(|c| format!("{alias}.{c} AS {prefix}{c}")).collect::<Vec<_>>().join(", ")
}

/// Inserts an organization. A unique violation means the slug is taken.
pub async fn insert(conn: &mut Conn, slug: &str, name: &str, now: i64) -> Result<OrgRow, sqlx::Error> {
    let row = sqlx::query(&format!(
        "INSERT INTO organizations (slug, name, created_at) VALUES ($1, $2, $3) RETURNING {COLUMNS}"
    ))
    .bind(slug)
    .bind(name)
    .bind(now)
    .fetch_one(conn)
    .await?;
    from_row(&row)
}

pub async fn find_by_slug(conn: &mut Conn, slug: &str) -> Result<Option<OrgRow>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM organizations WHERE slug = $1"))
        .bind(slug)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn find_by_id(conn: &mut Conn, id: i64) -> Result<Option<OrgRow>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM organizations WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The organizations a user belongs to: the one they last opened first (SPEC §2), then
/// the oldest membership first.
pub async fn for_user(conn: &mut Conn, user_id: i64) -> Result<Vec<OrgRow>, sqlx::Error> {
    let cols = COLUMNS.split(", ").map(|c| format!("o.{c}")).collect::<Vec<_>>().join(", ");
    sqlx::query(&format!(
        "SELECT {cols} FROM organizations o JOIN members m ON m.organization_id = o.id \
         JOIN users u ON u.id = m.user_id \
         WHERE m.user_id = $1 ORDER BY CASE WHEN o.id = u.last_org_id THEN 0 ELSE 1 END, m.id"
    ))
    .bind(user_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Records the first time an invitee joined (the getting-started checklist); later joins
/// leave the first time in place.
pub async fn mark_first_invitee_joined(conn: &mut Conn, org_id: i64, at: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE organizations SET first_invitee_joined_at = $1 WHERE id = $2 AND first_invitee_joined_at IS NULL",
    )
    .bind(at)
    .bind(org_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The policy settings of SPEC §1, as an update writes them.
#[derive(Debug, Clone)]
pub struct Settings {
    pub name: String,
    pub require_2fa: bool,
    pub require_email_verification: bool,
    pub allow_join_requests: bool,
    pub default_role: Role,
    pub allow_email_mismatch: bool,
    pub member_limit: Option<i64>,
}

impl OrgRow {
    pub fn settings(&self) -> Settings {
        Settings {
            name: self.name.clone(),
            require_2fa: self.require_2fa,
            require_email_verification: self.require_email_verification,
            allow_join_requests: self.allow_join_requests,
            default_role: self.default_role,
            allow_email_mismatch: self.allow_email_mismatch,
            member_limit: self.member_limit,
        }
    }
}

pub async fn update_settings(conn: &mut Conn, org_id: i64, s: &Settings) -> Result<OrgRow, sqlx::Error> {
    let row = sqlx::query(&format!(
        "UPDATE organizations SET name = $1, require_2fa = $2, require_email_verification = $3, \
         allow_join_requests = $4, default_role = $5, allow_email_mismatch = $6, member_limit = $7 \
         WHERE id = $8 RETURNING {COLUMNS}"
    ))
    .bind(&s.name)
    .bind(super::flag(s.require_2fa))
    .bind(super::flag(s.require_email_verification))
    .bind(super::flag(s.allow_join_requests))
    .bind(s.default_role.as_str())
    .bind(super::flag(s.allow_email_mismatch))
    .bind(s.member_limit)
    .bind(org_id)
    .fetch_one(conn)
    .await?;
    from_row(&row)
}

/// Serialises the transactions that count or take seats of one organization. SQLite
/// transactions already hold the database's write lock (`BEGIN IMMEDIATE`); PostgreSQL
/// locks the organization's row until the transaction ends.
pub async fn lock_seats(conn: &mut Conn, kind: super::DbKind, org_id: i64) -> Result<(), sqlx::Error> {
    if kind == super::DbKind::Postgres {
        sqlx::query("SELECT id FROM organizations WHERE id = $1 FOR UPDATE").bind(org_id).execute(conn).await?;
    }
    Ok(())
}

/// Serialises the transactions of one organization that read a count and then write on
/// its strength: the owners a role change or a removal must leave (SPEC §5.10), the
/// daily sends of an invite (§5.1). The same lock as [`lock_seats`] (the organization's
/// row on PostgreSQL, held until the transaction ends; SQLite transactions already hold
/// the database's write lock), so these and seat changes take turns.
pub async fn lock(conn: &mut Conn, kind: super::DbKind, org_id: i64) -> Result<(), sqlx::Error> {
    lock_seats(conn, kind, org_id).await
}

/// Deletes an organization with its members, invites, teams, audit log and provider.
pub async fn delete(conn: &mut Conn, org_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM organizations WHERE id = $1").bind(org_id).execute(conn).await?;
    Ok(())
}
