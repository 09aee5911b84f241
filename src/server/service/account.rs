//! Account self-service (SPEC §4.5–§4.7, §6): a forgotten password, a changed password,
//! name or address, the signed-in sessions, the second factor's later life, and leaving
//! for good. Every sensitive change asks for the current password first
//! (`accounts::reauthenticate`, counted against the sign-in limits).

use sha2::{Digest, Sha256};
use tower_sessions::Session;

use super::accounts::{self, ReauthError, Signed, EMAIL_TAKEN};
use super::limits::{self, Limited};
use super::problem::{Failure, Kind, Problem, BUSY, INVALID};
use super::{emails, internal_errors, mails};
use crate::server::auth::password::{HashError, PasswordHash};
use crate::server::auth::session;
use crate::server::db::users::UserRow;
use crate::server::db::{self, audit, members, organizations, password_resets, sessions, two_factor, users};
use crate::server::domain::invite::hash_token;
use crate::server::domain::sessions::{is_over, public_id, Device};
use crate::server::domain::{totp, DisplayName, EmailAddress, FieldErrors, Password, PasswordPolicy};
use crate::server::state::AppState;

/// How long a reset link works (SPEC §4.5).
pub const RESET_VALID_SECS: i64 = 3600;
/// The longest pause before a reset request's link is written (see `request_reset`).
const RESET_JITTER_MS: u64 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{}", INVALID)]
    Invalid(FieldErrors),
    /// The current password was wrong, missing or could not be checked.
    #[error(transparent)]
    Reauth(ReauthError),
    #[error("This password reset link is not valid. Ask for a new one.")]
    LinkInvalid,
    #[error("This password reset link has already been used. Ask for a new one if you need to.")]
    LinkUsed,
    #[error(
        "This password reset link no longer works: the password was changed after it was sent. Ask for a new one."
    )]
    LinkStale,
    #[error("This password reset link has expired (links work for one hour). Ask for a new one.")]
    LinkExpired,
    #[error("There is no such session.")]
    NoSuchSession,
    #[error("Two-factor authentication is not enabled for this account.")]
    NotEnrolled,
    #[error("{0} requires two-factor authentication; leave it before turning two-factor authentication off.")]
    OrgRequires2fa(String),
    #[error("You are the only owner of {0}, which has other members. Make another member an owner first.")]
    SoleOwner(String),
    #[error("{0}")]
    RateLimited(Limited),
    #[error("{}", BUSY)]
    Busy,
    #[error(transparent)]
    Internal(anyhow::Error),
}
internal_errors!(AccountError: sqlx::Error, tower_sessions::session::Error);
super::rate_limited_errors!(AccountError);

impl Failure for AccountError {
    fn problem(self) -> Problem {
        let sentence = self.to_string();
        match self {
            Self::Invalid(fields) => Problem::invalid(fields),
            Self::Reauth(err) => err.problem(),
            Self::LinkInvalid | Self::LinkUsed | Self::LinkStale => Problem::new(Kind::Refused, "invalid", sentence),
            Self::LinkExpired => Problem::new(Kind::Refused, "expired", sentence),
            Self::NoSuchSession => Problem::new(Kind::NotFound, "not_found", sentence),
            Self::NotEnrolled => Problem::new(Kind::Conflict, "not_enrolled", sentence),
            Self::OrgRequires2fa(_) => Problem::new(Kind::Conflict, "org_requires_2fa", sentence),
            Self::SoleOwner(_) => Problem::new(Kind::Conflict, "sole_owner", sentence),
            Self::RateLimited(limited) => Problem::limited(limited),
            Self::Busy => Problem::busy(),
            Self::Internal(err) => Problem::internal(err),
        }
    }
}

impl From<ReauthError> for AccountError {
    fn from(err: ReauthError) -> Self {
        Self::Reauth(err)
    }
}

impl From<HashError> for AccountError {
    #[track_caller]
    fn from(err: HashError) -> Self {
        match err {
            HashError::Busy => Self::Busy,
            other => Self::Internal(super::failed_at(other.into())),
        }
    }
}

/// The digest of a password hash a reset link is bound to: a link dies when the password
/// it was issued under changes (SPEC §4.5). An account without a password has one too.
fn password_stamp(hash: Option<&PasswordHash>) -> String {
    let phc = hash.map_or("", PasswordHash::as_phc);
    hex::encode(Sha256::digest(format!("password-stamp\n{phc}").as_bytes()))
}

/// Checks a new password for `user` under every rule of SPEC §4.2, the breached check
/// included; errors under `field`.
async fn check_new_password(
    state: &AppState,
    field: &str,
    password: &Password,
    email: &str,
) -> Result<(), AccountError> {
    let mut errors = FieldErrors::new();
    let email = EmailAddress::parse(email).ok();
    errors.check(field, PasswordPolicy.check(password, email.as_ref()));
    if errors.is_empty() {
        if let Some(message) = accounts::breached(state, password).await {
            errors.add(field, message);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AccountError::Invalid(errors))
    }
}

// ---------------------------------------------------------------------------------------
// Password reset (SPEC §4.5)

/// Asks for a reset link for `email`. The answer and its time are the same whether or not
/// the address has an account: both count against the limits (per address, per client),
/// and the link of an existing, active account is written and mailed after the answer,
/// off the request, after a random pause of up to a second.
#[tracing::instrument(skip_all)]
pub async fn request_reset(state: &AppState, email: &str, ip: Option<&str>) -> Result<(), AccountError> {
    let mut errors = FieldErrors::new();
    let Some(email) = errors.check("email", EmailAddress::parse(email)) else {
        return Err(AccountError::Invalid(errors));
    };
    let mut hits = vec![(&limits::RESET_ADDRESS, email.as_str())];
    if let Some(ip) = ip {
        hits.push((&limits::RESET_IP, ip));
    }
    limits::take(state, &hits).await?;
    let state = state.clone();
    tokio::spawn(async move {
        // After a random pause: the work done only for an existing account (the link, the
        // mail and its delivery) must not slow the requests that come right after this
        // one in a way that tells the two apart.
        tokio::time::sleep(std::time::Duration::from_millis(rand::random::<u64>() % RESET_JITTER_MS)).await;
        if let Err(err) = mail_reset_link(&state, email.as_str()).await {
            tracing::error!(error = format!("{err:#}"), "password reset link not written");
        }
    });
    Ok(())
}

/// Writes and mails a reset link when `email` has an active account.
async fn mail_reset_link(state: &AppState, email: &str) -> anyhow::Result<()> {
    let now = db::now();
    let mut tx = state.db.begin().await?;
    // Housekeeping: links expired for a day are of no use to anyone.
    password_resets::delete_expired(&mut tx, now - 86_400).await?;
    let Some(user) = users::find_by_email(&mut tx, email).await?.filter(|u| u.is_active) else {
        tx.commit().await?;
        return Ok(());
    };
    let token = hex::encode(rand::random::<[u8; 32]>());
    let stamp = password_stamp(user.password_hash.as_ref());
    password_resets::insert(&mut tx, &hash_token(&token), user.id, &stamp, now + RESET_VALID_SECS, now).await?;
    let link = format!("{}/account/recover/confirm/{}/{token}/", state.config.public_url(), user.id);
    mails::queue(&mut tx, &user.email, &mails::reset_password(&user.name, &link), None, now).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, "password reset link mailed");
    Ok(())
}

/// The account a reset link is for, when the link can still be used (the confirmation page
/// shows its form only then; opening it changes nothing).
pub async fn check_reset_link(state: &AppState, user_id: i64, token: &str) -> Result<UserRow, AccountError> {
    let mut conn = state.db.conn().await?;
    let (user, _) = usable_reset_link(&mut conn, user_id, token, db::now()).await?;
    Ok(user)
}

async fn usable_reset_link(
    conn: &mut db::Conn,
    user_id: i64,
    token: &str,
    now: i64,
) -> Result<(UserRow, String), AccountError> {
    let token = token.to_ascii_lowercase();
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AccountError::LinkInvalid);
    }
    let token_hash = hash_token(&token);
    let row = password_resets::find(conn, &token_hash).await?.ok_or(AccountError::LinkInvalid)?;
    if row.user_id != user_id {
        return Err(AccountError::LinkInvalid);
    }
    if row.used_at.is_some() {
        return Err(AccountError::LinkUsed);
    }
    if row.expires_at <= now {
        return Err(AccountError::LinkExpired);
    }
    let user = users::find_by_id(conn, user_id).await?.filter(|u| u.is_active).ok_or(AccountError::LinkInvalid)?;
    if password_stamp(user.password_hash.as_ref()) != row.password_stamp {
        return Err(AccountError::LinkStale);
    }
    Ok((user, token_hash))
}

/// Sets a new password through a reset link: every §4.2 rule, the link used once, every
/// session of the account ended, a notice mailed; then this session signs in, through the
/// second step when the account has TOTP (SPEC §4.5).
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    state: &AppState,
    session: &Session,
    user_id: i64,
    token: &str,
    password: &Password,
) -> Result<Signed, AccountError> {
    let (user, token_hash) = usable_reset_link(&mut *state.db.conn().await?, user_id, token, db::now()).await?;
    check_new_password(state, "password", password, &user.email).await?;
    let hash = state.hasher.hash(password).await?;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    if !password_resets::mark_used(&mut tx, &token_hash, now).await? {
        return Err(AccountError::LinkUsed);
    }
    if !users::replace_password_hash(&mut tx, user.id, user.password_hash.as_ref(), &hash).await? {
        return Err(AccountError::LinkStale);
    }
    after_password_set(state, &mut tx, &user, None, now).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, "password reset");
    let user = UserRow { password_hash: Some(hash), ..user };
    if two_factor::is_enrolled(&mut *state.db.conn().await?, user.id).await? {
        let pending = session::PendingSecondFactor { user_id: user.id, next: None };
        session::set_pending_second_factor(session, &pending).await?;
        return Ok(Signed { user, redirect_to: "/auth/2fa/".to_owned(), second_factor_required: true });
    }
    session::sign_in(session, user.id, session::SignIn::Reset).await?;
    let redirect_to = accounts::after_sign_in(state, session, &user, None).await.map_err(AccountError::Internal)?;
    Ok(Signed { user, redirect_to, second_factor_required: false })
}

/// What follows a new password, in its transaction: every other session ended, unused
/// reset links forgotten, the notice mailed.
async fn after_password_set(
    state: &AppState,
    conn: &mut db::Conn,
    user: &UserRow,
    keep_session: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sessions::delete_for_user(conn, user.id, keep_session).await?;
    password_resets::delete_unused(conn, user.id).await?;
    let recover = format!("{}/account/recover/", state.config.public_url());
    mails::queue(conn, &user.email, &mails::password_changed(&user.name, &recover), None, now).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Password, name and address (SPEC §4.5, §4.7)

/// Changes the signed-in user's password: the current one first, then every §4.2 rule for
/// the new one (errors under `passwordNew`); this session gets a new id, every other one
/// ends, a notice is mailed.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    state: &AppState,
    session: &Session,
    user: &UserRow,
    current: &Password,
    new: &Password,
    ip: Option<&str>,
) -> Result<(), AccountError> {
    accounts::reauthenticate(state, user, current, ip).await?;
    check_new_password(state, "passwordNew", new, &user.email).await?;
    let hash = state.hasher.hash(new).await?;
    let now = db::now();
    let this_session = session.id().map(|id| id.to_string());
    let mut tx = state.db.begin().await?;
    if !users::replace_password_hash(&mut tx, user.id, user.password_hash.as_ref(), &hash).await? {
        // Changed meanwhile by a parallel change or reset: the current password given is
        // no longer the current one.
        return Err(ReauthError::WrongPassword.into());
    }
    after_password_set(state, &mut tx, user, this_session.as_deref(), now).await?;
    tx.commit().await?;
    session::renew(session).await?;
    tracing::info!(user_id = user.id, "password changed");
    Ok(())
}

/// Renames the signed-in user.
pub async fn rename(state: &AppState, user: &UserRow, name: &str) -> Result<UserRow, AccountError> {
    let mut errors = FieldErrors::new();
    let Some(name) = errors.check("name", DisplayName::parse(name)) else {
        return Err(AccountError::Invalid(errors));
    };
    users::set_name(&mut *state.db.conn().await?, user.id, name.as_str()).await?;
    Ok(UserRow { name: name.as_str().to_owned(), ..user.clone() })
}

/// Asks to move the signed-in account to `email` (SPEC §4.7): the current password first;
/// the new address must be valid, not the current one and not another account's; it gets
/// the link that makes the change, the current address a notice. Nothing changes until the
/// link is followed (`emails::verify`).
#[tracing::instrument(skip_all)]
pub async fn request_email_change(
    state: &AppState,
    user: &UserRow,
    email: &str,
    password: &Password,
    ip: Option<&str>,
) -> Result<(), AccountError> {
    // Counted first: each request mails an address the user chose, and answers whether
    // another account has it; a few per hour is all a person needs.
    limits::VERIFY_EMAIL_USER.consume(state, &user.id.to_string()).await?;
    let mut errors = FieldErrors::new();
    let parsed = errors.check("email", EmailAddress::parse(email));
    if let Some(new) = &parsed {
        if new.as_str() == user.email {
            errors.add("email", "That is already your address.");
        } else if users::email_exists(&mut *state.db.conn().await?, new.as_str()).await? {
            errors.add("email", EMAIL_TAKEN);
        }
    }
    accounts::reauthenticate(state, user, password, ip).await?;
    let (Some(new), true) = (parsed, errors.is_empty()) else {
        return Err(AccountError::Invalid(errors));
    };
    let now = db::now();
    let mut tx = state.db.begin().await?;
    emails::queue_change(state, &mut tx, user, new.as_str(), now).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, "email change asked");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Sessions (SPEC §4.6)

/// One signed-in session of the user, as they see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    /// A digest of the session id (`domain::sessions::public_id`), never the id itself.
    pub id: String,
    pub current: bool,
    pub device: Device,
    pub ip: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// The user's live sessions, this one first, then the most recently used.
pub async fn sessions(state: &AppState, session: &Session, user: &UserRow) -> Result<Vec<SessionView>, AccountError> {
    let now = db::now();
    let this = session.id().map(|id| id.to_string());
    let rows = sessions::for_user(&mut *state.db.conn().await?, user.id, now).await?;
    let mut listed: Vec<SessionView> = rows
        .into_iter()
        .filter_map(|row| {
            let data: serde_json::Value = serde_json::from_str(&row.data).ok()?;
            let activity: Option<session::Activity> =
                data.get(session::ACTIVITY).and_then(|a| serde_json::from_value(a.clone()).ok());
            let current = this.as_deref() == Some(row.id.as_str());
            let activity = activity.filter(|a| a.user_id == user.id);
            if activity.as_ref().is_some_and(|a| is_over(a.created_at, a.last_seen_at, now)) {
                return None;
            }
            // A session signed in before sessions recorded their activity has none.
            let (device, ip, created_at, last_seen_at) = match activity {
                Some(a) => (Device::parse(&a.user_agent), a.ip, a.created_at, a.last_seen_at),
                None => (Device::parse(""), None, 0, 0),
            };
            Some(SessionView { id: public_id(&row.id), current, device, ip, created_at, last_seen_at })
        })
        .collect();
    listed.sort_by(|a, b| b.current.cmp(&a.current).then(b.last_seen_at.cmp(&a.last_seen_at)));
    Ok(listed)
}

/// Signs out one of the user's sessions, named by its public id. Signing out this one is
/// signing out.
pub async fn end_session(state: &AppState, session: &Session, user: &UserRow, id: &str) -> Result<(), AccountError> {
    let mut conn = state.db.conn().await?;
    let rows = sessions::for_user(&mut conn, user.id, 0).await?;
    let Some(row) = rows.into_iter().find(|row| public_id(&row.id) == id) else {
        return Err(AccountError::NoSuchSession);
    };
    if session.id().is_some_and(|this| this.to_string() == row.id) {
        drop(conn);
        session::sign_out(session).await?;
        return Ok(());
    }
    if !sessions::delete_one(&mut conn, user.id, &row.id).await? {
        return Err(AccountError::NoSuchSession);
    }
    tracing::info!(user_id = user.id, "session signed out");
    Ok(())
}

/// Signs out every session of the user but this one. Returns how many ended.
pub async fn end_other_sessions(state: &AppState, session: &Session, user: &UserRow) -> Result<u64, AccountError> {
    let this = session.id().map(|id| id.to_string());
    let ended = sessions::delete_for_user(&mut *state.db.conn().await?, user.id, this.as_deref()).await?;
    tracing::info!(user_id = user.id, ended, "other sessions signed out");
    Ok(ended)
}

// ---------------------------------------------------------------------------------------
// The second factor's later life (SPEC §6)

/// New recovery codes for the signed-in user (the password first); the old ones die, a
/// notice is mailed. Returns the codes, shown once.
#[tracing::instrument(skip_all)]
pub async fn renew_recovery_codes(
    state: &AppState,
    user: &UserRow,
    password: &Password,
    ip: Option<&str>,
) -> Result<Vec<String>, AccountError> {
    accounts::reauthenticate(state, user, password, ip).await?;
    let (codes, hashes) = totp::new_recovery_codes(&state.secret, user.id);
    let now = db::now();
    let mut tx = state.db.begin().await?;
    if !two_factor::is_enrolled(&mut tx, user.id).await? {
        return Err(AccountError::NotEnrolled);
    }
    two_factor::replace_recovery_codes(&mut tx, user.id, &hashes).await?;
    let security = format!("{}/settings/account/security/", state.config.public_url());
    mails::queue(&mut tx, &user.email, &mails::recovery_codes_renewed(&user.name, &security), None, now).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, "recovery codes renewed");
    Ok(codes)
}

/// Turns TOTP off for the signed-in user (the password first), unless an organization
/// they belong to requires it; the recovery codes go with it and a notice is mailed.
#[tracing::instrument(skip_all)]
pub async fn disable_two_factor(
    state: &AppState,
    user: &UserRow,
    password: &Password,
    ip: Option<&str>,
) -> Result<(), AccountError> {
    accounts::reauthenticate(state, user, password, ip).await?;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let requiring: Vec<String> = organizations::for_user(&mut tx, user.id)
        .await?
        .into_iter()
        .filter(|org| org.require_2fa)
        .map(|org| org.name)
        .collect();
    if !requiring.is_empty() {
        return Err(AccountError::OrgRequires2fa(requiring.join(", ")));
    }
    if !two_factor::remove(&mut tx, user.id).await? {
        return Err(AccountError::NotEnrolled);
    }
    let security = format!("{}/settings/account/security/", state.config.public_url());
    mails::queue(&mut tx, &user.email, &mails::two_factor_off(&user.name, &security), None, now).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, "two-factor authentication turned off");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Leaving for good (SPEC §4.7)

/// Deletes the signed-in account (the password first). Refused while the user is the only
/// owner of an organization with other members; organizations where they are the only
/// member go with them; every other organization records that they left; audit entries
/// keep their address as text; a notice goes to the address; this session ends.
#[tracing::instrument(skip_all)]
pub async fn delete_account(
    state: &AppState,
    session: &Session,
    user: &UserRow,
    password: &Password,
    ip: Option<&str>,
) -> Result<(), AccountError> {
    accounts::reauthenticate(state, user, password, ip).await?;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let mut memberships = members::of_user(&mut tx, user.id).await?;
    // Locks in one order (organization id), as every other transaction that counts owners.
    memberships.sort_by_key(|m| m.org_id);
    let mut locked = Vec::with_capacity(memberships.len());
    for mut m in memberships {
        organizations::lock(&mut tx, state.db.kind(), m.org_id).await?;
        // The role as it is now, under the lock: a transfer may have made the user an owner
        // since the list was read (or a removal taken the membership away).
        match members::membership(&mut tx, m.org_id, user.id).await? {
            Some(row) => {
                m.role = row.role;
                locked.push(m);
            }
            None => continue,
        }
    }
    let memberships = locked;
    let mut sole_owner = Vec::new();
    let mut alone = Vec::new();
    for m in &memberships {
        let members_count = members::memberships_count(&mut tx, m.org_id).await?;
        if members_count <= 1 {
            alone.push(m.org_id);
        } else if m.role == crate::model::Role::Owner && members::count_owners(&mut tx, m.org_id).await? <= 1 {
            sole_owner.push(m.org_name.clone());
        }
    }
    if !sole_owner.is_empty() {
        return Err(AccountError::SoleOwner(sole_owner.join(", ")));
    }
    for m in memberships.iter().filter(|m| !alone.contains(&m.org_id)) {
        let entry = audit::NewEntry {
            org_id: m.org_id,
            actor_id: Some(user.id),
            event: "member.left",
            target_member_id: Some(m.member_id),
            target_user_id: Some(user.id),
            target_email: Some(&user.email),
            ip,
            data: serde_json::json!({"email": user.email, "role": m.role, "reason": "account_deleted"}),
            now,
        };
        audit::insert(&mut tx, entry).await?;
        let payload = serde_json::json!({
            "memberId": m.member_id, "userId": user.id, "email": user.email, "role": m.role, "reason": "account_deleted",
        });
        crate::server::db::outbox::queue_event(&mut tx, "member.left", m.org_id, &payload, now).await?;
    }
    for org_id in &alone {
        organizations::delete(&mut tx, *org_id).await?;
    }
    audit::keep_address(&mut tx, user.id, &user.email).await?;
    sessions::delete_for_user(&mut tx, user.id, None).await?;
    mails::queue(&mut tx, &user.email, &mails::account_deleted(&user.name), None, now).await?;
    users::delete(&mut tx, user.id).await?;
    tx.commit().await?;
    session::sign_out(session).await?;
    tracing::info!(user_id = user.id, organizations_deleted = alone.len(), "account deleted");
    Ok(())
}
