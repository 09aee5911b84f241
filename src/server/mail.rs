//! Outbound mail (SPEC §8): a transport (a folder of `.eml` files, or SMTP) and the worker
//! that delivers the mail outbox with retries and backoff.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::db::{self, outbox, Db};

/// Attempts before an email is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a claimed email is reserved for one worker.
const LEASE_SECS: i64 = 120;

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
            Ok(Self::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.timeout(Some(Duration::from_secs(20))).build(),
            ))
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

    /// Sends every due email once; returns how many were sent.
    pub async fn deliver_due(&self, db: &Db) -> Result<usize, sqlx::Error> {
        let now = db::now();
        let claimed = {
            let mut tx = db.begin().await?;
            let claimed = outbox::claim_mail(&mut tx, now, LEASE_SECS, 20).await?;
            tx.commit().await?;
            claimed
        };
        let mut sent = 0;
        for mail in claimed {
            let result = match self.build(&mail) {
                Ok(message) => self.transport.send(message).await,
                Err(err) => Err(err),
            };
            let mut conn = db.conn().await?;
            match result {
                Ok(()) => {
                    outbox::mail_sent(&mut conn, mail.id, db::now()).await?;
                    sent += 1;
                }
                Err(err) => {
                    let retry_at = (mail.attempts < MAX_ATTEMPTS).then(|| db::now() + backoff_secs(mail.attempts));
                    tracing::warn!(mail_id = mail.id, attempts = mail.attempts, error = %err, "mail delivery failed");
                    outbox::mail_failed(&mut conn, mail.id, &err, retry_at).await?;
                }
            }
        }
        Ok(sent)
    }

    /// Delivers the outbox until the process ends, polling twice a second.
    pub async fn run(self, db: Db, beat: crate::server::workers::Heartbeat) {
        loop {
            if let Err(err) = self.deliver_due(&db).await {
                tracing::error!(error = %err, "mail worker");
            }
            beat.round_done();
            tokio::time::sleep(Duration::from_millis(500)).await;
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
