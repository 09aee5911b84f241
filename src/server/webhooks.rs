//! Webhook delivery (SPEC §8, following the Standard Webhooks specification).
//!
//! - [`fan_out`] is the webhooks' in-process subscriber: for an event taken from the event
//!   outbox it queues one delivery per enabled endpoint that asked for its type, with the
//!   body fixed once (the envelope) and a `msg_…` id that every retry and redelivery keeps.
//!   An event handed over twice queues nothing new (one delivery per endpoint and event).
//! - [`run`] is the delivery worker: it claims due deliveries with a lease (the outbox's
//!   claim, so two instances never send one at once) and sends them concurrently through
//!   the outbound guard (§9.9), each within [`rules::TIMEOUT`]. Only a 2xx answer is a
//!   success; `410 Gone` disables the endpoint; other failures are retried on the
//!   configured schedule; an endpoint failing for five days is disabled and its owners are
//!   mailed. Every attempt is logged (status or category, duration, the answer's first
//!   KiB) and kept [`rules::KEEP_SECS`].

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::task::JoinSet;

use super::auth::sealed::SealingKey;
use super::db::outbox::{self, EventRow, WebhookRow};
use super::db::webhooks::{self as store, Attempt, EndpointRow, NewDelivery};
use super::db::{self, audit, members, organizations, users, Db};
use super::domain::webhook::{self as rules, signature_header, DisabledReason, WebhookSecret};
use super::outbound::{Outbound, OutboundError};
use super::service::{mails, webhooks::signing_secrets};
use super::state::AppState;
use super::{metrics, workers};

/// How long a claimed delivery is held: more than two attempts' time limit, so a slow
/// receiver never makes another instance send it again meanwhile.
const LEASE_SECS: i64 = 60;
const _: () = assert!(LEASE_SECS as u64 > 2 * rules::TIMEOUT.as_secs());
/// How many deliveries one round claims, and sends at once.
const BATCH: i64 = 32;
/// How often old attempts and finished deliveries are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Queues the deliveries of `event` (see the module's documentation).
pub async fn fan_out(db: &Db, event: &EventRow) -> Result<(), sqlx::Error> {
    let mut conn = db.conn().await?;
    let endpoints = store::subscribed(&mut conn, event.organization_id, &event.event).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let body = envelope(&mut conn, event).await?.to_string();
    drop(conn);
    let now = db::now();
    let mut tx = db.begin().await?;
    for endpoint_id in endpoints {
        let msg_id = rules::message_id();
        let new = NewDelivery {
            endpoint_id,
            event_id: event.id,
            msg_id: &msg_id,
            event_type: &event.event,
            body: &body,
            now,
        };
        store::queue(&mut tx, new).await?;
    }
    tx.commit().await
}

/// The body of an event's deliveries: `{"type", "timestamp", "data": {"organization",
/// "member", "actor"}}`. The member is the member JSON of SPEC §3 as the database holds it
/// when the event is handed over (within moments of the change); a member row that is
/// gone (removed, left, a revoked or declined invite) is described by what the event
/// recorded.
async fn envelope(conn: &mut db::Conn, event: &EventRow) -> Result<Value, sqlx::Error> {
    let p = &event.payload;
    let org = organizations::find_by_id(conn, event.organization_id).await?;
    let member = match p["memberId"].as_i64() {
        Some(id) => match crate::server::service::organizations::member_now(conn, event.organization_id, id).await? {
            Some(entry) => crate::server::http::json::member(&entry),
            None => json!({
                "id": id,
                "email": p["email"],
                "user": p["userId"].as_i64().map(|u| json!({"id": u.to_string()})),
                "role": p["role"],
            }),
        },
        None => Value::Null,
    };
    // Who made the change: the acting admin, the requester, else the member themself
    // (joining, leaving, declining).
    let actor_id = ["actorId", "requesterId", "userId"].iter().find_map(|k| p[*k].as_i64());
    let actor = match actor_id {
        Some(id) => users::find_by_id(conn, id)
            .await?
            .map_or(Value::Null, |u| json!({"id": u.id.to_string(), "email": u.email, "name": u.name})),
        None => Value::Null,
    };
    Ok(json!({
        "type": event.event,
        "timestamp": crate::server::http::json::rfc3339(event.created_at),
        "data": {
            "organization": org.map(|o| json!({"id": o.id.to_string(), "slug": o.slug, "name": o.name})),
            "member": member,
            "actor": actor,
        },
    }))
}

/// What one attempt came to.
struct Outcome {
    status: Option<u16>,
    error: Option<&'static str>,
    response: String,
}

/// The delivery worker's means: the guarded HTTP client and the key that opens secrets.
#[derive(Clone)]
struct Sender {
    state: AppState,
    http: Outbound,
    key: SealingKey,
}

impl Sender {
    /// Sends one delivery and records what came of it.
    async fn attempt(&self, delivery: WebhookRow) -> Result<(), sqlx::Error> {
        let endpoint = store::find_by_id(&mut *self.state.db.conn().await?, delivery.endpoint_id).await?;
        let Some(endpoint) = endpoint.filter(|e| e.enabled) else {
            // Disabled since it was queued: it stops here, and can be redelivered by hand.
            let mut conn = self.state.db.conn().await?;
            return outbox::webhook_failed(&mut conn, delivery.id, "endpoint disabled", None).await;
        };
        let now = db::now();
        let started = Instant::now();
        let outcome = match signing_secrets(&self.key, &endpoint, now) {
            Ok(secrets) => self.send(&endpoint, &delivery, &secrets, now).await,
            Err(err) => {
                tracing::error!(webhook = endpoint.id, error = %err, "webhook secret");
                Outcome { status: None, error: Some("secret unreadable"), response: String::new() }
            }
        };
        let attempt = Attempt {
            attempted_at: now,
            status_code: outcome.status.map(i64::from),
            error: outcome.error.map(str::to_owned),
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            response: outcome.response,
        };
        self.record(&endpoint, &delivery, &attempt).await
    }

    async fn send(
        &self,
        endpoint: &EndpointRow,
        delivery: &WebhookRow,
        secrets: &[WebhookSecret],
        now: i64,
    ) -> Outcome {
        let failed = |error| Outcome { status: None, error: Some(error), response: String::new() };
        let Ok(url) = reqwest::Url::parse(&endpoint.url) else { return failed("not allowed") };
        let body = delivery.body.as_bytes();
        let signature = signature_header(&secrets.iter().collect::<Vec<_>>(), &delivery.msg_id, now, body);
        let mut request = reqwest::Request::new(reqwest::Method::POST, url);
        let headers = request.headers_mut();
        for (name, value) in [
            ("content-type", "application/json".to_owned()),
            ("user-agent", "Gatehouse-Webhooks/1".to_owned()),
            ("webhook-id", delivery.msg_id.clone()),
            ("webhook-timestamp", now.to_string()),
            ("webhook-signature", signature),
        ] {
            if let Ok(value) = reqwest::header::HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        *request.body_mut() = Some(delivery.body.clone().into());
        match self.http.send(request).await {
            Ok(mut response) => {
                let status = response.status().as_u16();
                // Only the start of the answer is kept; the rest is not read.
                let mut start = Vec::new();
                while start.len() < rules::ANSWER_KEPT {
                    match response.chunk().await {
                        Ok(Some(chunk)) => start.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                Outcome { status: Some(status), error: None, response: rules::answer_start(&start) }
            }
            Err(OutboundError::Http(err)) if err.is_timeout() => failed("timed out"),
            Err(err) => {
                tracing::info!(webhook = endpoint.id, error = %err, "webhook attempt failed");
                failed(err.category().as_str())
            }
        }
    }

    /// Logs the attempt and moves the delivery (and, on failure, its endpoint) on, in one
    /// transaction.
    async fn record(
        &self,
        endpoint: &EndpointRow,
        delivery: &WebhookRow,
        attempt: &Attempt,
    ) -> Result<(), sqlx::Error> {
        let now = attempt.attempted_at;
        let mut tx = self.state.db.begin().await?;
        store::log_attempt(&mut tx, delivery.id, attempt).await?;
        let status = attempt.status_code.unwrap_or(0);
        let outcome = if (200..300).contains(&status) {
            store::delivered(&mut tx, delivery.id, now).await?;
            store::succeeded(&mut tx, endpoint.id).await?;
            "delivered"
        } else if status == 410 {
            outbox::webhook_failed(&mut tx, delivery.id, "410 Gone", None).await?;
            self.disable(&mut tx, endpoint, DisabledReason::Gone, now).await?;
            "failed"
        } else {
            let error = attempt.error.clone().unwrap_or_else(|| format!("HTTP {status}"));
            let since = store::failing(&mut tx, endpoint.id, now).await?;
            let mut retry_at = self.state.config.webhook_retry_schedule.after(delivery.attempts).map(|s| now + s);
            if now - since >= rules::DISABLE_AFTER_FAILING_SECS {
                self.disable(&mut tx, endpoint, DisabledReason::Failing, now).await?;
                retry_at = None;
            }
            outbox::webhook_failed(&mut tx, delivery.id, &error, retry_at).await?;
            if retry_at.is_some() {
                "retry"
            } else {
                "failed"
            }
        };
        tx.commit().await?;
        metrics::delivered("webhooks", outcome, 1);
        Ok(())
    }

    /// Turns the endpoint off for `reason`, audits it and mails the owners (once: a
    /// parallel attempt that finds it already off does nothing).
    async fn disable(
        &self,
        conn: &mut db::Conn,
        endpoint: &EndpointRow,
        reason: DisabledReason,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        if !store::disable(conn, endpoint.id, reason, now).await? {
            return Ok(());
        }
        tracing::warn!(webhook = endpoint.id, reason = reason.as_str(), "webhook endpoint disabled");
        let data = json!({"webhook": endpoint.id, "url": endpoint.url, "reason": reason.as_str()});
        let entry = audit::NewEntry::about_org(endpoint.organization_id, None, "webhook.disable", data, now);
        audit::insert(conn, entry).await?;
        let Some(org) = organizations::find_by_id(conn, endpoint.organization_id).await? else { return Ok(()) };
        let why = match reason {
            DisabledReason::Gone => "it answered 410 Gone, which says the endpoint no longer exists.",
            DisabledReason::Failing => "every delivery to it has failed for five days.",
        };
        let page = format!("{}/organizations/{}/settings/webhooks/", self.state.config.public_url(), org.slug);
        let mail = mails::webhook_disabled(&org.name, &endpoint.url, why, &page);
        for owner in members::owner_emails(conn, org.id).await? {
            mails::queue(conn, &owner, &mail, None, now).await?;
        }
        Ok(())
    }

    /// Claims up to [`BATCH`] due deliveries and sends them at once; returns how many.
    async fn deliver_due(&self) -> Result<usize, sqlx::Error> {
        let db = &self.state.db;
        if !outbox::webhooks_due(&mut *db.conn().await?, db::now()).await? {
            return Ok(0);
        }
        let claimed = {
            let mut tx = db.begin().await?;
            let claimed = outbox::claim_webhooks(&mut tx, db::now(), LEASE_SECS, BATCH).await?;
            tx.commit().await?;
            claimed
        };
        let count = claimed.len();
        let mut sending = JoinSet::new();
        for delivery in claimed {
            let sender = self.clone();
            sending.spawn(async move {
                let id = delivery.id;
                (id, sender.attempt(delivery).await)
            });
        }
        while let Some(done) = sending.join_next().await {
            match done {
                Ok((_, Ok(()))) => {}
                // Left in flight: due again when its lease runs out.
                Ok((id, Err(err))) => tracing::error!(delivery = id, error = %err, "webhook delivery"),
                Err(err) => tracing::error!(error = %err, "webhook delivery task"),
            }
        }
        Ok(count)
    }
}

/// Delivers webhooks until the process ends: again at once after a full batch, else when
/// woken ([`Db::outbox_wake`]) or after [`crate::server::mail::POLL`].
pub async fn run(state: AppState, beat: workers::Heartbeat) {
    let http = match Outbound::new(state.config.outbound_allowlist.clone(), rules::TIMEOUT, 0) {
        Ok(http) => http,
        Err(err) => {
            tracing::error!(error = %err, "webhook HTTP client");
            return;
        }
    };
    let sender = Sender { key: SealingKey::webhooks(&state.secret), http, state };
    let mut pruned: Option<Instant> = None;
    loop {
        let db = &sender.state.db;
        if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            pruned = Some(Instant::now());
            match db.single_write().await {
                Ok(mut conn) => {
                    if let Err(err) = store::prune(&mut conn, db::now() - rules::KEEP_SECS).await {
                        tracing::warn!(error = %err, "could not delete old webhook attempts");
                    }
                }
                Err(err) => tracing::warn!(error = %err, "could not delete old webhook attempts"),
            }
        }
        let seen = db.outbox_wake().generation();
        let full = match sender.deliver_due().await {
            Ok(claimed) => claimed as i64 == BATCH,
            Err(err) => {
                tracing::error!(error = %err, "webhook worker");
                false
            }
        };
        beat.round_done();
        if !full {
            db.outbox_wake().wait(seen, crate::server::mail::POLL).await;
        }
    }
}
