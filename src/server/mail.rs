//! Outbound mail (SPEC §8): a transport (a folder of `.eml` files, or SMTP) and the worker
//! that delivers the mail outbox with retries and backoff.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::db::{self, outbox, Db};
use super::{metrics, workers};

/// Attempts before an email is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;
/// How many emails one round claims and sends concurrently. All of a round's sends run at
/// once, so a round lasts at most one SMTP timeout ([`SMTP_TIMEOUT`]).
const BATCH: i64 = 32;
/// The SMTP transport gives up on a message after this long.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a claimed email is reserved for one worker: longer than a round can last, so
/// another instance never sends it too while this one is still trying.
const LEASE_SECS: i64 = 120;
const _: () = assert!(LEASE_SECS as u64 > 2 * SMTP_TIMEOUT.as_secs());
/// How often the worker looks for due emails when nothing wakes it.
pub const POLL: Duration = Duration::from_millis(500);

/// Where mail goes.
#[derive(Clone)]
pub enum Transport {
    /// One `.eml` file per message in a folder (local use and tests).
    Files(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Files(dir) => write!(f, "Files({})", dir.display()),
            Self::Smtp(_) => f.write_str("Smtp"),
        }
    }
}

impl Transport {
    /// `file:///dir`, `smtp://user:pass@host:port` or `smtps://…` (implicit TLS).
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if let Some(path) = url.strip_prefix("file://") {
            let dir = PathBuf::from(path);
            std::fs::create_dir_all(&dir)?;
            Ok(Self::Files(dir))
        } else if url.starts_with("smtp://") || url.starts_with("smtps://") {
            Ok(Self::Smtp(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.timeout(Some(SMTP_TIMEOUT)).build()))
        } else {
            anyhow::bail!("APP_MAIL_URL must start with file://, smtp:// or smtps://")
        }
    }

    pub async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Self::Files(dir) => AsyncFileTransport::<Tokio1Executor>::new(dir)
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Self::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// The mail worker: a transport and the sender address.
#[derive(Clone, Debug)]
pub struct Mailer {
    pub transport: Transport,
    pub from: Mailbox,
}

/// The delay before attempt `attempts + 1`: 10 s, 20 s, 40 s … capped at one hour.
pub fn backoff_secs(attempts: i64) -> i64 {
    (10i64 << attempts.clamp(0, 12).saturating_sub(1)).min(3600)
}

impl Mailer {
    /// A message: plain text, or plain text and HTML as alternatives (text first, so that
    /// a reader without HTML sees it).
    fn build(&self, mail: &outbox::MailRow) -> Result<Message, String> {
        let to: Mailbox = mail.to_addr.parse().map_err(|e| format!("bad recipient: {e}"))?;
        let message = Message::builder().from(self.from.clone()).to(to).subject(&mail.subject);
        match &mail.html {
            Some(html) => message.multipart(MultiPart::alternative_plain_html(mail.body.clone(), html.clone())),
            None => message.header(ContentType::TEXT_PLAIN).body(mail.body.clone()),
        }
        .map_err(|e| e.to_string())
    }

    async fn send(&self, mail: &outbox::MailRow) -> Result<(), String> {
        self.transport.send(self.build(mail)?).await
    }

    /// Claims up to [`BATCH`] due emails and sends them (over SMTP concurrently); returns
    /// how many were claimed (a full batch means more may be waiting).
    pub async fn deliver_due(&self, db: &Db) -> Result<usize, sqlx::Error> {
        if !outbox::mail_due(&mut *db.conn().await?, db::now()).await? {
            return Ok(0);
        }
        let claimed = {
            let mut tx = db.begin().await?;
            let claimed = outbox::claim_mail(&mut tx, db::now(), LEASE_SECS, BATCH).await?;
            tx.commit().await?;
            claimed
        };
        let count = claimed.len();
        let mut outcomes = Vec::with_capacity(count);
        match self.transport {
            // Writing a file takes microseconds: in order, so the files' times follow
            // the queue.
            Transport::Files(_) => {
                for mail in claimed {
                    let result = self.send(&mail).await;
                    outcomes.push((mail, result));
                }
            }
            // A mail server answers in milliseconds to seconds: the whole batch at once.
            Transport::Smtp(_) => {
                let mut sending = tokio::task::JoinSet::new();
                for mail in claimed {
                    let mailer = self.clone();
                    sending.spawn(async move {
                        let result = mailer.send(&mail).await;
                        (mail, result)
                    });
                }
                while let Some(done) = sending.join_next().await {
                    match done {
                        Ok(outcome) => outcomes.push(outcome),
                        // A panicking send leaves its email leased: due again when the
                        // lease ends.
                        Err(err) => tracing::error!(error = %err, "mail send task failed"),
                    }
                }
            }
        }
        let mut sent = Vec::with_capacity(count);
        let mut failures = Vec::new();
        for (mail, result) in outcomes {
            match result {
                Ok(()) => sent.push(mail.id),
                Err(err) => failures.push((mail, err)),
            }
        }
        let mut conn = db.conn().await?;
        outbox::mails_sent(&mut conn, &sent, db::now()).await?;
        metrics::delivered("mail", "sent", sent.len());
        metrics::delivered("mail", "failed", failures.len());
        for (mail, err) in failures {
            let retry_at = (mail.attempts < MAX_ATTEMPTS).then(|| db::now() + backoff_secs(mail.attempts));
            tracing::warn!(mail_id = mail.id, attempts = mail.attempts, error = %err, "mail delivery failed");
            outbox::mail_failed(&mut conn, mail.id, &err, retry_at).await?;
        }
        Ok(count)
    }

    /// Delivers the outbox until the process ends: again at once after a full batch,
    /// else when woken ([`Db::outbox_wake`]) or after [`POLL`].
    pub async fn run(self, db: Db, beat: workers::Heartbeat) {
        loop {
            let seen = db.outbox_wake().generation();
            let full = match self.deliver_due(&db).await {
                Ok(claimed) => claimed as i64 == BATCH,
                Err(err) => {
                    tracing::error!(error = %err, "mail worker");
                    false
                }
            };
            beat.round_done();
            if !full {
                db.outbox_wake().wait(seen, POLL).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_secs;

    #[test]
    fn backoff_doubles_and_is_capped_at_an_hour() {
        assert_eq!(backoff_secs(1), 10);
        assert_eq!(backoff_secs(2), 20);
        assert_eq!(backoff_secs(3), 40);
        assert_eq!(backoff_secs(20), 3600);
    }
}
