//! Queries on `teams`.

use super::Conn;

/// The id of an organization's team by slug.
pub async fn find_id(conn: &mut Conn, org_id: i64, slug: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM teams WHERE organization_id = $1 AND slug = $2")
        .bind(org_id)
        .bind(slug)
        .fetch_optional(conn)
        .await
}

/// An organization's teams: `(slug, name)`, by slug.
pub async fn list(conn: &mut Conn, org_id: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT slug, name FROM teams WHERE organization_id = $1 ORDER BY slug")
        .bind(org_id)
        .fetch_all(conn)
        .await
}

/// Creates a team. A unique violation means the slug is taken in that organization.
pub async fn insert(conn: &mut Conn, org_id: i64, slug: &str, name: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO teams (organization_id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(org_id)
        .bind(slug)
        .bind(name)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
