//! Domain events (SPEC §8): delivered from the event outbox to in-process subscribers (the
//! getting-started checklist, the webhooks' fan-out), at least once, with retries.

use super::db::{self, organizations, outbox, Db};
use super::{metrics, workers};

const LEASE_SECS: i64 = 60;
const MAX_ATTEMPTS: i64 = 10;
/// How many events one round claims.
const BATCH: i64 = 50;

/// The in-process subscribers, in one place. Each must be idempotent: an event may come
/// twice.
async fn dispatch(db: &Db, event: &outbox::EventRow) -> Result<(), sqlx::Error> {
    checklist(db, event).await?;
    super::webhooks::fan_out(db, event).await
}

/// The getting-started checklist: "Invite your team" is done once an invitee joins.
async fn checklist(db: &Db, event: &outbox::EventRow) -> Result<(), sqlx::Error> {
    if event.event == "member.joined" && event.payload["viaInvite"] == true {
        let mut conn = db.conn().await?;
        organizations::mark_first_invitee_joined(&mut conn, event.organization_id, db::now()).await?;
    }
    Ok(())
}

/// Delivers up to [`BATCH`] due events once; returns how many were claimed (a full batch
/// means more may be waiting).
pub async fn deliver_due(db: &Db) -> Result<usize, sqlx::Error> {
    if !outbox::events_due(&mut *db.conn().await?, db::now()).await? {
        return Ok(0);
    }
    let claimed = {
        let mut tx = db.begin().await?;
        let claimed = outbox::claim_events(&mut tx, db::now(), LEASE_SECS, BATCH).await?;
        tx.commit().await?;
        claimed
    };
    let count = claimed.len();
    for event in claimed {
        let result = dispatch(db, &event).await;
        let mut conn = db.conn().await?;
        match result {
            Ok(()) => {
                outbox::event_delivered(&mut conn, event.id, db::now()).await?;
                metrics::delivered("events", "delivered", 1);
            }
            Err(err) => {
                let retry_at = (event.attempts < MAX_ATTEMPTS)
                    .then(|| db::now() + crate::server::mail::backoff_secs(event.attempts));
                tracing::warn!(event_id = event.id, error = %err, "event delivery failed");
                outbox::event_failed(&mut conn, event.id, &err.to_string(), retry_at).await?;
                metrics::delivered("events", "failed", 1);
            }
        }
    }
    Ok(count)
}

/// Delivers events until the process ends: again at once after a full batch, else when
/// woken ([`Db::outbox_wake`]) or after [`crate::server::mail::POLL`].
pub async fn run(db: Db, beat: workers::Heartbeat) {
    loop {
        let seen = db.outbox_wake().generation();
        let full = match deliver_due(&db).await {
            Ok(claimed) => claimed as i64 == BATCH,
            Err(err) => {
                tracing::error!(error = %err, "event worker");
                false
            }
        };
        beat.round_done();
        if !full {
            db.outbox_wake().wait(seen, crate::server::mail::POLL).await;
        }
    }
}
