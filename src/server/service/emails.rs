//! Email verification (SPEC §7): signed, expiring, single-use links.
//!
//! A link is `/auth/verify-email/{nonce}{signature}/`: a random 128-bit nonce (stored only
//! as a hash, with the user, the address and the expiry) followed by an HMAC-SHA256, keyed
//! with `APP_SECRET_KEY`, over the nonce, the user, the address and the expiry. A link is
//! accepted only with a valid signature, before its expiry, once, and only while the
//! account still has the address it was sent to.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::internal_errors;
use super::limits;
use super::problem::{Failure, Kind, Problem};
use crate::server::db::users::UserRow;
use crate::server::db::{self, email_verifications, users};
use crate::server::domain::invite::{hash_token, DAY_SECS};
use crate::server::state::AppState;

/// How long a verification link works.
pub const VALID_DAYS: i64 = 3;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("This verification link is not valid.")]
    Invalid,
    #[error("This verification link has expired; send a new one from your email settings.")]
    Expired,
    #[error("This verification link has already been used.")]
    AlreadyUsed,
    #[error("Your email address is already verified.")]
    AlreadyVerified,
    /// An address change whose new address another account took meanwhile (SPEC §4.7).
    #[error("{}", super::accounts::EMAIL_TAKEN)]
    EmailTaken,
    #[error("{0}")]
    RateLimited(super::limits::Limited),
    #[error(transparent)]
    Internal(anyhow::Error),
}
internal_errors!(VerifyError: sqlx::Error);
super::rate_limited_errors!(VerifyError);

impl Failure for VerifyError {
    fn problem(self) -> Problem {
        let sentence = self.to_string();
        match self {
            Self::Invalid => Problem::new(Kind::Refused, "invalid", sentence),
            Self::Expired => Problem::new(Kind::Refused, "expired", sentence),
            Self::AlreadyUsed => Problem::new(Kind::Refused, "already_used", sentence),
            Self::AlreadyVerified => Problem::new(Kind::Conflict, "already_verified", sentence),
            Self::EmailTaken => Problem::new(Kind::Conflict, "email_taken", sentence),
            Self::RateLimited(limited) => Problem::limited(limited),
            Self::Internal(err) => Problem::internal(err),
        }
    }
}

fn signature(key: &[u8], nonce: &str, user_id: i64, email: &str, expires_at: i64) -> Hmac<Sha256> {
    let mut mac = crate::server::domain::hmac_sha256(key);
    mac.update(format!("email-verification\n{nonce}\n{user_id}\n{email}\n{expires_at}").as_bytes());
    mac
}

/// Queues a verification email for the user's address, in the caller's transaction.
pub async fn queue(state: &AppState, conn: &mut db::Conn, user: &UserRow, now: i64) -> Result<(), sqlx::Error> {
    let link = new_link(state, conn, user.id, &user.email, email_verifications::VERIFY, now).await?;
    let mail = super::mails::verify_address(&user.name, &user.email, &link, VALID_DAYS);
    super::mails::queue(conn, &user.email, &mail, None, now).await?;
    Ok(())
}

/// Queues, in the caller's transaction, the link that moves `user` to `new_email` (mailed
/// to that address) and the notice to the current one (SPEC §4.7). A newer request
/// replaces an unconfirmed one.
pub async fn queue_change(
    state: &AppState,
    conn: &mut db::Conn,
    user: &UserRow,
    new_email: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    // One request at a time per user, so that the newest is the one left.
    users::lock(conn, state.db.kind(), user.id).await?;
    email_verifications::delete_unused_changes(conn, user.id).await?;
    let link = new_link(state, conn, user.id, new_email, email_verifications::CHANGE, now).await?;
    let mail = super::mails::confirm_new_address(&user.name, new_email, &link, VALID_DAYS);
    super::mails::queue(conn, new_email, &mail, None, now).await?;
    let settings = format!("{}/settings/account/", state.config.public_url());
    let notice = super::mails::address_change_asked(&user.name, new_email, &settings);
    super::mails::queue(conn, &user.email, &notice, None, now).await?;
    Ok(())
}

/// Stores a new link for `email` and returns its address.
async fn new_link(
    state: &AppState,
    conn: &mut db::Conn,
    user_id: i64,
    email: &str,
    purpose: &str,
    now: i64,
) -> Result<String, sqlx::Error> {
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let expires_at = now + VALID_DAYS * DAY_SECS;
    let sig = hex::encode(signature(&state.secret, &nonce, user_id, email, expires_at).finalize().into_bytes());
    email_verifications::insert(conn, &hash_token(&nonce), user_id, email, purpose, expires_at, now).await?;
    Ok(format!("{}/auth/verify-email/{nonce}{sig}/", state.config.public_url()))
}

/// Sends a new verification email on request (rate-limited).
pub async fn resend(state: &AppState, user: &UserRow) -> Result<(), VerifyError> {
    if user.email_verified {
        return Err(VerifyError::AlreadyVerified);
    }
    limits::VERIFY_EMAIL_USER.consume(state, &user.id.to_string()).await?;
    let mut tx = state.db.begin().await?;
    queue(state, &mut tx, user, db::now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Splits a link token into nonce and signature.
fn parse(token: &str) -> Option<(&str, Vec<u8>)> {
    if token.len() != 96 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let (nonce, sig) = token.split_at(32);
    Some((nonce, hex::decode(sig).ok()?))
}

/// The link's verification row, if the signature holds.
async fn signed_row(
    state: &AppState,
    conn: &mut db::Conn,
    token: &str,
) -> Result<(String, email_verifications::VerificationRow), VerifyError> {
    let token = token.to_ascii_lowercase();
    let (nonce, sig) = parse(&token).ok_or(VerifyError::Invalid)?;
    let nonce_hash = hash_token(nonce);
    let row = email_verifications::find(conn, &nonce_hash).await?.ok_or(VerifyError::Invalid)?;
    signature(&state.secret, nonce, row.user_id, &row.email, row.expires_at)
        .verify_slice(&sig)
        .map_err(|_| VerifyError::Invalid)?;
    Ok((nonce_hash, row))
}

/// What a link would verify (the confirmation page; changes nothing): the address.
pub async fn inspect(state: &AppState, token: &str) -> Result<String, VerifyError> {
    let (_, row) = signed_row(state, &mut *state.db.conn().await?, token).await?;
    if row.used_at.is_some() {
        return Err(VerifyError::AlreadyUsed);
    }
    if row.expires_at <= db::now() {
        return Err(VerifyError::Expired);
    }
    Ok(row.email)
}

/// Uses a link: marks the address verified. Returns the user.
#[tracing::instrument(skip_all)]
pub async fn verify(state: &AppState, token: &str) -> Result<UserRow, VerifyError> {
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let (nonce_hash, row) = signed_row(state, &mut tx, token).await?;
    if row.expires_at <= now {
        return Err(VerifyError::Expired);
    }
    if !email_verifications::mark_used(&mut tx, &nonce_hash, now).await? {
        return Err(VerifyError::AlreadyUsed);
    }
    let user = users::find_by_id(&mut tx, row.user_id).await?.ok_or(VerifyError::Invalid)?;
    if row.purpose == email_verifications::CHANGE {
        // An address change (SPEC §4.7): the account moves to the address the link was
        // sent to, unless another account has it by now (the unique index decides).
        return match users::change_email(&mut tx, user.id, &row.email).await {
            Ok(()) => {
                tx.commit().await?;
                tracing::info!(user_id = user.id, "email address changed");
                Ok(UserRow { email: row.email, email_verified: true, ..user })
            }
            Err(err) if db::is_unique_violation(&err) => Err(VerifyError::EmailTaken),
            Err(err) => Err(err.into()),
        };
    }
    if user.email != row.email {
        // The account's address changed since the link was sent.
        return Err(VerifyError::Invalid);
    }
    users::set_email_verified(&mut tx, user.id).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, "email verified");
    Ok(UserRow { email_verified: true, ..user })
}

/// After a verification by the signed-in user with an invite pending in the session:
/// accepts the invite when §5.3 now allows it. Returns the organization joined.
pub async fn accept_pending(
    state: &AppState,
    session: &tower_sessions::Session,
    user: &UserRow,
    ip: Option<&str>,
) -> Result<Option<crate::server::db::organizations::OrgRow>, VerifyError> {
    let signed_in =
        crate::server::auth::session::user_id(session).await.map_err(|e| VerifyError::Internal(e.into()))?;
    if signed_in != Some(user.id) {
        return Ok(None);
    }
    super::accept::accept_pending(state, session, ip).await.map_err(VerifyError::Internal)
}
