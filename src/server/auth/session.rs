//! What the server keeps in a session, under which keys. Nothing here reaches a cookie:
//! the cookie holds only the session id.

use tower_sessions::Session;

/// The signed-in user's id.
const USER_ID: &str = "uid";

pub type SessionResult<T> = Result<T, tower_sessions::session::Error>;

/// The signed-in user's id, if any.
pub async fn user_id(session: &Session) -> SessionResult<Option<i64>> {
    session.get::<i64>(USER_ID).await
}

/// Signs `user_id` in: a new session id (no fixation), keeping the session's other data
/// (such as a pending invite).
pub async fn sign_in(session: &Session, user_id: i64) -> SessionResult<()> {
    session.cycle_id().await?;
    session.insert(USER_ID, user_id).await
}

/// Signs out by destroying the whole session, server side and cookie.
pub async fn sign_out(session: &Session) -> SessionResult<()> {
    session.flush().await
}

/// Set when an anonymous visitor opens a valid invite link: allows one registration while
/// registration is `invite_only` (SPEC §4.1).
const INVITE_PASS: &str = "invite_registration";

pub async fn has_invite_pass(session: &Session) -> SessionResult<bool> {
    Ok(session.get::<bool>(INVITE_PASS).await?.unwrap_or(false))
}

pub async fn grant_invite_pass(session: &Session) -> SessionResult<()> {
    session.insert(INVITE_PASS, true).await
}

/// Consumes the pass: one registration per opened invite.
pub async fn take_invite_pass(session: &Session) -> SessionResult<bool> {
    Ok(remove_if_present::<bool>(session, INVITE_PASS).await?.unwrap_or(false))
}

/// Removes a key only when it is there: `Session::remove` marks the session modified even
/// for a missing key, which would cost a store write on every request that clears nothing.
async fn remove_if_present<T: serde::de::DeserializeOwned>(session: &Session, key: &str) -> SessionResult<Option<T>> {
    if session.get_value(key).await?.is_none() {
        return Ok(None);
    }
    session.remove::<T>(key).await
}

/// The invite a visitor opened, kept server-side so that registration, login and 2FA
/// enrolment can finish the flow (SPEC §5.6).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingInvite {
    pub member_id: i64,
    pub org_id: i64,
    pub org_slug: String,
    pub token: String,
    pub email: String,
}

impl PendingInvite {
    /// The invite page of this invite.
    pub fn page_path(&self) -> String {
        format!("/accept/{}/{}/", self.member_id, self.token)
    }
}

const PENDING_INVITE: &str = "pending_invite";

pub async fn pending_invite(session: &Session) -> SessionResult<Option<PendingInvite>> {
    session.get(PENDING_INVITE).await
}

pub async fn set_pending_invite(session: &Session, invite: &PendingInvite) -> SessionResult<()> {
    session.insert(PENDING_INVITE, invite).await
}

pub async fn clear_pending_invite(session: &Session) -> SessionResult<()> {
    remove_if_present::<PendingInvite>(session, PENDING_INVITE).await.map(|_| ())
}
