//! Queries on `email_verifications`: one row per verification link sent, either to verify
//! the account's address or to move the account to a new one (SPEC §4.7, §7).

use super::Conn;

/// A verification link as stored (the nonce only as a hash).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VerificationRow {
    pub user_id: i64,
    pub email: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub purpose: String,
}

/// A link that verifies the account's own address.
pub const VERIFY: &str = "verify";
/// A link that moves the account to the address it was sent to.
pub const CHANGE: &str = "change";

pub async fn insert(
    conn: &mut Conn,
    nonce_hash: &str,
    user_id: i64,
    email: &str,
    purpose: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO email_verifications (nonce_hash, user_id, email, purpose, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(nonce_hash)
    .bind(user_id)
    .bind(email)
    .bind(purpose)
    .bind(expires_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut Conn, nonce_hash: &str) -> Result<Option<VerificationRow>, sqlx::Error> {
    sqlx::query_as("SELECT user_id, email, expires_at, used_at, purpose FROM email_verifications WHERE nonce_hash = $1")
        .bind(nonce_hash)
        .fetch_optional(conn)
        .await
}

/// Marks a link used, only once: false when it already was.
pub async fn mark_used(conn: &mut Conn, nonce_hash: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE email_verifications SET used_at = $1 WHERE nonce_hash = $2 AND used_at IS NULL")
        .bind(now)
        .bind(nonce_hash)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets the address changes a user asked for and has not confirmed (a newer request
/// replaces them).
pub async fn delete_unused_changes(conn: &mut Conn, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM email_verifications WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL")
        .bind(user_id)
        .bind(CHANGE)
        .execute(conn)
        .await?;
    Ok(())
}
