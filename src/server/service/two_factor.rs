//! TOTP enrolment and the second login step (SPEC §6).

use tower_sessions::Session;

use super::accounts::{self, Signed};
use super::limits;
use super::problem::{Failure, Kind, Problem, INVALID};
use super::{accept, internal_errors};
use crate::server::auth::sealed::SealingKey;
use crate::server::auth::session::{self, PendingSecondFactor};
use crate::server::db::organizations::OrgRow;
use crate::server::db::users::UserRow;
use crate::server::db::{self, two_factor, users};
use crate::server::domain::totp::{self, TotpSecret};
use crate::server::domain::FieldErrors;
use crate::server::state::AppState;

/// The name authenticator apps show next to the account.
pub const ISSUER: &str = "Gatehouse";
/// The message for a wrong, stale or replayed code.
pub const BAD_CODE: &str =
    "That code is not valid. Enter the current code from your authenticator app, or a recovery code.";

#[derive(Debug, thiserror::Error)]
pub enum TwoFactorError {
    #[error("Two-factor authentication is already enabled for this account.")]
    AlreadyEnrolled,
    #[error("No sign-in is waiting for a second factor; sign in with your password first.")]
    NoPendingLogin,
    #[error("{}", INVALID)]
    Invalid(FieldErrors),
    #[error("{0}")]
    RateLimited(limits::Limited),
    #[error(transparent)]
    Internal(anyhow::Error),
}
internal_errors!(TwoFactorError: sqlx::Error, tower_sessions::session::Error);
super::rate_limited_errors!(TwoFactorError);

impl Failure for TwoFactorError {
    fn problem(self) -> Problem {
        let sentence = self.to_string();
        match self {
            Self::AlreadyEnrolled => Problem::new(Kind::Conflict, "already_enrolled", sentence),
            Self::NoPendingLogin => Problem::new(Kind::Refused, "no_pending_login", sentence),
            Self::Invalid(fields) => Problem::invalid(fields),
            Self::RateLimited(limited) => Problem::limited(limited),
            Self::Internal(err) => Problem::internal(err),
        }
    }
}

/// What the enrolment page shows: the secret as text, as an `otpauth://` URL and as a QR code.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret: String,
    pub otpauth_url: String,
    pub qr_svg: String,
}

/// The second-factor state of an account.
#[derive(Debug, Clone, Copy)]
pub struct Status {
    pub enrolled: bool,
    pub unused_recovery_codes: i64,
}

pub async fn status(state: &AppState, user: &UserRow) -> Result<Status, TwoFactorError> {
    let mut conn = state.db.conn().await?;
    Ok(Status {
        enrolled: two_factor::is_enrolled(&mut conn, user.id).await?,
        unused_recovery_codes: two_factor::unused_recovery_codes(&mut conn, user.id).await?,
    })
}

/// Starts (or shows again) an enrolment: a secret kept in the session until confirmed.
pub async fn start_enrolment(state: &AppState, session: &Session, user: &UserRow) -> Result<Enrolment, TwoFactorError> {
    if two_factor::is_enrolled(&mut *state.db.conn().await?, user.id).await? {
        return Err(TwoFactorError::AlreadyEnrolled);
    }
    let secret = match offered_secret(state, session, user).await? {
        Some(secret) => secret,
        None => {
            let secret = TotpSecret::generate();
            // Sealed in the session too: the store holds no usable secret (SPEC §6, §9.5).
            session::set_totp_enrolment(session, &SealingKey::totp(&state.secret).seal(user.id, &secret.base32()))
                .await?;
            secret
        }
    };
    let otpauth_url = secret.otpauth_url(ISSUER, &user.email);
    let qr_svg = totp::qr_svg(&otpauth_url).unwrap_or_default();
    Ok(Enrolment { secret: secret.base32(), otpauth_url, qr_svg })
}

/// A confirmed enrolment: the recovery codes (shown once) and, when an invite was pending
/// and could now be accepted, the organization joined.
#[derive(Debug)]
pub struct Enrolled {
    pub recovery_codes: Vec<String>,
    pub joined: Option<OrgRow>,
}

/// Confirms an enrolment with a current code. `secret` must be the one this session was
/// offered (an empty one means "the one offered").
pub async fn confirm_enrolment(
    state: &AppState,
    session: &Session,
    user: &UserRow,
    secret: &str,
    otp: &str,
    ip: Option<&str>,
) -> Result<Enrolled, TwoFactorError> {
    let offered_secret = offered_secret(state, session, user).await?;
    let presented = if secret.trim().is_empty() { offered_secret.clone() } else { TotpSecret::from_base32(secret) };
    let (Some(offered), Some(presented)) = (offered_secret, presented) else {
        return Err(TwoFactorError::Invalid(FieldErrors::single(
            "secret",
            "This enrolment has expired. Reload the page to get a new secret.",
        )));
    };
    if offered != presented {
        return Err(TwoFactorError::Invalid(FieldErrors::single(
            "secret",
            "This is not the secret this page offered. Reload the page.",
        )));
    }
    // Counted before the code is checked (SPEC §9.4); a right code gives its hit back.
    let taken = limits::TWO_FACTOR_ACCOUNT.consume(state, &user.id.to_string()).await?;
    let Some(step) = offered.matching_step(otp, db::now() as u64) else {
        return Err(TwoFactorError::Invalid(FieldErrors::single("otp", BAD_CODE)));
    };

    let (codes, hashes) = totp::new_recovery_codes(&state.secret, user.id);
    let mut tx = state.db.begin().await?;
    let sealed = SealingKey::totp(&state.secret).seal(user.id, &offered.base32());
    match two_factor::insert(&mut tx, user.id, &sealed, step as i64, db::now()).await {
        Ok(()) => {}
        Err(err) if db::is_unique_violation(&err) => return Err(TwoFactorError::AlreadyEnrolled),
        Err(err) => return Err(err.into()),
    }
    two_factor::replace_recovery_codes(&mut tx, user.id, &hashes).await?;
    tx.commit().await?;
    taken.give_back(state).await?;
    session::clear_totp_enrolment(session).await?;
    session::renew(session).await?;
    tracing::info!(user_id = user.id, "two-factor authentication enabled");

    // SPEC §6: an invite pending in the session is accepted now, when §5.3 allows.
    let joined = accept::accept_pending(state, session, ip).await.map_err(TwoFactorError::Internal)?;
    Ok(Enrolled { recovery_codes: codes, joined })
}

/// The secret this session's enrolment offered (kept sealed in the session).
async fn offered_secret(
    state: &AppState,
    session: &Session,
    user: &UserRow,
) -> Result<Option<TotpSecret>, TwoFactorError> {
    Ok(session::totp_enrolment(session).await?.and_then(|sealed| open_secret(state, user.id, &sealed)))
}

/// A stored TOTP secret, opened (SPEC §6: sealed at rest under `APP_SECRET_KEY`).
fn open_secret(state: &AppState, user_id: i64, sealed: &str) -> Option<TotpSecret> {
    let base32 = SealingKey::totp(&state.secret).open(user_id, sealed).ok()?;
    TotpSecret::from_base32(&base32)
}

/// Seals TOTP secrets stored in plain text by earlier versions (run at start; a no-op
/// once every row is sealed).
pub async fn seal_plain_secrets(state: &AppState) -> Result<u64, sqlx::Error> {
    let key = SealingKey::totp(&state.secret);
    let mut sealed = 0;
    let mut tx = state.db.begin().await?;
    for (user_id, plain) in two_factor::plain_secrets(&mut tx).await? {
        if !SealingKey::is_sealed(&plain) {
            two_factor::set_secret(&mut tx, user_id, &key.seal(user_id, &plain)).await?;
            sealed += 1;
        }
    }
    tx.commit().await?;
    Ok(sealed)
}

/// Whether a login is waiting for its second factor in this session.
pub async fn pending_login(session: &Session) -> Result<Option<PendingSecondFactor>, TwoFactorError> {
    Ok(session::pending_second_factor(session).await?)
}

/// The rate-limit key of the sign-in waiting in this session: a hash of the session id,
/// which `set_pending_second_factor` renews for each sign-in and which stays until the
/// second step is done (the id itself is a secret and stays out of the counters).
fn pending_sign_in_key(session: &Session) -> String {
    use sha2::{Digest, Sha256};
    let id = session.id().map(|id| id.to_string()).unwrap_or_default();
    hex::encode(&Sha256::digest(id.as_bytes())[..16])
}

/// The second login step: a current TOTP code (never one already used) or an unused
/// recovery code. Signs the user in. Attempts are counted before the code is checked, per
/// pending sign-in and per account (SPEC §9.4); a right code gives its hits back.
#[tracing::instrument(skip_all)]
pub async fn second_step(state: &AppState, session: &Session, otp: &str) -> Result<Signed, TwoFactorError> {
    let Some(pending) = session::pending_second_factor(session).await? else {
        return Err(TwoFactorError::NoPendingLogin);
    };
    let (sign_in, account) = (pending_sign_in_key(session), pending.user_id.to_string());
    let taken =
        limits::take(state, &[(&limits::TWO_FACTOR_PENDING, &sign_in), (&limits::TWO_FACTOR_ACCOUNT, &account)])
            .await?;
    let mut tx = state.db.begin().await?;
    let user = users::find_by_id(&mut tx, pending.user_id).await?.filter(|u| u.is_active);
    let Some(user) = user else {
        session::clear_pending_second_factor(session).await?;
        return Err(TwoFactorError::NoPendingLogin);
    };
    let accepted = if totp::looks_like_code(otp) {
        match two_factor::find(&mut tx, user.id).await? {
            Some((sealed, _)) => {
                match open_secret(state, user.id, &sealed).and_then(|s| s.matching_step(otp, db::now() as u64)) {
                    Some(step) => two_factor::use_step(&mut tx, user.id, step as i64).await?,
                    None => false,
                }
            }
            None => false,
        }
    } else {
        match totp::hash_recovery_code(&state.secret, user.id, otp) {
            Some(hash) => two_factor::use_recovery_code(&mut tx, user.id, &hash, db::now()).await?,
            None => false,
        }
    };
    tx.commit().await?;
    if !accepted {
        // The failure stays counted.
        tracing::info!(user_id = user.id, "second factor refused");
        return Err(TwoFactorError::Invalid(FieldErrors::single("otp", BAD_CODE)));
    }
    session::clear_pending_second_factor(session).await?;
    session::sign_in(session, user.id, session::SignIn::SecondFactor).await?;
    taken.give_back(state).await?;
    tracing::info!(user_id = user.id, "user signed in with a second factor");
    let redirect_to = accounts::after_sign_in(state, session, &user, pending.next.as_deref())
        .await
        .map_err(TwoFactorError::Internal)?;
    Ok(Signed { user, redirect_to, second_factor_required: false })
}
