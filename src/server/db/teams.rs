//! Queries on `teams`.

use std::collections::HashMap;

use super::Conn;

/// The id and name of an organization's team by slug.
pub async fn find(conn: &mut Conn, org_id: i64, slug: &str) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, name FROM teams WHERE organization_id = $1 AND slug = $2")
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

/// The slugs of the teams one member row belongs to, by slug.
pub async fn member_slugs(conn: &mut Conn, member_id: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT t.slug FROM teams t JOIN team_members tm ON tm.team_id = t.id WHERE tm.member_id = $1 ORDER BY t.slug",
    )
    .bind(member_id)
    .fetch_all(conn)
    .await
}

/// The team slugs of every member row of an organization, in one query: member id → slugs.
pub async fn slugs_by_member(conn: &mut Conn, org_id: i64) -> Result<HashMap<i64, Vec<String>>, sqlx::Error> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT tm.member_id, t.slug FROM team_members tm JOIN teams t ON t.id = tm.team_id \
         WHERE t.organization_id = $1 ORDER BY tm.member_id, t.slug",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?;
    let mut by_member: HashMap<i64, Vec<String>> = HashMap::new();
    for (member_id, slug) in rows {
        by_member.entry(member_id).or_default().push(slug);
    }
    Ok(by_member)
}
