//! What the server keeps in a session, under which keys. Nothing here reaches a cookie:
//! the cookie holds only the session id.

pub use crate::server::metrics::SignIn;
use tower_sessions::Session;

use crate::server::domain::sso::{self as sso_rules, Intent};

/// The signed-in user's id (the session store copies it into its `user_id` column).
pub const USER_ID: &str = "uid";

pub type SessionResult<T> = Result<T, tower_sessions::session::Error>;

/// The signed-in user's id, if any.
pub async fn user_id(session: &Session) -> SessionResult<Option<i64>> {
    session.get::<i64>(USER_ID).await
}

/// Signs `user_id` in: a new session id (no fixation), keeping the session's other data
/// (such as a pending invite). Counted by how (`metrics`).
pub async fn sign_in(session: &Session, user_id: i64, how: SignIn) -> SessionResult<()> {
    session.cycle_id().await?;
    session.insert(USER_ID, user_id).await?;
    crate::server::metrics::signed_in(how);
    Ok(())
}

/// Signs out by destroying the whole session, server side and cookie.
pub async fn sign_out(session: &Session) -> SessionResult<()> {
    session.flush().await
}

/// Signs out, and whatever is stored afterwards goes to a session with a new id: a
/// request still running on the old id (which would save its copy, signed in) then finds
/// no row to write to.
pub async fn sign_out_into_new_session(session: &Session) -> SessionResult<()> {
    session.flush().await?;
    session.cycle_id().await
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
/// enrolment can finish the flow (SPEC §5.6). Only the token's hash is kept: the session
/// store holds no usable link (§9.5); the link is derived again when needed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingInvite {
    pub member_id: i64,
    pub org_id: i64,
    pub org_slug: String,
    pub token_hash: String,
    pub email: String,
}

/// A new key for the hash-only form: sessions written before it (which held the token
/// itself) are ignored rather than misread.
const PENDING_INVITE: &str = "pending_invite_hash";

pub async fn pending_invite(session: &Session) -> SessionResult<Option<PendingInvite>> {
    session.get(PENDING_INVITE).await
}

pub async fn set_pending_invite(session: &Session, invite: &PendingInvite) -> SessionResult<()> {
    session.insert(PENDING_INVITE, invite).await
}

pub async fn clear_pending_invite(session: &Session) -> SessionResult<()> {
    remove_if_present::<PendingInvite>(session, PENDING_INVITE).await.map(|_| ())
}

/// The join link a visitor opened (SPEC §5.9), kept like a pending invite: the link's id
/// and its token's hash (the link is derived again when needed), and the organization's
/// name for the registration page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingJoinLink {
    pub link_id: i64,
    pub org_id: i64,
    pub token_hash: String,
    pub org_name: String,
}

const PENDING_JOIN_LINK: &str = "pending_join_link";

pub async fn pending_join_link(session: &Session) -> SessionResult<Option<PendingJoinLink>> {
    session.get(PENDING_JOIN_LINK).await
}

pub async fn set_pending_join_link(session: &Session, link: &PendingJoinLink) -> SessionResult<()> {
    session.insert(PENDING_JOIN_LINK, link).await
}

pub async fn clear_pending_join_link(session: &Session) -> SessionResult<()> {
    remove_if_present::<PendingJoinLink>(session, PENDING_JOIN_LINK).await.map(|_| ())
}

/// One address of a bulk invite as the members page shows it after a form post (kept for
/// one read, so that a post without JavaScript, which ends in a redirect, shows it too).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BulkFlash {
    pub email: String,
    pub status: crate::model::BulkStatus,
    pub reason: Option<String>,
}

const BULK_OUTCOME: &str = "bulk_outcome";

pub async fn set_bulk_outcome(session: &Session, slug: &str, outcome: &Vec<BulkFlash>) -> SessionResult<()> {
    session.insert(BULK_OUTCOME, (slug, outcome)).await
}

/// Takes the outcome of the last bulk invite in organization `slug` (shown once).
pub async fn take_bulk_outcome(session: &Session, slug: &str) -> SessionResult<Option<Vec<BulkFlash>>> {
    if session.get::<(String, Vec<BulkFlash>)>(BULK_OUTCOME).await?.is_none_or(|(s, _)| s != slug) {
        return Ok(None);
    }
    Ok(remove_if_present::<(String, Vec<BulkFlash>)>(session, BULK_OUTCOME).await?.map(|(_, outcome)| outcome))
}

/// The join link just created in this session, by id only (its URL carries the token and
/// the session store keeps no usable token, SPEC §9.5): the members page shows its URL
/// once, derived again.
const CREATED_JOIN_LINK: &str = "created_join_link";

pub async fn set_created_join_link(session: &Session, org_id: i64, link_id: i64) -> SessionResult<()> {
    set_shown_once(session, CREATED_JOIN_LINK, org_id, link_id).await
}

/// Takes the link just created in organization `org_id` (another organization's page
/// leaves it).
pub async fn take_created_join_link(session: &Session, org_id: i64) -> SessionResult<Option<i64>> {
    take_shown_once(session, CREATED_JOIN_LINK, org_id).await
}

/// The webhook endpoint whose secret was just made (created or rotated) in this session,
/// by id only: the webhooks page shows the secret once, opened again from the database.
const NEW_WEBHOOK_SECRET: &str = "new_webhook_secret";

pub async fn set_new_webhook_secret(session: &Session, org_id: i64, endpoint_id: i64) -> SessionResult<()> {
    set_shown_once(session, NEW_WEBHOOK_SECRET, org_id, endpoint_id).await
}

pub async fn take_new_webhook_secret(session: &Session, org_id: i64) -> SessionResult<Option<i64>> {
    take_shown_once(session, NEW_WEBHOOK_SECRET, org_id).await
}

/// Remembers, under `key`, a thing of organization `org_id` that the next page of that
/// organization shows once.
async fn set_shown_once(session: &Session, key: &str, org_id: i64, id: i64) -> SessionResult<()> {
    session.insert(key, (org_id, id)).await
}

/// Takes what [`set_shown_once`] remembered, when it belongs to organization `org_id`
/// (another organization's page leaves it).
async fn take_shown_once(session: &Session, key: &str, org_id: i64) -> SessionResult<Option<i64>> {
    if session.get::<(i64, i64)>(key).await?.is_none_or(|(org, _)| org != org_id) {
        return Ok(None);
    }
    Ok(remove_if_present::<(i64, i64)>(session, key).await?.map(|(_, id)| id))
}

/// A login that passed the password and waits for the second factor (SPEC §6): the user
/// is not signed in until `/auth/2fa/` accepts a code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingSecondFactor {
    pub user_id: i64,
    pub next: Option<String>,
}

const PENDING_2FA: &str = "pending_2fa";

pub async fn pending_second_factor(session: &Session) -> SessionResult<Option<PendingSecondFactor>> {
    session.get(PENDING_2FA).await
}

/// Remembers a half-done login under a fresh session id.
pub async fn set_pending_second_factor(session: &Session, pending: &PendingSecondFactor) -> SessionResult<()> {
    session.cycle_id().await?;
    session.insert(PENDING_2FA, pending).await
}

pub async fn clear_pending_second_factor(session: &Session) -> SessionResult<()> {
    remove_if_present::<PendingSecondFactor>(session, PENDING_2FA).await.map(|_| ())
}

/// The TOTP secret offered by an enrolment that the user has not confirmed yet, sealed
/// (a new key: an offer stored in plain text by an earlier version is ignored).
const TOTP_ENROLMENT: &str = "totp_enrolment_sealed";

pub async fn totp_enrolment(session: &Session) -> SessionResult<Option<String>> {
    session.get(TOTP_ENROLMENT).await
}

pub async fn set_totp_enrolment(session: &Session, secret_base32: &str) -> SessionResult<()> {
    session.insert(TOTP_ENROLMENT, secret_base32).await
}

pub async fn clear_totp_enrolment(session: &Session) -> SessionResult<()> {
    remove_if_present::<String>(session, TOTP_ENROLMENT).await.map(|_| ())
}

/// A privilege change (second factor added): a new session id, same data.
pub async fn renew(session: &Session) -> SessionResult<()> {
    session.cycle_id().await
}

/// Recovery codes of a just-confirmed enrolment and the organization it joined, shown
/// once by the next render of the security page (so that a form posted without
/// JavaScript, which ends in a redirect, shows them too).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnrolmentResult {
    pub recovery_codes: Vec<String>,
    pub joined: Option<(String, String)>,
}

const ENROLMENT_RESULT: &str = "enrolment_result";

pub async fn set_enrolment_result(session: &Session, result: &EnrolmentResult) -> SessionResult<()> {
    session.insert(ENROLMENT_RESULT, result).await
}

/// Takes the result out of the session: it is shown once.
pub async fn take_enrolment_result(session: &Session) -> SessionResult<Option<EnrolmentResult>> {
    remove_if_present(session, ENROLMENT_RESULT).await
}

/// A sign-in through an organization's identity provider that has left for the provider
/// and not come back yet: what the callback must check. Taken (removed) by the callback,
/// so a replayed callback finds nothing.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SsoFlow {
    pub org_id: i64,
    pub org_slug: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: Option<String>,
    pub started_at: i64,
    /// Sign in, or link (SPEC §9.1); a flow stored before intents existed is a sign-in.
    #[serde(default)]
    pub intent: Intent,
    /// The account that asked for a link (after giving its password).
    #[serde(default)]
    pub user_id: Option<i64>,
}

impl std::fmt::Debug for SsoFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoFlow")
            .field("org_slug", &self.org_slug)
            .field("intent", &self.intent)
            .field("started_at", &self.started_at)
            .finish_non_exhaustive()
    }
}

const SSO_FLOW: &str = "sso_flow";
/// The organization of the last SSO sign-in started here (kept after the callback, so a
/// replayed or failed callback can send the visitor back to that organization's page).
const SSO_LAST_ORG: &str = "sso_last_org";

/// Remembers a started SSO sign-in (replacing any earlier one).
pub async fn set_sso_flow(session: &Session, flow: &SsoFlow) -> SessionResult<()> {
    session.insert(SSO_LAST_ORG, &flow.org_slug).await?;
    session.insert(SSO_FLOW, flow).await
}

/// Takes the started SSO sign-in out of the session: it can finish once.
pub async fn take_sso_flow(session: &Session) -> SessionResult<Option<SsoFlow>> {
    remove_if_present(session, SSO_FLOW).await
}

pub async fn sso_last_org(session: &Session) -> SessionResult<Option<String>> {
    session.get(SSO_LAST_ORG).await
}

/// A sentence about how an SSO sign-in ended, shown once by the next sign-in page.
const SSO_NOTICE: &str = "sso_notice";

pub async fn set_sso_notice(session: &Session, notice: &str) -> SessionResult<()> {
    session.insert(SSO_NOTICE, notice).await
}

pub async fn take_sso_notice(session: &Session) -> SessionResult<Option<String>> {
    remove_if_present(session, SSO_NOTICE).await
}

/// A sign-in through an organization's provider made in this session (SPEC §9.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct SsoSignIn {
    org_id: i64,
    user_id: i64,
    at: i64,
}

const SSO_SIGN_INS: &str = "sso_sign_ins";

/// Records that `user_id` signed in through `org_id`'s provider at `at` in this session.
pub async fn record_sso_sign_in(session: &Session, org_id: i64, user_id: i64, at: i64) -> SessionResult<()> {
    let mut all: Vec<SsoSignIn> = session.get(SSO_SIGN_INS).await?.unwrap_or_default();
    all.retain(|s| s.org_id != org_id && s.user_id == user_id && sso_rules::is_fresh(s.at, at));
    all.push(SsoSignIn { org_id, user_id, at });
    session.insert(SSO_SIGN_INS, all).await
}

/// The organizations whose provider signed `user_id` in, in this session, recently enough
/// to use an organization that requires it.
pub async fn sso_signed_in_orgs(session: &Session, user_id: i64, now: i64) -> SessionResult<Vec<i64>> {
    let all: Vec<SsoSignIn> = session.get(SSO_SIGN_INS).await?.unwrap_or_default();
    Ok(all.into_iter().filter(|s| s.user_id == user_id && sso_rules::is_fresh(s.at, now)).map(|s| s.org_id).collect())
}

/// What a signed-in session records about itself (SPEC §4.6): when it signed in, when it
/// was last used (recorded coarsely, see `domain::sessions::TOUCH_EVERY_SECS`), and from
/// where.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Activity {
    /// The user it was recorded for: a session that signs in as someone else starts anew.
    pub user_id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: Option<String>,
    pub user_agent: String,
}

/// The key of [`Activity`] in the session data (the session list reads it from the rows).
pub const ACTIVITY: &str = "activity";

pub async fn activity(session: &Session) -> SessionResult<Option<Activity>> {
    session.get(ACTIVITY).await
}

/// Records this request's use of a signed-in session: a new record right after signing in
/// (or signing in as someone else), else the last activity when it is stale or the client
/// moved. A session changes (and is written) only then, never on every request.
pub async fn touch(session: &Session, now: i64, ip: Option<&str>, user_agent: &str) -> SessionResult<()> {
    use crate::server::domain::sessions::{clean_user_agent, needs_touch};
    let Some(user_id) = user_id(session).await? else { return Ok(()) };
    let ip = ip.map(str::to_owned);
    let activity = match activity(session).await? {
        Some(seen) if seen.user_id == user_id => {
            if !needs_touch(seen.last_seen_at, now) && seen.ip == ip {
                return Ok(());
            }
            Activity { last_seen_at: now, ip, user_agent: clean_user_agent(user_agent), ..seen }
        }
        _ => Activity { user_id, created_at: now, last_seen_at: now, ip, user_agent: clean_user_agent(user_agent) },
    };
    session.insert(ACTIVITY, activity).await
}
