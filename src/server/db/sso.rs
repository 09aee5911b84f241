//! Queries on `auth_providers` and `auth_identities`.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{flag, Conn};

/// An organization's OpenID Connect provider as stored (the client secret sealed).
#[derive(Clone)]
pub struct ProviderRow {
    pub organization_id: i64,
    pub issuer: String,
    pub client_id: String,
    pub client_secret_sealed: String,
    pub display_name: String,
    pub require_sso: bool,
    pub allow_jit_membership: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for ProviderRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderRow")
            .field("organization_id", &self.organization_id)
            .field("issuer", &self.issuer)
            .field("display_name", &self.display_name)
            .field("require_sso", &self.require_sso)
            .finish_non_exhaustive()
    }
}

const PROVIDER_COLUMNS: &str = "organization_id, issuer, client_id, client_secret_sealed, display_name, \
     require_sso, allow_jit_membership, created_at, updated_at";

fn provider_from_row(row: &AnyRow) -> Result<ProviderRow, sqlx::Error> {
    Ok(ProviderRow {
        organization_id: row.try_get("organization_id")?,
        issuer: row.try_get("issuer")?,
        client_id: row.try_get("client_id")?,
        client_secret_sealed: row.try_get("client_secret_sealed")?,
        display_name: row.try_get("display_name")?,
        require_sso: row.try_get::<i64, _>("require_sso")? != 0,
        allow_jit_membership: row.try_get::<i64, _>("allow_jit_membership")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn provider(conn: &mut Conn, org_id: i64) -> Result<Option<ProviderRow>, sqlx::Error> {
    sqlx::query(&format!("SELECT {PROVIDER_COLUMNS} FROM auth_providers WHERE organization_id = $1"))
        .bind(org_id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(provider_from_row)
        .transpose()
}

/// Inserts or replaces an organization's provider.
pub async fn save_provider(conn: &mut Conn, p: &ProviderRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO auth_providers (organization_id, issuer, client_id, client_secret_sealed, display_name, \
         require_sso, allow_jit_membership, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (organization_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id, \
         client_secret_sealed = excluded.client_secret_sealed, display_name = excluded.display_name, \
         require_sso = excluded.require_sso, allow_jit_membership = excluded.allow_jit_membership, \
         updated_at = excluded.updated_at",
    )
    .bind(p.organization_id)
    .bind(&p.issuer)
    .bind(&p.client_id)
    .bind(&p.client_secret_sealed)
    .bind(&p.display_name)
    .bind(flag(p.require_sso))
    .bind(flag(p.allow_jit_membership))
    .bind(p.created_at)
    .bind(p.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_provider(conn: &mut Conn, org_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM auth_providers WHERE organization_id = $1").bind(org_id).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

/// An identity at an organization's provider, linked to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRow {
    pub id: i64,
    pub organization_id: i64,
    pub user_id: i64,
    pub subject: String,
    pub email: Option<String>,
    pub created_at: i64,
    pub last_verified_at: i64,
}

const IDENTITY_COLUMNS: &str = "id, organization_id, user_id, subject, email, created_at, last_verified_at";

fn identity_from_row(row: &AnyRow) -> Result<IdentityRow, sqlx::Error> {
    Ok(IdentityRow {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        user_id: row.try_get("user_id")?,
        subject: row.try_get("subject")?,
        email: row.try_get("email")?,
        created_at: row.try_get("created_at")?,
        last_verified_at: row.try_get("last_verified_at")?,
    })
}

async fn one_identity(
    conn: &mut Conn,
    sql: &str,
    org_id: i64,
    key: IdentityKey<'_>,
) -> Result<Option<IdentityRow>, sqlx::Error> {
    let query = sqlx::query(sql).bind(org_id);
    let query = match key {
        IdentityKey::Subject(subject) => query.bind(subject.to_owned()),
        IdentityKey::User(user_id) => query.bind(user_id),
    };
    query.fetch_optional(conn).await?.as_ref().map(identity_from_row).transpose()
}

enum IdentityKey<'a> {
    Subject(&'a str),
    User(i64),
}

/// The identity with this subject at the organization's provider.
pub async fn identity_by_subject(
    conn: &mut Conn,
    org_id: i64,
    subject: &str,
) -> Result<Option<IdentityRow>, sqlx::Error> {
    let sql = format!("SELECT {IDENTITY_COLUMNS} FROM auth_identities WHERE organization_id = $1 AND subject = $2");
    one_identity(conn, &sql, org_id, IdentityKey::Subject(subject)).await
}

/// The identity a user has linked at the organization's provider.
pub async fn identity_of_user(conn: &mut Conn, org_id: i64, user_id: i64) -> Result<Option<IdentityRow>, sqlx::Error> {
    let sql = format!("SELECT {IDENTITY_COLUMNS} FROM auth_identities WHERE organization_id = $1 AND user_id = $2");
    one_identity(conn, &sql, org_id, IdentityKey::User(user_id)).await
}

/// Links an identity. A unique violation means the subject or the user is linked already.
pub async fn insert_identity(
    conn: &mut Conn,
    org_id: i64,
    user_id: i64,
    subject: &str,
    email: Option<&str>,
    now: i64,
) -> Result<IdentityRow, sqlx::Error> {
    let row = sqlx::query(&format!(
        "INSERT INTO auth_identities (organization_id, user_id, subject, email, created_at, last_verified_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING {IDENTITY_COLUMNS}"
    ))
    .bind(org_id)
    .bind(user_id)
    .bind(subject)
    .bind(email)
    .bind(now)
    .fetch_one(conn)
    .await?;
    identity_from_row(&row)
}

/// Records a fresh sign-in through an identity (and the address the provider gave).
pub async fn touch_identity(conn: &mut Conn, id: i64, email: Option<&str>, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE auth_identities SET last_verified_at = $1, email = $2 WHERE id = $3")
        .bind(now)
        .bind(email)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Unlinks every identity of an organization (its provider was removed or replaced).
pub async fn delete_identities(conn: &mut Conn, org_id: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM auth_identities WHERE organization_id = $1")
        .bind(org_id)
        .execute(conn)
        .await?
        .rows_affected())
}

/// A user's linked identities with their organization's slug, name and provider name.
pub async fn identities_of_user(
    conn: &mut Conn,
    user_id: i64,
) -> Result<Vec<(IdentityRow, String, String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT i.id, i.organization_id, i.user_id, i.subject, i.email, i.created_at, i.last_verified_at, \
         o.slug, o.name, p.display_name FROM auth_identities i \
         JOIN organizations o ON o.id = i.organization_id \
         JOIN auth_providers p ON p.organization_id = i.organization_id \
         WHERE i.user_id = $1 ORDER BY o.name",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((identity_from_row(row)?, row.try_get("slug")?, row.try_get("name")?, row.try_get("display_name")?))
        })
        .collect()
}

/// The provider's display name when the organization requires single sign-on.
pub async fn required_provider(conn: &mut Conn, org_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT display_name FROM auth_providers WHERE organization_id = $1 AND require_sso = 1")
        .bind(org_id)
        .fetch_optional(conn)
        .await
}

/// Unlinks the user's identity at the organization's provider.
pub async fn delete_identity_of_user(conn: &mut Conn, org_id: i64, user_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM auth_identities WHERE organization_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Organizations the user belongs to whose provider the user has not linked:
/// `(slug, name, provider display name)`.
pub async fn linkable_orgs(conn: &mut Conn, user_id: i64) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.slug, o.name, p.display_name FROM members m \
         JOIN organizations o ON o.id = m.organization_id \
         JOIN auth_providers p ON p.organization_id = m.organization_id \
         WHERE m.user_id = $1 AND NOT EXISTS \
           (SELECT 1 FROM auth_identities i WHERE i.organization_id = m.organization_id AND i.user_id = $1) \
         ORDER BY o.name",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}
