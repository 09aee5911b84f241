//! Queries on `audit_log`.

use serde_json::Value;
use sqlx::Row;

use super::page::{Order, Slice};
use super::Conn;

/// One audit entry to write.
pub struct NewEntry<'a> {
    pub org_id: i64,
    pub actor_id: Option<i64>,
    pub event: &'a str,
    pub target_member_id: Option<i64>,
    pub target_user_id: Option<i64>,
    pub target_email: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub data: Value,
    pub now: i64,
}

impl<'a> NewEntry<'a> {
    /// An entry about a member row (a membership or an invite), targeting its user and
    /// address.
    pub fn about_member(
        row: &'a super::members::MemberRow,
        actor_id: i64,
        ip: Option<&'a str>,
        event: &'a str,
        data: Value,
        now: i64,
    ) -> Self {
        Self {
            org_id: row.organization_id,
            actor_id: Some(actor_id),
            event,
            target_member_id: Some(row.id),
            target_user_id: row.user_id,
            target_email: row.email.as_deref(),
            ip,
            data,
            now,
        }
    }

    /// An entry about the organization's own things (join links, webhooks), by `actor`
    /// from the address they act from (`None`: the server itself), naming no member.
    pub fn about_org(
        org_id: i64,
        actor: Option<&'a super::users::UserRow>,
        event: &'a str,
        data: Value,
        now: i64,
    ) -> Self {
        Self {
            org_id,
            actor_id: actor.map(|a| a.id),
            event,
            target_member_id: None,
            target_user_id: None,
            target_email: None,
            ip: actor.and_then(|a| a.client_ip.as_deref()),
            data,
            now,
        }
    }
}

pub async fn insert(conn: &mut Conn, entry: NewEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (organization_id, actor_id, event, target_member_id, target_user_id, target_email, ip, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(entry.org_id)
    .bind(entry.actor_id)
    .bind(entry.event)
    .bind(entry.target_member_id)
    .bind(entry.target_user_id)
    .bind(entry.target_email)
    .bind(entry.ip)
    .bind(entry.data.to_string())
    .bind(entry.now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps a user's address as text in the entries they wrote or were the target of, before
/// the account is deleted (SPEC §4.7): the entries outlive it.
pub async fn keep_address(conn: &mut Conn, user_id: i64, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE audit_log SET actor_email = $1 WHERE actor_id = $2")
        .bind(email)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE audit_log SET target_email = $1 WHERE target_user_id = $2 AND target_email IS NULL")
        .bind(email)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// An audit entry as listed, with the names that make it a sentence: the actor's (and
/// address, kept as text when the actor's account is gone), the target's, and the inviter
/// of the member row it names.
#[derive(Debug, Clone)]
pub struct EntryRow {
    pub id: i64,
    pub event: String,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    pub target_member_id: Option<i64>,
    pub target_user_id: Option<i64>,
    /// The target user's name, or the address the entry names.
    pub target_name: Option<String>,
    pub target_email: Option<String>,
    pub inviter_name: Option<String>,
    pub ip: Option<String>,
    pub data: Value,
    pub created_at: i64,
}

/// Which entries of an organization's log to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub event: Option<String>,
    pub actor_id: Option<i64>,
}

/// One page of an organization's entries, newest first (`slice` as `db::page` reads it).
pub async fn list(conn: &mut Conn, org_id: i64, filter: &Filter, slice: &Slice) -> Result<Vec<EntryRow>, sqlx::Error> {
    let keyset = slice.keyset_sql("a.id", Order::Descending, 4);
    let rows = sqlx::query(&format!(
        "SELECT a.id, a.event, a.actor_id, u.name AS actor_name, COALESCE(u.email, a.actor_email) AS actor_email, \
         a.target_member_id, a.target_user_id, t.name AS target_name, COALESCE(a.target_email, t.email) AS target_email, \
         i.name AS inviter_name, a.ip, a.data, a.created_at \
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id LEFT JOIN users t ON t.id = a.target_user_id \
         LEFT JOIN members m ON m.id = a.target_member_id LEFT JOIN users i ON i.id = m.inviter_id \
         WHERE a.organization_id = $1 AND ($2 IS NULL OR a.event = $2) AND ($3 IS NULL OR a.actor_id = $3) \
         AND {} {}",
        keyset.condition, keyset.order_by
    ))
    .bind(org_id)
    .bind(filter.event.as_deref())
    .bind(filter.actor_id)
    .bind(keyset.bound)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(EntryRow {
                id: row.try_get("id")?,
                event: row.try_get("event")?,
                actor_id: row.try_get("actor_id")?,
                actor_name: row.try_get("actor_name")?,
                actor_email: row.try_get("actor_email")?,
                target_member_id: row.try_get("target_member_id")?,
                target_user_id: row.try_get("target_user_id")?,
                target_name: row.try_get("target_name")?,
                target_email: row.try_get("target_email")?,
                inviter_name: row.try_get("inviter_name")?,
                ip: row.try_get("ip")?,
                data: serde_json::from_str(&row.try_get::<String, _>("data")?).unwrap_or(Value::Null),
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}

/// What the log's filters offer: the events it holds and the people who acted, by name.
pub async fn facets(conn: &mut Conn, org_id: i64) -> Result<(Vec<String>, Vec<(i64, String)>), sqlx::Error> {
    let events = sqlx::query_scalar("SELECT DISTINCT event FROM audit_log WHERE organization_id = $1 ORDER BY event")
        .bind(org_id)
        .fetch_all(&mut *conn)
        .await?;
    let people = sqlx::query_as(
        "SELECT DISTINCT u.id, u.name FROM audit_log a JOIN users u ON u.id = a.actor_id \
         WHERE a.organization_id = $1 ORDER BY u.name",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?;
    Ok((events, people))
}
