//! Queries on `email_verifications`: one row per verification link sent.

use super::Conn;

/// A verification link as stored (the nonce only as a hash).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VerificationRow {
    pub user_id: i64,
    pub email: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn insert(
    conn: &mut Conn,
    nonce_hash: &str,
    user_id: i64,
    email: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO email_verifications (nonce_hash, user_id, email, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(nonce_hash)
        .bind(user_id)
        .bind(email)
        .bind(expires_at)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find(conn: &mut Conn, nonce_hash: &str) -> Result<Option<VerificationRow>, sqlx::Error> {
    sqlx::query_as("SELECT user_id, email, expires_at, used_at FROM email_verifications WHERE nonce_hash = $1")
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
