//! Queries on `rate_limits`: fixed-window hit counters shared by every app instance.

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

/// The hits of `bucket` in the window starting at `window_start`.
pub async fn hits(conn: &mut Conn, bucket: &str, window_start: i64) -> Result<i64, sqlx::Error> {
    Ok(sqlx::query_scalar("SELECT hits FROM rate_limits WHERE bucket = $1 AND window_start = $2")
        .bind(bucket)
        .bind(window_start)
        .fetch_optional(conn)
        .await?
        .unwrap_or(0))
}

/// Forgets the counters of a bucket (a successful login clears its failures).
pub async fn clear(conn: &mut Conn, bucket: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM rate_limits WHERE bucket = $1").bind(bucket).execute(conn).await?;
    Ok(())
}

/// Deletes windows that ended before `before`.
pub async fn sweep(conn: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM rate_limits WHERE window_start < $1").bind(before).execute(conn).await?.rows_affected())
}
