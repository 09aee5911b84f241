//! Queries on `totp_authenticators` and `recovery_codes`.

use super::Conn;

/// The user's TOTP secret (sealed) and the last step a code was accepted for.
pub async fn find(conn: &mut Conn, user_id: i64) -> Result<Option<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT secret, last_step FROM totp_authenticators WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(conn)
        .await
}

pub async fn is_enrolled(conn: &mut Conn, user_id: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 FROM totp_authenticators WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(conn)
        .await?
        .is_some())
}

/// Stores an authenticator. A unique violation means the user already has one.
pub async fn insert(conn: &mut Conn, user_id: i64, secret: &str, step: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO totp_authenticators (user_id, secret, last_step, created_at) VALUES ($1, $2, $3, $4)")
        .bind(user_id)
        .bind(secret)
        .bind(step)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that a code of `step` was used, only if no code of that step or a later one was:
/// false means a replay.
pub async fn use_step(conn: &mut Conn, user_id: i64, step: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE totp_authenticators SET last_step = $1 WHERE user_id = $2 AND last_step < $1")
        .bind(step)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces the user's recovery codes.
pub async fn replace_recovery_codes(conn: &mut Conn, user_id: i64, hashes: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    for hash in hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user_id)
            .bind(hash)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Uses a recovery code once: false when it is unknown or already used.
pub async fn use_recovery_code(conn: &mut Conn, user_id: i64, hash: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
            .bind(now)
            .bind(user_id)
            .bind(hash)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn unused_recovery_codes(conn: &mut Conn, user_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .fetch_one(conn)
        .await
}

/// Secrets not in the sealed form (`v1:`…): rows written before secrets were sealed.
pub async fn plain_secrets(conn: &mut Conn) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT user_id, secret FROM totp_authenticators WHERE secret NOT LIKE 'v1:%'").fetch_all(conn).await
}

pub async fn set_secret(conn: &mut Conn, user_id: i64, secret: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE totp_authenticators SET secret = $1 WHERE user_id = $2")
        .bind(secret)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes a user's authenticator and recovery codes: false when there was none.
pub async fn remove(conn: &mut Conn, user_id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    let done = sqlx::query("DELETE FROM totp_authenticators WHERE user_id = $1").bind(user_id).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}
