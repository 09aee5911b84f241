//! Domain events (SPEC §8): delivered from the event outbox to in-process subscribers,
//! at least once, with retries.

use std::time::Duration;

use super::db::{self, organizations, outbox, Db};

const LEASE_SECS: i64 = 60;
const MAX_ATTEMPTS: i64 = 10;

/// The in-process subscribers. Each must be idempotent: an event may come twice.
async fn dispatch(db: &Db, event: &outbox::EventRow) -> Result<(), sqlx::Error> {
    match event.event.as_str() {
        // The getting-started checklist: "Invite your team" is done once an invitee joins.
        "member.joined" if event.payload["viaInvite"] == true => {
            let mut conn = db.conn().await?;
            organizations::mark_first_invitee_joined(&mut conn, event.organization_id, db::now()).await
        }
        _ => Ok(()),
    }
}

/// Delivers every due event once; returns how many were delivered.
pub async fn deliver_due(db: &Db) -> Result<usize, sqlx::Error> {
    let claimed = {
        let mut tx = db.begin().await?;
        let claimed = outbox::claim_events(&mut tx, db::now(), LEASE_SECS, 50).await?;
        tx.commit().await?;
        claimed
    };
    let mut delivered = 0;
    for event in claimed {
        let result = dispatch(db, &event).await;
        let mut conn = db.conn().await?;
        match result {
            Ok(()) => {
                outbox::event_delivered(&mut conn, event.id, db::now()).await?;
                delivered += 1;
            }
            Err(err) => {
                let retry_at = (event.attempts < MAX_ATTEMPTS)
                    .then(|| db::now() + crate::server::mail::backoff_secs(event.attempts));
                tracing::warn!(event_id = event.id, error = %err, "event delivery failed");
                outbox::event_failed(&mut conn, event.id, &err.to_string(), retry_at).await?;
            }
        }
    }
    Ok(delivered)
}

/// Delivers events until the process ends.
pub async fn run(db: Db, beat: crate::server::workers::Heartbeat) {
    loop {
        if let Err(err) = deliver_due(&db).await {
            tracing::error!(error = %err, "event worker");
        }
        beat.round_done();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
