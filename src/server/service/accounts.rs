//! Registration, login and logout (SPEC §4).

use tower_sessions::Session;

use super::limits::{self, Limit, Limited, Taken};
use super::problem::{Failure, Kind, Problem, BUSY, INVALID};
use super::{accept, emails, internal_errors};
use crate::server::auth::password::{HashError, PasswordHash};
use crate::server::auth::session;
use crate::server::db::{self, users, users::UserRow};
use crate::server::domain::{next::safe_next, DisplayName, EmailAddress, FieldErrors, Password, PasswordPolicy};
use crate::server::state::AppState;

/// The message for an email that already has an account.
pub const EMAIL_TAKEN: &str = "An account is already registered with that email address.";
/// The one message for any bad credential.
pub const BAD_CREDENTIALS: &str = "Please enter a correct email and password.";

/// What the registration form sends.
#[derive(Debug)]
pub struct RegisterInput {
    pub email: String,
    pub name: String,
    pub password: Password,
    /// The registration form asked to join the join link pending in the session (its
    /// checkbox, SPEC §5.9): never implied, so a link planted by another site's navigation
    /// joins no one.
    pub join_link: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("{}", INVALID)]
    Invalid(FieldErrors),
    #[error("Registration is not open on this site; use an invite link.")]
    NotAllowed,
    #[error("You are already signed in.")]
    AlreadySignedIn,
    #[error("{0}")]
    RateLimited(Limited),
    /// The password-hashing queue is full (SPEC §9.4): 503, try again in a moment.
    #[error("{}", BUSY)]
    Busy,
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl Failure for RegisterError {
    fn problem(self) -> Problem {
        let sentence = self.to_string();
        match self {
            Self::Invalid(fields) => Problem::invalid(fields),
            Self::NotAllowed => Problem::new(Kind::Forbidden, "registration_disabled", sentence),
            Self::AlreadySignedIn => Problem::new(Kind::Conflict, "already_authenticated", sentence),
            Self::RateLimited(limited) => Problem::limited(limited),
            Self::Busy => Problem::busy(),
            Self::Internal(err) => Problem::internal(err),
        }
    }
}
internal_errors!(RegisterError: sqlx::Error, tower_sessions::session::Error, CurrentUserError);
super::rate_limited_errors!(RegisterError);

impl From<HashError> for RegisterError {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Busy => Self::Busy,
            other => Self::Internal(other.into()),
        }
    }
}

/// Where a successful registration or login goes next.
#[derive(Debug)]
pub struct Signed {
    pub user: UserRow,
    pub redirect_to: String,
    /// The password was right but the account has TOTP: the user is not signed in yet and
    /// `redirect_to` is the second step, `/auth/2fa/`.
    pub second_factor_required: bool,
}

/// Whether this session may register now (SPEC §4.1).
pub async fn registration_possible(state: &AppState, session: &Session) -> Result<bool, RegisterError> {
    Ok(state.config.registration.allows(session::has_invite_pass(session).await?))
}

/// What the registration page needs to know.
#[derive(Debug, Clone)]
pub struct RegisterPage {
    pub possible: bool,
    pub signed_in: bool,
    /// The address of the invite pending in this session, to pre-fill.
    pub invited_email: Option<String>,
    /// The organization of the join link pending in this session (SPEC §5.9).
    pub joining: Option<String>,
}

pub async fn register_page(state: &AppState, session: &Session) -> Result<RegisterPage, RegisterError> {
    Ok(RegisterPage {
        possible: registration_possible(state, session).await?,
        signed_in: signed_in(state, session).await?.is_some(),
        invited_email: session::pending_invite(session).await?.map(|p| p.email),
        joining: super::join_links::pending(state, session)
            .await
            .map_err(|e| RegisterError::Internal(accept_internal(e)))?
            .map(|(pending, _)| pending.org_name),
    })
}

/// What the sign-in page needs to know.
#[derive(Debug, Clone)]
pub struct LoginPage {
    pub registration_possible: bool,
    /// How a single sign-on attempt that could not go back to its organization ended
    /// (shown once).
    pub notice: Option<String>,
}

pub async fn login_page(state: &AppState, session: &Session) -> Result<LoginPage, RegisterError> {
    Ok(LoginPage {
        registration_possible: registration_possible(state, session).await?,
        notice: session::take_sso_notice(session).await?,
    })
}

/// Registers a new user and signs them in (SPEC §4.2, §4.3).
#[tracing::instrument(skip_all)]
pub async fn register(
    state: &AppState,
    session: &Session,
    input: RegisterInput,
    ip: Option<&str>,
) -> Result<Signed, RegisterError> {
    if session::user_id(session).await?.is_some() {
        return Err(RegisterError::AlreadySignedIn);
    }
    if !registration_possible(state, session).await? {
        return Err(RegisterError::NotAllowed);
    }
    // Counted before the work (SPEC §9.4): every attempt counts, except one the full
    // hashing queue turned away.
    let taken = match (ip, i64::from(state.config.register_limit_per_ip)) {
        (Some(ip), max @ 1..) => Limit { max, ..limits::REGISTER_IP }.consume(state, ip).await?,
        _ => Taken::default(),
    };
    let (email, name) = validate_registration(state, &input).await?;
    let hash = match state.hasher.hash(&input.password).await {
        Ok(hash) => hash,
        Err(HashError::Busy) => {
            taken.give_back(state).await?;
            return Err(RegisterError::Busy);
        }
        Err(err) => return Err(err.into()),
    };
    let user = write_account(state, session, &email, &name, &hash).await?;

    session::sign_in(session, user.id, session::SignIn::Registration).await?;
    crate::server::metrics::registered("password");
    session::take_invite_pass(session).await?;
    tracing::info!(user_id = user.id, "user registered");
    let redirect_to = match finish_pending_invite(state, session, &user, input.join_link, ip).await? {
        Some(path) => path,
        None => landing_path(state, &user).await?,
    };
    let user = users::find_by_id(&mut *state.db.conn().await?, user.id).await?.unwrap_or(user);
    Ok(Signed { user, redirect_to, second_factor_required: false })
}

/// The checks every new account passes, with their errors added to `errors`: an address,
/// a display name, and a password the policy accepts for that address.
fn check_account(
    errors: &mut FieldErrors,
    email: &str,
    name: &str,
    password: &Password,
) -> (Option<EmailAddress>, Option<DisplayName>) {
    let email = errors.check("email", EmailAddress::parse(email));
    let name = errors.check("name", DisplayName::parse(name));
    errors.check("password", PasswordPolicy.check(password, email.as_ref()));
    (email, name)
}

/// Validates a registration, every field's errors together: [`check_account`], an address
/// without an account yet, then, for an otherwise valid form only, a password that is not
/// a known breached one.
async fn validate_registration(
    state: &AppState,
    input: &RegisterInput,
) -> Result<(EmailAddress, DisplayName), RegisterError> {
    let mut errors = FieldErrors::new();
    let (email, name) = check_account(&mut errors, &input.email, &input.name, &input.password);
    if let Some(email) = &email {
        if users::email_exists(&mut *state.db.conn().await?, email.as_str()).await? {
            errors.add("email", EMAIL_TAKEN);
        }
    }
    if errors.is_empty() {
        if let Some(message) = breached(state, &input.password).await {
            errors.add("password", message);
        }
    }
    let (Some(email), Some(name), true) = (email, name, errors.is_empty()) else {
        return Err(RegisterError::Invalid(errors));
    };
    Ok((email, name))
}

/// The breached-password check's message for `password`, when the check is on and finds it
/// (SPEC §4.2; fails open).
pub(super) async fn breached(state: &AppState, password: &Password) -> Option<String> {
    state.breached.as_ref()?.check(password).await
}

/// Writes a registered account in one transaction with, unless the address is the one the
/// session's pending invite was sent to, its verification email.
async fn write_account(
    state: &AppState,
    session: &Session,
    email: &EmailAddress,
    name: &DisplayName,
    hash: &PasswordHash,
) -> Result<UserRow, RegisterError> {
    // Registering through the invited address's link proves the mailbox (SPEC §4.3); any
    // other new address gets a verification email (§7), queued with the account.
    let invited_here = session::pending_invite(session).await?.is_some_and(|p| p.email == email.as_str());
    let mut tx = state.db.begin().await?;
    let new = users::NewUser {
        email: email.as_str(),
        name: name.as_str(),
        password_hash: Some(hash),
        email_verified: false,
        is_superuser: false,
        now: db::now(),
    };
    let user = insert_user(&mut tx, new).await?;
    if !invited_here {
        emails::queue(state, &mut tx, &user, user.created_at).await?;
    }
    tx.commit().await?;
    Ok(user)
}

/// Inserts a user. Two registrations of one address racing: the unique index decides, and
/// the loser is told the address is taken.
async fn insert_user(conn: &mut db::Conn, new: users::NewUser<'_>) -> Result<UserRow, RegisterError> {
    users::insert(conn, new).await.map_err(|err| {
        if db::is_unique_violation(&err) {
            RegisterError::Invalid(FieldErrors::single("email", EMAIL_TAKEN))
        } else {
            err.into()
        }
    })
}

/// Creates a user directly (admin command): the same validation as registration, no
/// session, the address taken as verified by the operator.
pub async fn create_user(
    state: &AppState,
    email: &str,
    name: &str,
    password: &Password,
    superuser: bool,
) -> Result<UserRow, RegisterError> {
    let mut errors = FieldErrors::new();
    let (email, name) = check_account(&mut errors, email, name, password);
    let (Some(email), Some(name), true) = (email, name, errors.is_empty()) else {
        return Err(RegisterError::Invalid(errors));
    };
    let hash = state.hasher.hash(password).await?;
    let mut tx = state.db.begin().await?;
    let new = users::NewUser {
        email: email.as_str(),
        name: name.as_str(),
        password_hash: Some(&hash),
        email_verified: true,
        is_superuser: superuser,
        now: db::now(),
    };
    let user = insert_user(&mut tx, new).await?;
    tx.commit().await?;
    if superuser {
        // SPEC §4.3: the operator's superuser owns the single organization.
        super::organizations::own_single_org(state, &user)
            .await
            .map_err(|err| RegisterError::Internal(anyhow::anyhow!("single-organization owner: {err}")))?;
    }
    Ok(user)
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("{}", BAD_CREDENTIALS)]
    BadCredentials,
    #[error("{0}")]
    RateLimited(Limited),
    /// The password-hashing queue is full (SPEC §9.4): 503, try again in a moment.
    #[error("{}", BUSY)]
    Busy,
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl Failure for LoginError {
    fn problem(self) -> Problem {
        let sentence = self.to_string();
        match self {
            // The sign-in form shows it above its fields.
            Self::BadCredentials => {
                Problem::new(Kind::NotAuthenticated, "invalid_credentials", sentence).at_field("form")
            }
            Self::RateLimited(limited) => Problem::limited(limited),
            Self::Busy => Problem::busy(),
            Self::Internal(err) => Problem::internal(err),
        }
    }
}
internal_errors!(LoginError: sqlx::Error, HashError, tower_sessions::session::Error);
super::rate_limited_errors!(LoginError);

/// A password attempt checked under the sign-in limits of SPEC §9.4: counted before the
/// password is hashed, per (account, client address) and per client address — never per
/// account alone, so that one client's failures cannot stop the owner signing in from
/// another. The hits are given back when the password is right (only failures count) or
/// when it could not be checked (full hashing queue: `LoginError::Busy`). `Ok(false)` is a
/// wrong password (or no account), which stays counted. Sign-in and re-authentication
/// both go through here.
async fn check_password_attempt(
    state: &AppState,
    email: Option<&str>,
    ip: Option<&str>,
    password: &Password,
    stored: Option<&PasswordHash>,
) -> Result<bool, LoginError> {
    let account = email.map(|email| format!("{email}|{}", ip.unwrap_or("-")));
    let mut hits = Vec::with_capacity(2);
    if let Some(account) = &account {
        hits.push((&limits::LOGIN_ACCOUNT_IP, account.as_str()));
    }
    if let Some(ip) = ip {
        hits.push((&limits::LOGIN_IP, ip));
    }
    let taken = limits::take(state, &hits).await?;
    match state.hasher.verify(password, stored).await {
        Ok(false) => Ok(false),
        Ok(true) => {
            taken.give_back(state).await?;
            Ok(true)
        }
        Err(HashError::Busy) => {
            taken.give_back(state).await?;
            Err(LoginError::Busy)
        }
        Err(err) => Err(err.into()),
    }
}

/// Checks an email and password and signs the user in with a fresh session id (SPEC §4.4).
/// Unknown users cost the same argon2 computation as known ones. Attempts are counted
/// before the password is hashed, per (account, client address) and per client address,
/// and only failures stay counted (§9.4); a counted-out attempt costs no argon2 work. An
/// account with TOTP is not signed in yet: the session remembers the half-done login for
/// `/auth/2fa/` (§6).
#[tracing::instrument(skip_all)]
pub async fn login(
    state: &AppState,
    session: &Session,
    username: &str,
    password: &Password,
    next: Option<&str>,
    ip: Option<&str>,
) -> Result<Signed, LoginError> {
    let email = username.trim().to_lowercase();
    let valid_shape = !email.is_empty() && email.len() <= 254;
    let user = if valid_shape { users::find_by_email(&mut *state.db.conn().await?, &email).await? } else { None };
    let stored = user.as_ref().filter(|u| u.is_active).and_then(|u| u.password_hash.as_ref());
    let verified = check_password_attempt(state, valid_shape.then_some(email.as_str()), ip, password, stored).await?;
    let Some(user) = user.filter(|_| verified) else {
        // The failure stays counted.
        tracing::info!("login refused");
        return Err(LoginError::BadCredentials);
    };
    if crate::server::db::two_factor::is_enrolled(&mut *state.db.conn().await?, user.id).await? {
        let pending =
            session::PendingSecondFactor { user_id: user.id, next: next.and_then(safe_next).map(str::to_owned) };
        session::set_pending_second_factor(session, &pending).await?;
        tracing::info!(user_id = user.id, "password accepted; second factor required");
        return Ok(Signed { user, redirect_to: "/auth/2fa/".to_owned(), second_factor_required: true });
    }
    session::sign_in(session, user.id, session::SignIn::Password).await?;
    tracing::info!(user_id = user.id, "user signed in");
    let redirect_to = after_sign_in(state, session, &user, next).await.map_err(LoginError::Internal)?;
    Ok(Signed { user, redirect_to, second_factor_required: false })
}

/// Where a user goes right after signing in: the pending invite's page first (SPEC §4.4),
/// else `next` when it is a path on this site, else the default landing page.
pub async fn after_sign_in(
    state: &AppState,
    session: &Session,
    user: &UserRow,
    next: Option<&str>,
) -> anyhow::Result<String> {
    if let Some(pending) = accept::pending_link(state, session).await.map_err(accept_internal)? {
        return Ok(pending.link.page_path());
    }
    // Then the join link opened before signing in (SPEC §5.9): its page, with its Join button.
    if let Some((_, path)) = super::join_links::pending(state, session).await.map_err(accept_internal)? {
        return Ok(path);
    }
    Ok(match next.and_then(safe_next) {
        Some(next) => next.to_owned(),
        None => landing_path(state, user).await?,
    })
}

/// Where a signed-in user lands by default (SPEC §2, `/`): their first organization, or
/// the page to create one.
pub async fn landing_path(state: &AppState, user: &UserRow) -> Result<String, CurrentUserError> {
    let orgs = crate::server::db::organizations::for_user(&mut *state.db.conn().await?, user.id).await?;
    Ok(match orgs.first() {
        Some(org) => format!("/organizations/{}/", org.slug),
        None => "/organizations/new/".to_owned(),
    })
}

/// SPEC §4.3 steps 2–5 (and step 3, single-organization mode), right after a registration signed the user in: with a pending
/// invite, registering with the invited address proves the mailbox; the invite is accepted
/// when §5.3 allows (→ its organization), otherwise the invite page says what is missing.
async fn finish_pending_invite(
    state: &AppState,
    session: &Session,
    user: &UserRow,
    join_link: bool,
    ip: Option<&str>,
) -> Result<Option<String>, RegisterError> {
    let Some(pending) =
        accept::pending_link(state, session).await.map_err(|e| RegisterError::Internal(accept_internal(e)))?
    else {
        // The join link pending in the session, when the form asked to join it (§5.9).
        if join_link {
            let joined = super::join_links::join_pending(state, session, user.clone(), ip).await;
            if let Some(path) = joined.map_err(|e| RegisterError::Internal(accept_internal(e)))? {
                return Ok(Some(path));
            }
        }
        // Single-organization mode without an invite: join the one organization.
        return match super::organizations::join_single_org(state, user).await {
            Ok(org) => Ok(org.map(|org| format!("/organizations/{}/", org.slug))),
            Err(err) => Err(RegisterError::Internal(anyhow::anyhow!("single-organization join failed: {err}"))),
        };
    };
    // An invite for another address waits for the user's own Join click (§4.3 step 4).
    if !accept::may_accept_implicitly(&pending.pending, user, None) {
        return Ok(Some(pending.link.page_path()));
    }
    // Accepting marks the invited address verified (`accept::finish_accept`).
    match accept::accept(state, session, &pending.link, ip).await {
        Ok(org) => Ok(Some(format!("/organizations/{}/", org.slug))),
        Err(accept::AcceptError::Refused(_) | accept::AcceptError::Expired { .. }) => {
            Ok(Some(pending.link.page_path()))
        }
        Err(accept::AcceptError::Internal(err)) => Err(RegisterError::Internal(err)),
    }
}

/// `pending_link` refuses nothing (a stale invite is dropped): its errors are internal.
fn accept_internal(err: accept::AcceptError) -> anyhow::Error {
    match err {
        accept::AcceptError::Internal(err) => err,
        refused => anyhow::anyhow!("unexpected refusal: {refused}"),
    }
}

/// Destroys the session.
pub async fn logout(session: &Session) -> Result<(), CurrentUserError> {
    Ok(session::sign_out(session).await?)
}

/// "Switch accounts" on the invite page (SPEC §5.6) and the join-link page: signs out, but
/// the invite (or join link) pending in the session stays (in a new session), so that
/// signing in with the right account comes back to it. Nothing else of the old session
/// survives.
pub async fn switch_accounts(session: &Session) -> Result<(), CurrentUserError> {
    let pending = session::pending_invite(session).await?;
    let join_link = session::pending_join_link(session).await?;
    session::sign_out_into_new_session(session).await?;
    if let Some(pending) = pending {
        session::set_pending_invite(session, &pending).await?;
    }
    // The join link opened, likewise (SPEC §5.9).
    if let Some(join_link) = join_link {
        session::set_pending_join_link(session, &join_link).await?;
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum CurrentUserError {
    #[error("Authentication credentials were not provided.")]
    Anonymous,
    #[error(transparent)]
    Internal(anyhow::Error),
}
internal_errors!(CurrentUserError: sqlx::Error, tower_sessions::session::Error);

impl Failure for CurrentUserError {
    fn problem(self) -> Problem {
        let sentence = self.to_string();
        match self {
            Self::Anonymous => Problem::new(Kind::NotAuthenticated, "not_authenticated", sentence),
            Self::Internal(err) => Problem::internal(err),
        }
    }
}

/// The signed-in, active user of this session, if any: the one lookup behind every
/// adapter. A session whose user is gone or deactivated is anonymous, and one past its
/// lifetime is ended.
pub async fn signed_in(state: &AppState, session: &Session) -> Result<Option<UserRow>, CurrentUserError> {
    let Some(id) = session::user_id(session).await? else {
        return Ok(None);
    };
    // A session idle for 14 days or signed in 90 days ago is over (SPEC §4.6).
    if let Some(activity) = session::activity(session).await?.filter(|a| a.user_id == id) {
        if crate::server::domain::sessions::is_over(activity.created_at, activity.last_seen_at, db::now()) {
            session::sign_out(session).await?;
            return Ok(None);
        }
    }
    match users::find_by_id(&mut *state.db.conn().await?, id).await? {
        Some(user) if user.is_active => {
            let sso_signed_in = session::sso_signed_in_orgs(session, user.id, db::now()).await?;
            Ok(Some(UserRow { sso_signed_in, ..user }))
        }
        _ => Ok(None),
    }
}

/// The signed-in, active user, required: `Anonymous` otherwise.
pub async fn current_user(state: &AppState, session: &Session) -> Result<UserRow, CurrentUserError> {
    signed_in(state, session).await?.ok_or(CurrentUserError::Anonymous)
}

#[derive(Debug, thiserror::Error)]
pub enum ReauthError {
    #[error("That is not your current password.")]
    WrongPassword,
    /// An account made through an identity provider, without a password yet.
    #[error("This account has no password yet.")]
    NoPassword,
    #[error("{0}")]
    RateLimited(Limited),
    #[error("{}", BUSY)]
    Busy,
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl Failure for ReauthError {
    fn problem(self) -> Problem {
        let sentence = self.to_string();
        match self {
            Self::WrongPassword => Problem::new(Kind::Refused, "wrong_password", sentence).at_field("password"),
            Self::NoPassword => Problem::new(Kind::Refused, "no_password", sentence),
            Self::RateLimited(limited) => Problem::limited(limited),
            Self::Busy => Problem::busy(),
            Self::Internal(err) => Problem::internal(err),
        }
    }
}
internal_errors!(ReauthError: sqlx::Error, tower_sessions::session::Error);
super::rate_limited_errors!(ReauthError);

/// Re-authentication for a sensitive change by the signed-in `user` (SPEC §4.7, §9.1):
/// their current password. Failures count against the sign-in limits of §9.4.
pub async fn reauthenticate(
    state: &AppState,
    user: &UserRow,
    password: &Password,
    ip: Option<&str>,
) -> Result<(), ReauthError> {
    let Some(stored) = user.password_hash.as_ref() else { return Err(ReauthError::NoPassword) };
    match check_password_attempt(state, Some(&user.email), ip, password, Some(stored)).await {
        Ok(true) => Ok(()),
        Ok(false) | Err(LoginError::BadCredentials) => Err(ReauthError::WrongPassword),
        Err(LoginError::RateLimited(limited)) => Err(ReauthError::RateLimited(limited)),
        Err(LoginError::Busy) => Err(ReauthError::Busy),
        Err(LoginError::Internal(err)) => Err(ReauthError::Internal(err)),
    }
}
