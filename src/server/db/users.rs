//! Queries on `users`.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{flag, Conn};
use crate::server::auth::password::PasswordHash;

/// A user as stored. The password hash is a type that cannot reach the wire.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: Option<PasswordHash>,
    pub email_verified: bool,
    pub is_active: bool,
    pub is_superuser: bool,
    pub created_at: i64,
    /// Organizations whose identity provider signed this user in, in the current session,
    /// recently enough to use an organization that requires it (SPEC §9.10). Not a
    /// column: filled from the session by `service::accounts::current_user`, empty when
    /// the row is read for anything else.
    pub sso_signed_in: Vec<i64>,
    /// The client address of the request this user is acting in, for the audit log. Not
    /// a column: filled by the adapters (`http::extract::SignedIn`,
    /// `server_fns::user_context`), `None` when the row is read for anything else.
    pub client_ip: Option<String>,
}

const COLUMNS: &str = "id, email, name, password_hash, email_verified, is_active, is_superuser, created_at";

fn from_row(row: &AnyRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        password_hash: row.try_get::<Option<String>, _>("password_hash")?.map(PasswordHash::from_stored),
        email_verified: row.try_get::<i64, _>("email_verified")? != 0,
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        is_superuser: row.try_get::<i64, _>("is_superuser")? != 0,
        created_at: row.try_get("created_at")?,
        sso_signed_in: Vec::new(),
        client_ip: None,
    })
}

/// What a new user row is made of.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: Option<&'a PasswordHash>,
    pub email_verified: bool,
    pub is_superuser: bool,
    pub now: i64,
}

/// Inserts a user. A unique violation means the email is taken (`users_email_key`).
pub async fn insert(conn: &mut Conn, user: NewUser<'_>) -> Result<UserRow, sqlx::Error> {
    let row = sqlx::query(&format!(
        "INSERT INTO users (email, name, password_hash, email_verified, is_active, is_superuser, created_at) \
         VALUES ($1, $2, $3, $4, 1, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(user.email)
    .bind(user.name)
    .bind(user.password_hash.map(|h| h.as_phc().to_owned()))
    .bind(flag(user.email_verified))
    .bind(flag(user.is_superuser))
    .bind(user.now)
    .fetch_one(conn)
    .await?;
    from_row(&row)
}

/// Finds a user by (already lower-cased) email.
pub async fn find_by_email(conn: &mut Conn, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
        .bind(email)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn find_by_id(conn: &mut Conn, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn email_exists(conn: &mut Conn, email: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 FROM users WHERE email = $1").bind(email).fetch_optional(conn).await?.is_some())
}

pub async fn set_email_verified(conn: &mut Conn, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET email_verified = 1 WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}

pub async fn count(conn: &mut Conn) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(conn).await
}

/// Serialises the transactions that count and then write on behalf of one user across
/// organizations (an inviter's daily invites, SPEC §5.1): PostgreSQL locks the user's row
/// until the transaction ends; SQLite transactions already hold the database's write lock.
/// Take it after the organization's lock (`organizations::lock`), never before.
pub async fn lock(conn: &mut Conn, kind: super::DbKind, user_id: i64) -> Result<(), sqlx::Error> {
    if kind == super::DbKind::Postgres {
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE").bind(user_id).execute(conn).await?;
    }
    Ok(())
}

/// Sets a new password hash only while the stored one is still `expected` (`None`: no
/// password yet): false when it changed meanwhile (a parallel reset or change won).
pub async fn replace_password_hash(
    conn: &mut Conn,
    id: i64,
    expected: Option<&PasswordHash>,
    hash: &PasswordHash,
) -> Result<bool, sqlx::Error> {
    let expected = expected.map(|h| h.as_phc().to_owned());
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1 WHERE id = $2 \
         AND ((password_hash IS NULL AND $3 IS NULL) OR password_hash = $3)",
    )
    .bind(hash.as_phc())
    .bind(id)
    .bind(expected)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_name(conn: &mut Conn, id: i64, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET name = $1 WHERE id = $2").bind(name).bind(id).execute(conn).await?;
    Ok(())
}

/// Moves an account to a new (lower-cased) address, verified by the link that was followed.
/// A unique violation means another account has it (`users_email_key`).
pub async fn change_email(conn: &mut Conn, id: i64, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET email = $1, email_verified = 1 WHERE id = $2")
        .bind(email)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes an account; its memberships, identities, second factors and links go with it
/// (foreign keys), its audit entries stay.
pub async fn delete(conn: &mut Conn, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}

/// The organization the user last opened, if any (they may have left it since).
pub async fn last_org(conn: &mut Conn, user_id: i64) -> Result<Option<i64>, sqlx::Error> {
    Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT last_org_id FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(conn)
        .await?
        .flatten())
}

/// Records the organization the user last opened (SPEC §2); a write only when it changes.
pub async fn set_last_org(conn: &mut Conn, user_id: i64, org_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET last_org_id = $1 WHERE id = $2 AND (last_org_id IS NULL OR last_org_id <> $1)")
        .bind(org_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}
