//! Queries on `password_resets`: one row per reset link mailed (SPEC §4.5), the token only
//! as a hash.

use super::Conn;

/// A reset link as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResetRow {
    pub user_id: i64,
    /// A digest of the password hash the link was issued under.
    pub password_stamp: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn insert(
    conn: &mut Conn,
    token_hash: &str,
    user_id: i64,
    password_stamp: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO password_resets (token_hash, user_id, password_stamp, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(password_stamp)
    .bind(expires_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut Conn, token_hash: &str) -> Result<Option<ResetRow>, sqlx::Error> {
    sqlx::query_as("SELECT user_id, password_stamp, expires_at, used_at FROM password_resets WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(conn)
        .await
}

/// Uses a link once: false when it already was.
pub async fn mark_used(conn: &mut Conn, token_hash: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
        .bind(now)
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets every unused link of a user (their password was just set).
pub async fn delete_unused(conn: &mut Conn, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets links that expired before `before`.
pub async fn delete_expired(conn: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM password_resets WHERE expires_at < $1").bind(before).execute(conn).await?;
    Ok(done.rows_affected())
}
