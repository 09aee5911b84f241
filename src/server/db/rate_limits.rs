//! Queries on `rate_limits`: fixed-window hit counters shared by every app instance.
//!
//! Only single statements, each atomic on both databases: a count is never read apart
//! from the write that changes it (see `service::limits`).

use super::Conn;

/// Adds one hit to `bucket` in the window starting at `window_start`; returns the hits
/// in that window, this one included. One statement, atomic on both databases.
pub async fn hit(conn: &mut Conn, bucket: &str, window_start: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits",
    )
    .bind(bucket)
    .bind(window_start)
    .fetch_one(conn)
    .await
}

/// Takes one hit back from `bucket` in the window starting at `window_start` (a success,
/// which does not count). One statement; never below zero.
pub async fn give_back(conn: &mut Conn, bucket: &str, window_start: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE rate_limits SET hits = hits - 1 WHERE bucket = $1 AND window_start = $2 AND hits > 0")
        .bind(bucket)
        .bind(window_start)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes windows that ended before `before`.
pub async fn sweep(conn: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM rate_limits WHERE window_start < $1").bind(before).execute(conn).await?.rows_affected())
}
