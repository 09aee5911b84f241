//! The outboxes (SPEC §8): mail and events, rows written in the transaction that causes
//! them, and webhook deliveries, made from events; each claimed and delivered afterwards
//! by background workers.

use sqlx::Row;

use super::Conn;

/// One email to queue: a plain-text part and, usually, an HTML part.
#[derive(Debug, Clone, Copy)]
pub struct NewMail<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: Option<&'a str>,
    /// The invite it is about, if any (its delivery state is shown to the inviter).
    pub member_id: Option<i64>,
}

/// Queues one email.
pub async fn queue_mail(conn: &mut Conn, mail: NewMail<'_>, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO mail_outbox (to_addr, subject, body, html, member_id, status, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6) RETURNING id",
    )
    .bind(mail.to)
    .bind(mail.subject)
    .bind(mail.text)
    .bind(mail.html)
    .bind(mail.member_id)
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
    pub html: Option<String>,
    pub attempts: i64,
}

/// The outbox tables, which share their delivery columns (`status`, `attempts`,
/// `next_attempt_at`, `last_error`).
#[derive(Clone, Copy)]
enum Outbox {
    Mail,
    Events,
    Webhooks,
}

impl Outbox {
    fn table(self) -> &'static str {
        match self {
            Self::Mail => "mail_outbox",
            Self::Events => "event_outbox",
            Self::Webhooks => "webhook_deliveries",
        }
    }

    /// The status of a row being delivered (`sending` / `delivering`).
    fn in_flight(self) -> &'static str {
        match self {
            Self::Mail => "sending",
            Self::Events | Self::Webhooks => "delivering",
        }
    }
}

/// Whether any row is due: one read, before a worker opens a claiming transaction (a
/// worker is woken by every commit on SQLite).
async fn any_due(conn: &mut Conn, outbox: Outbox, now: i64) -> Result<bool, sqlx::Error> {
    let (table, in_flight) = (outbox.table(), outbox.in_flight());
    let due: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT id FROM {table} WHERE status IN ('queued', '{in_flight}') AND next_attempt_at <= $1 LIMIT 1"
    ))
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(due.is_some())
}

pub async fn mail_due(conn: &mut Conn, now: i64) -> Result<bool, sqlx::Error> {
    any_due(conn, Outbox::Mail, now).await
}

pub async fn events_due(conn: &mut Conn, now: i64) -> Result<bool, sqlx::Error> {
    any_due(conn, Outbox::Events, now).await
}

pub async fn webhooks_due(conn: &mut Conn, now: i64) -> Result<bool, sqlx::Error> {
    any_due(conn, Outbox::Webhooks, now).await
}

/// Claims up to `limit` due rows: marks them in flight with a lease, so that another
/// instance does not deliver them too; a lease that runs out (a crashed worker) makes them
/// due again. Returns the claimed rows.
async fn claim(
    conn: &mut Conn,
    outbox: Outbox,
    columns: &str,
    now: i64,
    lease_secs: i64,
    limit: i64,
) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
    let (table, in_flight) = (outbox.table(), outbox.in_flight());
    // One statement. The outer conditions are checked again on each row it updates: on
    // PostgreSQL a row another instance claimed meanwhile is re-read after its lock and no
    // longer due, so it is skipped, not claimed twice.
    sqlx::query(&format!(
        "UPDATE {table} SET status = '{in_flight}', attempts = attempts + 1, next_attempt_at = $1 \
         WHERE id IN (SELECT id FROM {table} WHERE status IN ('queued', '{in_flight}') AND next_attempt_at <= $2 \
                      ORDER BY id LIMIT $3) \
           AND status IN ('queued', '{in_flight}') AND next_attempt_at <= $2 RETURNING {columns}"
    ))
    .bind(now + lease_secs)
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
}

/// Records a failed attempt: due again at `retry_at`, or `failed` for good.
async fn failed(
    conn: &mut Conn,
    outbox: Outbox,
    id: i64,
    error: &str,
    retry_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "UPDATE {} SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at), last_error = $3 WHERE id = $4",
        outbox.table()
    ))
    .bind(if retry_at.is_some() { "queued" } else { "failed" })
    .bind(retry_at)
    .bind(error)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims up to `limit` due emails (see [`claim`]).
pub async fn claim_mail(conn: &mut Conn, now: i64, lease_secs: i64, limit: i64) -> Result<Vec<MailRow>, sqlx::Error> {
    claim(conn, Outbox::Mail, "id, to_addr, subject, body, html, attempts", now, lease_secs, limit)
        .await?
        .iter()
        .map(|row| {
            Ok(MailRow {
                id: row.try_get("id")?,
                to_addr: row.try_get("to_addr")?,
                subject: row.try_get("subject")?,
                body: row.try_get("body")?,
                html: row.try_get("html")?,
                attempts: row.try_get("attempts")?,
            })
        })
        .collect()
}

/// Marks emails sent, in one statement.
pub async fn mails_sent(conn: &mut Conn, ids: &[i64], now: i64) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    // The body carries live links (invites, verification): once sent it is not kept
    // (SPEC §8, §9.5); recipient, subject, kind and state remain.
    let list = (2..ids.len() + 2).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "UPDATE mail_outbox SET status = 'sent', sent_at = $1, last_error = NULL, body = '', html = NULL WHERE id IN ({list})"
    );
    let mut query = sqlx::query(&sql).bind(now);
    for id in ids {
        query = query.bind(*id);
    }
    query.execute(conn).await?;
    Ok(())
}

/// Records a failed email attempt (see [`failed`]).
pub async fn mail_failed(conn: &mut Conn, id: i64, error: &str, retry_at: Option<i64>) -> Result<(), sqlx::Error> {
    failed(conn, Outbox::Mail, id, error, retry_at).await
}

/// The delivery state of the newest email about a member row (queued, sending, sent, failed).
pub async fn mail_state_for_member(conn: &mut Conn, member_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM mail_outbox WHERE member_id = $1 ORDER BY id DESC LIMIT 1")
        .bind(member_id)
        .fetch_optional(conn)
        .await
}

/// Queues one event.
pub async fn queue_event(
    conn: &mut Conn,
    event: &str,
    org_id: i64,
    payload: &serde_json::Value,
    now: i64,
) -> Result<(), sqlx::Error> {
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
    pub created_at: i64,
}

/// Claims due events (see [`claim`]).
pub async fn claim_events(
    conn: &mut Conn,
    now: i64,
    lease_secs: i64,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    claim(conn, Outbox::Events, "id, event, organization_id, payload, attempts, created_at", now, lease_secs, limit)
        .await?
        .iter()
        .map(|row| {
            Ok(EventRow {
                id: row.try_get("id")?,
                event: row.try_get("event")?,
                organization_id: row.try_get("organization_id")?,
                payload: serde_json::from_str(&row.try_get::<String, _>("payload")?).unwrap_or_default(),
                attempts: row.try_get("attempts")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}

/// A webhook delivery claimed for an attempt.
#[derive(Debug, Clone)]
pub struct WebhookRow {
    pub id: i64,
    pub endpoint_id: i64,
    pub msg_id: String,
    pub body: String,
    pub attempts: i64,
}

/// Claims due webhook deliveries (see [`claim`]).
pub async fn claim_webhooks(
    conn: &mut Conn,
    now: i64,
    lease_secs: i64,
    limit: i64,
) -> Result<Vec<WebhookRow>, sqlx::Error> {
    claim(conn, Outbox::Webhooks, "id, endpoint_id, msg_id, body, attempts", now, lease_secs, limit)
        .await?
        .iter()
        .map(|row| {
            Ok(WebhookRow {
                id: row.try_get("id")?,
                endpoint_id: row.try_get("endpoint_id")?,
                msg_id: row.try_get("msg_id")?,
                body: row.try_get("body")?,
                attempts: row.try_get("attempts")?,
            })
        })
        .collect()
}

/// Records a failed webhook attempt (see [`failed`]).
pub async fn webhook_failed(conn: &mut Conn, id: i64, error: &str, retry_at: Option<i64>) -> Result<(), sqlx::Error> {
    failed(conn, Outbox::Webhooks, id, error, retry_at).await
}

pub async fn event_delivered(conn: &mut Conn, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE event_outbox SET status = 'delivered', delivered_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failed event delivery (see [`failed`]).
pub async fn event_failed(conn: &mut Conn, id: i64, error: &str, retry_at: Option<i64>) -> Result<(), sqlx::Error> {
    failed(conn, Outbox::Events, id, error, retry_at).await
}

/// On PostgreSQL: calls `wake` each time an instance commits an outbox row (the trigger of
/// the `outbox_wake` migration notifies `gatehouse_outbox`), until the task is aborted.
/// A lost connection is made again after a second; notifications sent meanwhile are lost,
/// which the workers' polling makes up for.
pub async fn listen(url: String, wake: impl Fn()) {
    loop {
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => match listener.listen("gatehouse_outbox").await {
                Ok(()) => {
                    // Rows committed while nobody listened.
                    wake();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(_)) => wake(),
                            Ok(None) => {
                                tracing::warn!("outbox notifications: connection lost; listening again");
                                wake();
                            }
                            Err(err) => {
                                tracing::warn!(error = %err, "outbox notifications");
                                break;
                            }
                        }
                    }
                }
                Err(err) => tracing::warn!(error = %err, "outbox notifications: LISTEN failed"),
            },
            Err(err) => tracing::warn!(error = %err, "outbox notifications: cannot connect"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// What waits in one outbox: rows queued or in flight, and the age of the oldest.
#[derive(Debug, Clone, Copy)]
pub struct Backlog {
    pub outbox: &'static str,
    pub depth: i64,
    pub oldest_age_secs: i64,
}

/// The backlog of each outbox (`mail`, `events`, `webhooks`), for the metrics.
pub async fn backlog(conn: &mut Conn, now: i64) -> Result<Vec<Backlog>, sqlx::Error> {
    let mut all = Vec::new();
    for (name, outbox) in [("mail", Outbox::Mail), ("events", Outbox::Events), ("webhooks", Outbox::Webhooks)] {
        let (table, in_flight) = (outbox.table(), outbox.in_flight());
        let (depth, oldest): (i64, Option<i64>) = sqlx::query_as(&format!(
            "SELECT COUNT(*), MIN(created_at) FROM {table} WHERE status IN ('queued', '{in_flight}')"
        ))
        .fetch_one(&mut *conn)
        .await?;
        all.push(Backlog { outbox: name, depth, oldest_age_secs: oldest.map_or(0, |t| (now - t).max(0)) });
    }
    Ok(all)
}
