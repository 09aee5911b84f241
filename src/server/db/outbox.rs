//! The mail and event outboxes (SPEC §8): rows written in the transaction that causes
//! them, claimed and delivered afterwards by background workers.

use sqlx::Row;

use super::Conn;

/// Queues one email.
pub async fn queue_mail(conn: &mut Conn, to: &str, subject: &str, body: &str, member_id: Option<i64>, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO mail_outbox (to_addr, subject, body, member_id, status, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, 'queued', $5, $5) RETURNING id",
    )
    .bind(to)
    .bind(subject)
    .bind(body)
    .bind(member_id)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// A queued email claimed for delivery.
#[derive(Debug, Clone)]
pub struct MailRow {
    pub id: i64,
    pub to_addr: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

/// Claims up to `limit` due emails: marks them `sending` with a lease, so that another
/// instance does not send them too; a lease that runs out (a crashed worker) makes them
/// due again.
pub async fn claim_mail(conn: &mut Conn, now: i64, lease_secs: i64, limit: i64) -> Result<Vec<MailRow>, sqlx::Error> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM mail_outbox WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1 ORDER BY id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut claimed = Vec::new();
    for id in ids {
        let row = sqlx::query(
            "UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, next_attempt_at = $1 \
             WHERE id = $2 AND status IN ('queued', 'sending') AND next_attempt_at <= $3 \
             RETURNING id, to_addr, subject, body, attempts",
        )
        .bind(now + lease_secs)
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            claimed.push(MailRow {
                id: row.try_get("id")?,
                to_addr: row.try_get("to_addr")?,
                subject: row.try_get("subject")?,
                body: row.try_get("body")?,
                attempts: row.try_get("attempts")?,
            });
        }
    }
    Ok(claimed)
}

pub async fn mail_sent(conn: &mut Conn, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE mail_outbox SET status = 'sent', sent_at = $1, last_error = NULL WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failed attempt: due again at `retry_at`, or `failed` for good.
pub async fn mail_failed(conn: &mut Conn, id: i64, error: &str, retry_at: Option<i64>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE mail_outbox SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at), last_error = $3 WHERE id = $4")
        .bind(if retry_at.is_some() { "queued" } else { "failed" })
        .bind(retry_at)
        .bind(error)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The delivery state of the newest email about a member row (queued, sending, sent, failed).
pub async fn mail_state_for_member(conn: &mut Conn, member_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM mail_outbox WHERE member_id = $1 ORDER BY id DESC LIMIT 1")
        .bind(member_id)
        .fetch_optional(conn)
        .await
}

/// Queues one event.
pub async fn queue_event(conn: &mut Conn, event: &str, org_id: i64, payload: &serde_json::Value, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO event_outbox (event, organization_id, payload, status, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, 'queued', $4, $4)",
    )
    .bind(event)
    .bind(org_id)
    .bind(payload.to_string())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A queued event claimed for delivery.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: i64,
    pub event: String,
    pub organization_id: i64,
    pub payload: serde_json::Value,
    pub attempts: i64,
}

/// Claims due events with a lease, as [`claim_mail`].
pub async fn claim_events(conn: &mut Conn, now: i64, lease_secs: i64, limit: i64) -> Result<Vec<EventRow>, sqlx::Error> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM event_outbox WHERE status IN ('queued', 'delivering') AND next_attempt_at <= $1 ORDER BY id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut claimed = Vec::new();
    for id in ids {
        let row = sqlx::query(
            "UPDATE event_outbox SET status = 'delivering', attempts = attempts + 1, next_attempt_at = $1 \
             WHERE id = $2 AND status IN ('queued', 'delivering') AND next_attempt_at <= $3 \
             RETURNING id, event, organization_id, payload, attempts",
        )
        .bind(now + lease_secs)
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            claimed.push(EventRow {
                id: row.try_get("id")?,
                event: row.try_get("event")?,
                organization_id: row.try_get("organization_id")?,
                payload: serde_json::from_str(&row.try_get::<String, _>("payload")?).unwrap_or_default(),
                attempts: row.try_get("attempts")?,
            });
        }
    }
    Ok(claimed)
}

pub async fn event_delivered(conn: &mut Conn, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE event_outbox SET status = 'delivered', delivered_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn event_failed(conn: &mut Conn, id: i64, error: &str, retry_at: Option<i64>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE event_outbox SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at), last_error = $3 WHERE id = $4")
        .bind(if retry_at.is_some() { "queued" } else { "failed" })
        .bind(retry_at)
        .bind(error)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
