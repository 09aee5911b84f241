//! Queries on webhook endpoints, their deliveries and the attempt log (SPEC §8). Claiming
//! deliveries is the outbox's (`outbox::claim_webhooks`).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::page::{Order, Slice};
use super::Conn;
use crate::server::domain::webhook::DisabledReason;

/// An endpoint as stored; its secrets sealed.
#[derive(Debug, Clone)]
pub struct EndpointRow {
    pub id: i64,
    pub organization_id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<DisabledReason>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub failing_since: Option<i64>,
    pub created_at: i64,
}

impl EndpointRow {
    /// The previous secret's expiry, while it still signs at `now`.
    pub fn previous_until(&self, now: i64) -> Option<i64> {
        self.previous_secret_expires_at.filter(|until| *until > now && self.previous_secret.is_some())
    }
}

const ENDPOINT: &str = "SELECT id, organization_id, url, events, enabled, disabled_reason, secret, previous_secret, \
     previous_secret_expires_at, failing_since, created_at FROM webhook_endpoints";

/// `events` as stored: each type between commas, so that one `LIKE` finds a type.
fn stored_events(events: &[&str]) -> String {
    format!(",{},", events.join(","))
}

fn endpoint(row: &AnyRow) -> Result<EndpointRow, sqlx::Error> {
    let events: String = row.try_get("events")?;
    let reason: Option<String> = row.try_get("disabled_reason")?;
    Ok(EndpointRow {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        url: row.try_get("url")?,
        events: events.split(',').filter(|e| !e.is_empty()).map(str::to_owned).collect(),
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        disabled_reason: reason.as_deref().and_then(DisabledReason::parse),
        secret: row.try_get("secret")?,
        previous_secret: row.try_get("previous_secret")?,
        previous_secret_expires_at: row.try_get("previous_secret_expires_at")?,
        failing_since: row.try_get("failing_since")?,
        created_at: row.try_get("created_at")?,
    })
}

/// A new endpoint; its secret is sealed after the insert (the seal is bound to the id).
pub struct NewEndpoint<'a> {
    pub org_id: i64,
    pub url: &'a str,
    pub events: &'a [&'a str],
    pub enabled: bool,
    pub created_by: i64,
    pub now: i64,
}

pub async fn insert(conn: &mut Conn, new: NewEndpoint<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO webhook_endpoints (organization_id, url, events, enabled, secret, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, '', $5, $6, $6) RETURNING id",
    )
    .bind(new.org_id)
    .bind(new.url)
    .bind(stored_events(new.events))
    .bind(super::flag(new.enabled))
    .bind(new.created_by)
    .bind(new.now)
    .fetch_one(conn)
    .await
}

pub async fn count(conn: &mut Conn, org_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_endpoints WHERE organization_id = $1")
        .bind(org_id)
        .fetch_one(conn)
        .await
}

/// Endpoint `id` of organization `org_id`.
pub async fn find(conn: &mut Conn, org_id: i64, id: i64) -> Result<Option<EndpointRow>, sqlx::Error> {
    Ok(find_by_id(conn, id).await?.filter(|e| e.organization_id == org_id))
}

/// Endpoint `id`, whatever its organization (the delivery worker's read).
pub async fn find_by_id(conn: &mut Conn, id: i64) -> Result<Option<EndpointRow>, sqlx::Error> {
    sqlx::query(&format!("{ENDPOINT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(endpoint)
        .transpose()
}

/// The organization's endpoints, newest first.
pub async fn list(conn: &mut Conn, org_id: i64) -> Result<Vec<EndpointRow>, sqlx::Error> {
    sqlx::query(&format!("{ENDPOINT} WHERE organization_id = $1 ORDER BY id DESC"))
        .bind(org_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(endpoint)
        .collect()
}

/// The enabled endpoints of an organization that asked for `event`.
pub async fn subscribed(conn: &mut Conn, org_id: i64, event: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints WHERE organization_id = $1 AND enabled = 1 AND events LIKE $2 ORDER BY id",
    )
    .bind(org_id)
    .bind(format!("%,{event},%"))
    .fetch_all(conn)
    .await
}

/// Sets the URL, the event types and the enabled flag; enabling clears why it was disabled
/// and since when it failed.
pub async fn update(
    conn: &mut Conn,
    id: i64,
    url: &str,
    events: &[&str],
    enabled: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_endpoints SET url = $1, events = $2, enabled = $3, updated_at = $4, \
         disabled_reason = CASE WHEN $3 = 1 THEN NULL ELSE disabled_reason END, \
         failing_since = CASE WHEN $3 = 1 AND enabled = 0 THEN NULL ELSE failing_since END \
         WHERE id = $5",
    )
    .bind(url)
    .bind(stored_events(events))
    .bind(super::flag(enabled))
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a new sealed secret; the one it replaces keeps signing until `previous_until`.
pub async fn set_secret(
    conn: &mut Conn,
    id: i64,
    secret: &str,
    previous: Option<&str>,
    previous_until: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_endpoints SET secret = $1, previous_secret = $2, previous_secret_expires_at = $3, \
         updated_at = $4 WHERE id = $5",
    )
    .bind(secret)
    .bind(previous)
    .bind(previous_until)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut Conn, org_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM webhook_endpoints WHERE organization_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Records a success: the endpoint is no longer failing.
pub async fn succeeded(conn: &mut Conn, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failure: failing since now unless it already was; returns since when.
pub async fn failing(conn: &mut Conn, id: i64, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query("UPDATE webhook_endpoints SET failing_since = $1 WHERE id = $2 AND failing_since IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let since = sqlx::query_scalar::<_, Option<i64>>("SELECT failing_since FROM webhook_endpoints WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .flatten();
    Ok(since.unwrap_or(now))
}

/// Disables an enabled endpoint for `reason`; `false` when it was not enabled (another
/// attempt disabled it first).
pub async fn disable(conn: &mut Conn, id: i64, reason: DisabledReason, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $1, updated_at = $2 WHERE id = $3 AND enabled = 1",
    )
    .bind(reason.as_str())
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// One delivery to make: an event for one endpoint.
pub struct NewDelivery<'a> {
    pub endpoint_id: i64,
    pub event_id: i64,
    pub msg_id: &'a str,
    pub event_type: &'a str,
    pub body: &'a str,
    pub now: i64,
}

/// Queues a delivery; nothing when this event was already queued for this endpoint (an
/// event handed over twice).
pub async fn queue(conn: &mut Conn, new: NewDelivery<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, msg_id, event_type, body, status, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6) ON CONFLICT (endpoint_id, event_id) DO NOTHING",
    )
    .bind(new.endpoint_id)
    .bind(new.event_id)
    .bind(new.msg_id)
    .bind(new.event_type)
    .bind(new.body)
    .bind(new.now)
    .execute(conn)
    .await?;
    Ok(())
}

/// One attempt as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub attempted_at: i64,
    pub status_code: Option<i64>,
    /// What kept an answer from coming (a category, never raw text from outside).
    pub error: Option<String>,
    pub duration_ms: i64,
    pub response: String,
}

pub async fn log_attempt(conn: &mut Conn, delivery_id: i64, attempt: &Attempt) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error, duration_ms, response) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(delivery_id)
    .bind(attempt.attempted_at)
    .bind(attempt.status_code)
    .bind(attempt.error.as_deref())
    .bind(attempt.duration_ms)
    .bind(&attempt.response)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delivered(conn: &mut Conn, delivery_id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $1, last_error = NULL WHERE id = $2",
    )
    .bind(now)
    .bind(delivery_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A delivery with its attempts, as its endpoint's page and the API show it.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: i64,
    pub msg_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    pub log: Vec<Attempt>,
}

const DELIVERY: &str = "SELECT id, msg_id, event_type, status, attempts, next_attempt_at, created_at, delivered_at \
     FROM webhook_deliveries";

fn delivery(row: &AnyRow) -> Result<DeliveryRow, sqlx::Error> {
    Ok(DeliveryRow {
        id: row.try_get("id")?,
        msg_id: row.try_get("msg_id")?,
        event_type: row.try_get("event_type")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        created_at: row.try_get("created_at")?,
        delivered_at: row.try_get("delivered_at")?,
        log: Vec::new(),
    })
}

/// Fills in the attempts of `deliveries`, oldest first, in one query.
async fn with_log(conn: &mut Conn, mut deliveries: Vec<DeliveryRow>) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    if deliveries.is_empty() {
        return Ok(deliveries);
    }
    let list = (1..=deliveries.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT delivery_id, attempted_at, status_code, error, duration_ms, response FROM webhook_attempts \
         WHERE delivery_id IN ({list}) ORDER BY id"
    );
    let mut query = sqlx::query(&sql);
    for d in &deliveries {
        query = query.bind(d.id);
    }
    for row in query.fetch_all(conn).await? {
        let id: i64 = row.try_get("delivery_id")?;
        if let Some(d) = deliveries.iter_mut().find(|d| d.id == id) {
            d.log.push(Attempt {
                attempted_at: row.try_get("attempted_at")?,
                status_code: row.try_get("status_code")?,
                error: row.try_get("error")?,
                duration_ms: row.try_get("duration_ms")?,
                response: row.try_get("response")?,
            });
        }
    }
    Ok(deliveries)
}

/// One page of an endpoint's deliveries, newest first, each with its attempts.
pub async fn deliveries(conn: &mut Conn, endpoint_id: i64, slice: &Slice) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    let keyset = slice.keyset_sql("id", Order::Descending, 2);
    let rows = sqlx::query(&format!("{DELIVERY} WHERE endpoint_id = $1 AND {} {}", keyset.condition, keyset.order_by))
        .bind(endpoint_id)
        .bind(keyset.bound)
        .fetch_all(&mut *conn)
        .await?;
    let found = rows.iter().map(delivery).collect::<Result<Vec<_>, _>>()?;
    with_log(conn, found).await
}

/// Delivery `id` of endpoint `endpoint_id`, with its attempts.
pub async fn find_delivery(conn: &mut Conn, endpoint_id: i64, id: i64) -> Result<Option<DeliveryRow>, sqlx::Error> {
    let row = sqlx::query(&format!("{DELIVERY} WHERE endpoint_id = $1 AND id = $2"))
        .bind(endpoint_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(found) = row.as_ref().map(delivery).transpose()? else { return Ok(None) };
    Ok(with_log(conn, vec![found]).await?.pop())
}

/// Queues a delivery again, now, with a fresh retry schedule; `false` while it is being
/// delivered (an attempt is under way) or when there is no such delivery.
pub async fn redeliver(conn: &mut Conn, endpoint_id: i64, id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'queued', attempts = 0, next_attempt_at = $1, delivered_at = NULL \
         WHERE endpoint_id = $2 AND id = $3 AND status <> 'delivering'",
    )
    .bind(now)
    .bind(endpoint_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes attempts older than `before`, and finished deliveries made before it.
pub async fn prune(conn: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    let attempts =
        sqlx::query("DELETE FROM webhook_attempts WHERE attempted_at < $1").bind(before).execute(&mut *conn).await?;
    let deliveries =
        sqlx::query("DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed') AND created_at < $1")
            .bind(before)
            .execute(conn)
            .await?;
    Ok(attempts.rows_affected() + deliveries.rows_affected())
}
