//! Single sign-on through an organization's OpenID Connect provider: the provider's
//! configuration (owners), the sign-in flow, identity linking and joining the organization
//! on the way back (SPEC §2, §3, §5.3 step 7, §9.1, §9.10).
//!
//! Rules, in the order the callback applies them:
//! 1. A flow starts only from a same-site `POST` with an intent (`login`, or `link` with
//!    the account's password), recorded in the session; the callback is trusted only with
//!    the `state` of that flow, once, within [`FLOW_TTL_SECS`]; the ID token is validated
//!    fully (`auth::oidc`).
//! 2. The account (`domain::sso::choose_account`): a `link` flow links the identity to the
//!    account that started it, if it is still the one signed in; a `login` flow signs in
//!    the account the identity is already linked to, or creates one for a verified email
//!    nobody has — never an existing account just because the email matches, and only
//!    when `APP_REGISTRATION` and the organization's invites allow it.
//! 3. The sign-in through the provider is recorded in the session: it is what lets the
//!    session use an organization that requires SSO, for 20 hours.
//! 4. The organization: the invite pending in the session when it was addressed to this
//!    account (or the address the provider proved), else an approved invite for the
//!    verified email, else just-in-time membership with the default role when the
//!    provider allows it. Requests stay requests until an owner or manager approves them.

use serde_json::json;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::accept::{self, AcceptError};
use super::internal_errors;
use super::organizations::{self as orgs, Membership, OrgError};
use crate::server::auth::oidc::{OidcError, ProviderConfig, VerifiedClaims};
use crate::server::auth::sealed::SealingKey;
use crate::server::auth::session::{self, SsoFlow};
use crate::server::db::organizations::OrgRow;
use crate::server::db::sso::ProviderRow;
use crate::server::db::users::UserRow;
use crate::server::db::{self, audit, members, organizations, outbox, rate_limits, sso, two_factor, users};
use crate::server::domain::invite::Refusal;
use crate::server::domain::next::safe_next;
use crate::server::domain::sso::{choose_account, AccountChoice, AccountRefusal, Intent};
use crate::server::domain::{required_text, DisplayName, EmailAddress, FieldErrors, Password, Role};
use crate::server::outbound::Category;
use crate::server::state::AppState;

/// How long a started sign-in may take at the provider.
pub const FLOW_TTL_SECS: i64 = 600;
/// The path the provider returns to; the one redirect URI an operator registers.
pub const CALLBACK_PATH: &str = "/auth/sso/callback/";

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// No such organization, or it has no identity provider.
    #[error("This organization does not use single sign-on.")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("the form has errors")]
    Invalid(FieldErrors),
    /// The sign-in did not happen; the sentence tells the user why and what to do.
    #[error("{message}")]
    Refused { reason: &'static str, message: String },
    #[error(transparent)]
    Internal(anyhow::Error),
}
internal_errors!(SsoError: sqlx::Error, tower_sessions::session::Error);

impl From<OrgError> for SsoError {
    fn from(err: OrgError) -> Self {
        match err {
            OrgError::NotFound => Self::NotFound,
            OrgError::Forbidden(why) => Self::Forbidden(why),
            OrgError::Invalid(fields) => Self::Invalid(fields),
            other @ OrgError::SsoRequired { .. } => {
                Self::Refused { reason: "sso_required", message: other.to_string() }
            }
            OrgError::Internal(err) => Self::Internal(err),
        }
    }
}

impl From<AcceptError> for SsoError {
    fn from(err: AcceptError) -> Self {
        match err {
            AcceptError::Internal(err) => Self::Internal(err),
            refused => Self::Refused { reason: "invite_refused", message: refused.to_string() },
        }
    }
}

fn refused(reason: &'static str, message: impl Into<String>) -> SsoError {
    SsoError::Refused { reason, message: message.into() }
}

/// The URL the provider sends the browser back to.
pub fn redirect_uri(state: &AppState) -> String {
    format!("{}{CALLBACK_PATH}", state.config.public_url())
}

fn sealing_key(state: &AppState) -> SealingKey {
    SealingKey::derive(&state.secret)
}

fn provider_config(state: &AppState, provider: &ProviderRow) -> Result<ProviderConfig, SsoError> {
    let client_secret =
        sealing_key(state).open(provider.organization_id, &provider.client_secret_sealed).map_err(|err| {
            SsoError::Internal(anyhow::anyhow!("client secret of organization {}: {err}", provider.organization_id))
        })?;
    Ok(ProviderConfig { issuer: provider.issuer.clone(), client_id: provider.client_id.clone(), client_secret })
}

// ---------------------------------------------------------------------------------------
// Configuration (owners)

/// An organization's provider as its owners see it: never the client secret.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub org: OrgRow,
    pub provider: Option<ProviderRow>,
    /// Whether the owner looking at it has linked their own identity.
    pub actor_linked: bool,
    pub redirect_uri: String,
}

/// A change of the provider: `None` keeps a value (a missing client secret keeps the
/// stored one).
#[derive(Debug, Default, Clone)]
pub struct ProviderInput {
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub display_name: Option<String>,
    pub require_sso: Option<bool>,
    pub allow_jit_membership: Option<bool>,
}

/// An owner's membership, without the SSO gate: owners can always reach the provider's
/// settings, so a broken provider cannot lock an organization out.
async fn owner(state: &AppState, actor: &UserRow, slug: &str) -> Result<Membership, SsoError> {
    let membership = orgs::membership_ungated(state, actor, slug).await?;
    if membership.role != Role::Owner {
        return Err(SsoError::Forbidden("Only owners can manage single sign-on."));
    }
    Ok(membership)
}

pub async fn settings(state: &AppState, actor: &UserRow, slug: &str) -> Result<ProviderSettings, SsoError> {
    let membership = owner(state, actor, slug).await?;
    let mut conn = state.db.conn().await?;
    let provider = sso::provider(&mut conn, membership.org.id).await?;
    let actor_linked = sso::identity_of_user(&mut conn, membership.org.id, actor.id).await?.is_some();
    Ok(ProviderSettings { org: membership.org, provider, actor_linked, redirect_uri: redirect_uri(state) })
}

/// Validates an issuer URL: `https://`, or `http://` on a loopback host (a provider on the
/// same machine); no query or fragment.
fn parse_issuer(raw: &str) -> Result<String, Vec<String>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(vec![crate::server::domain::REQUIRED.to_owned()]);
    }
    let url =
        url::Url::parse(raw).map_err(|_| vec!["Enter a valid URL, such as https://id.example.com.".to_owned()])?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let ok_scheme = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    if !ok_scheme || url.host_str().is_none() {
        return Err(vec!["The issuer must be an https:// URL.".to_owned()]);
    }
    if url.query().is_some() || url.fragment().is_some() || raw.len() > 255 {
        return Err(vec!["The issuer is a plain URL of at most 255 characters, without ? or #.".to_owned()]);
    }
    Ok(raw.to_owned())
}

/// Creates or changes the organization's provider (owners). The issuer's discovery
/// document must be readable. Requiring SSO needs the owner's own identity linked first,
/// so the owner is not locked out. Changing the issuer unlinks every identity (they
/// belonged to the old provider). Audited with what changed; the secret only as "changed".
pub async fn save(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    input: ProviderInput,
    ip: Option<&str>,
) -> Result<ProviderSettings, SsoError> {
    let membership = owner(state, actor, slug).await?;
    let org = membership.org;
    let mut conn = state.db.conn().await?;
    let before = sso::provider(&mut conn, org.id).await?;
    let actor_linked = sso::identity_of_user(&mut conn, org.id, actor.id).await?.is_some();
    drop(conn);

    let mut errors = FieldErrors::new();
    let pick = |new: &Option<String>, old: Option<&String>| new.clone().or_else(|| old.cloned()).unwrap_or_default();
    let issuer = errors.check("issuer", parse_issuer(&pick(&input.issuer, before.as_ref().map(|p| &p.issuer))));
    let client_id =
        errors.check("clientId", required_text(&pick(&input.client_id, before.as_ref().map(|p| &p.client_id)), 255));
    let display_name = errors
        .check("displayName", required_text(&pick(&input.display_name, before.as_ref().map(|p| &p.display_name)), 64));
    let new_secret = input.client_secret.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let issuer_changes = before.as_ref().is_some_and(|p| Some(&p.issuer) != issuer.as_ref());
    let client_secret = match (new_secret, &before) {
        // The stored secret never goes to an issuer other than the one it was entered for
        // (§9.10): a new issuer needs its secret typed again.
        (None, Some(_)) if issuer_changes => {
            errors.add("clientSecret", "Enter the client secret again: the issuer changes.");
            None
        }
        (Some(secret), _) if secret.len() > 1024 => {
            errors.add("clientSecret", "Ensure this field has no more than 1024 characters.");
            None
        }
        (Some(secret), _) => Some(secret.to_owned()),
        (None, Some(p)) => Some(provider_config(state, p)?.client_secret),
        (None, None) => {
            errors.add("clientSecret", crate::server::domain::REQUIRED);
            None
        }
    };
    let require_sso = input.require_sso.unwrap_or(before.as_ref().is_some_and(|p| p.require_sso));
    let allow_jit = input.allow_jit_membership.unwrap_or(before.as_ref().is_some_and(|p| p.allow_jit_membership));
    if require_sso && (!actor_linked || issuer_changes) {
        errors.add(
            "requireSso",
            "Sign in with the identity provider once to link your own account before requiring single sign-on.",
        );
    }
    let (Some(issuer), Some(client_id), Some(display_name), Some(client_secret), true) =
        (issuer, client_id, display_name, client_secret, errors.is_empty())
    else {
        return Err(SsoError::Invalid(errors));
    };
    // The provider must answer discovery before it is saved (catches typos at once).
    state.oidc.forget(&issuer);
    if let Err(err) = state.oidc.metadata(&issuer).await {
        // The owner gets a category, never the error chain or the answer's body: those
        // would let an owner probe what the server can reach (SPEC §9.9). The log has all.
        tracing::warn!(error = %err, category = %err.category(), org_id = org.id, "provider discovery failed");
        let why = match err.category() {
            Category::Unreachable => "unreachable (no answer)",
            Category::NotAllowed => "not allowed (a private or internal address)",
            Category::BadAnswer => "bad answer (not an OpenID Connect configuration)",
        };
        return Err(SsoError::Invalid(FieldErrors::single(
            "issuer",
            format!("Could not read {issuer}/.well-known/openid-configuration: {why}."),
        )));
    }

    let now = db::now();
    let row = ProviderRow {
        organization_id: org.id,
        issuer: issuer.clone(),
        client_id,
        client_secret_sealed: sealing_key(state).seal(org.id, &client_secret),
        display_name,
        require_sso,
        allow_jit_membership: allow_jit,
        created_at: before.as_ref().map_or(now, |p| p.created_at),
        updated_at: now,
    };
    let mut changes = serde_json::Map::new();
    let mut note = |field: &str, from: serde_json::Value, to: serde_json::Value| {
        if from != to {
            changes.insert(field.to_owned(), json!({"from": from, "to": to}));
        }
    };
    let old = before.as_ref();
    note("issuer", json!(old.map(|p| &p.issuer)), json!(row.issuer));
    note("clientId", json!(old.map(|p| &p.client_id)), json!(row.client_id));
    note("displayName", json!(old.map(|p| &p.display_name)), json!(row.display_name));
    note("requireSso", json!(old.map(|p| p.require_sso)), json!(row.require_sso));
    note("allowJitMembership", json!(old.map(|p| p.allow_jit_membership)), json!(row.allow_jit_membership));
    if new_secret.is_some() {
        changes.insert("clientSecret".to_owned(), json!("changed"));
    }

    let mut tx = state.db.begin().await?;
    sso::save_provider(&mut tx, &row).await?;
    let unlinked = if issuer_changes { sso::delete_identities(&mut tx, org.id).await? } else { 0 };
    if unlinked > 0 {
        changes.insert("identitiesUnlinked".to_owned(), json!(unlinked));
    }
    let event = if before.is_some() { "sso.edit" } else { "sso.enable" };
    audit_entry(&mut tx, &org, actor.id, event, ip, serde_json::Value::Object(changes), now).await?;
    tx.commit().await?;
    tracing::info!(org_id = org.id, event, "identity provider saved");
    let actor_linked = actor_linked && !issuer_changes;
    Ok(ProviderSettings { org, provider: Some(row), actor_linked, redirect_uri: redirect_uri(state) })
}

/// Removes the organization's provider and every identity linked to it (owners).
pub async fn remove(state: &AppState, actor: &UserRow, slug: &str, ip: Option<&str>) -> Result<(), SsoError> {
    let org = owner(state, actor, slug).await?.org;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let Some(before) = sso::provider(&mut tx, org.id).await? else { return Err(SsoError::NotFound) };
    sso::delete_provider(&mut tx, org.id).await?;
    let unlinked = sso::delete_identities(&mut tx, org.id).await?;
    let data = json!({"issuer": before.issuer, "displayName": before.display_name, "identitiesUnlinked": unlinked});
    audit_entry(&mut tx, &org, actor.id, "sso.disable", ip, data, now).await?;
    tx.commit().await?;
    state.oidc.forget(&before.issuer);
    Ok(())
}

async fn audit_entry(
    tx: &mut db::Conn,
    org: &OrgRow,
    actor_id: i64,
    event: &str,
    ip: Option<&str>,
    data: serde_json::Value,
    now: i64,
) -> Result<(), sqlx::Error> {
    audit::insert(
        tx,
        audit::NewEntry {
            org_id: org.id,
            actor_id: Some(actor_id),
            event,
            target_member_id: None,
            target_user_id: None,
            target_email: None,
            ip,
            data,
            now,
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Signing in

/// What the sign-in page of an organization shows.
#[derive(Debug, Clone)]
pub struct LoginPage {
    pub org: OrgRow,
    pub provider_name: String,
    pub require_sso: bool,
    pub signed_in: Option<UserRow>,
    pub linked: bool,
    pub notice: Option<String>,
    /// The origin of the provider's authorization endpoint: the page's form leads there
    /// (through the start redirect), so its `form-action` policy must allow it.
    pub authorization_origin: Option<String>,
}

/// The organization's sign-in page, with the notice of the last SSO attempt (shown once).
pub async fn login_page(state: &AppState, session: &Session, slug: &str) -> Result<LoginPage, SsoError> {
    let mut conn = state.db.conn().await?;
    let org = organizations::find_by_slug(&mut conn, slug).await?.ok_or(SsoError::NotFound)?;
    let provider = sso::provider(&mut conn, org.id).await?.ok_or(SsoError::NotFound)?;
    drop(conn);
    let signed_in = super::accounts::current_user(state, session).await.ok();
    let linked = match &signed_in {
        Some(user) => sso::identity_of_user(&mut *state.db.conn().await?, org.id, user.id).await?.is_some(),
        None => false,
    };
    let notice = session::take_sso_notice(session).await?;
    let authorization_origin = match state.oidc.metadata(&provider.issuer).await {
        Ok(metadata) => {
            Some(metadata.authorization_endpoint().url().origin().ascii_serialization()).filter(|o| o != "null")
        }
        Err(err) => {
            tracing::info!(error = %err, "provider discovery failed while rendering its sign-in page");
            None
        }
    };
    Ok(LoginPage {
        org,
        provider_name: provider.display_name,
        require_sso: provider.require_sso,
        signed_in,
        linked,
        notice,
        authorization_origin,
    })
}

/// Starts a sign-in through the organization's provider (SPEC §9.1): remembers `state`,
/// `nonce`, the PKCE verifier, the intent and where to go afterwards in the session;
/// returns the provider's URL. A `link` needs the signed-in account's password (failures
/// count like failed sign-ins).
#[tracing::instrument(skip_all, fields(org = slug, intent = ?intent))]
pub async fn start(
    state: &AppState,
    session: &Session,
    slug: &str,
    intent: Intent,
    password: Option<&Password>,
    next: Option<&str>,
    ip: Option<&str>,
) -> Result<String, SsoError> {
    let mut conn = state.db.conn().await?;
    let org = organizations::find_by_slug(&mut conn, slug).await?.ok_or(SsoError::NotFound)?;
    let provider = sso::provider(&mut conn, org.id).await?.ok_or(SsoError::NotFound)?;
    drop(conn);
    let user_id = match intent {
        Intent::Login => None,
        Intent::Link => {
            let user = super::accounts::current_user(state, session)
                .await
                .map_err(|_| refused("not_signed_in", "Sign in to your account first, then link it."))?;
            let empty = Password::new(String::new());
            super::accounts::reauthenticate(state, &user, password.unwrap_or(&empty), ip).await.map_err(|err| match err {
                super::accounts::ReauthError::WrongPassword => refused(
                    "wrong_password",
                    "That is not your password; nothing was linked. Enter the password you sign in to this site with.",
                ),
                super::accounts::ReauthError::NoPassword => refused(
                    "no_password",
                    "Your account has no password to confirm the link with. Set one (Forgot your password?) and try again.",
                ),
                super::accounts::ReauthError::RateLimited(why) => refused("rate_limited", why),
                super::accounts::ReauthError::Busy => refused("busy", "The server is busy. Please try again in a moment."),
                super::accounts::ReauthError::Internal(err) => SsoError::Internal(err),
            })?;
            Some(user.id)
        }
    };
    let config = provider_config(state, &provider)?;
    let started = state.oidc.start(&config, &redirect_uri(state)).await.map_err(|err| {
        tracing::warn!(error = %err, "SSO start failed");
        refused(
            "provider_unavailable",
            format!("{} could not be reached. Please try again later.", provider.display_name),
        )
    })?;
    session::set_sso_flow(
        session,
        &SsoFlow {
            org_id: org.id,
            org_slug: org.slug.clone(),
            state: started.state,
            nonce: started.nonce,
            pkce_verifier: started.pkce_verifier,
            next: next.and_then(safe_next).map(str::to_owned),
            started_at: db::now(),
            intent,
            user_id,
        },
    )
    .await?;
    Ok(started.authorize_url)
}

/// The query of the provider's redirect back to us.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// How a callback ended: where the browser goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub redirect_to: String,
    pub user_id: i64,
}

const STALE: &str = "This sign-in link has already been used or has expired. Please start again.";

/// The provider's redirect back: checks the flow, validates the ID token, resolves the
/// account, joins the organization when there is a way in, and signs the user in.
#[tracing::instrument(skip_all)]
pub async fn callback(
    state: &AppState,
    session: &Session,
    params: CallbackParams,
    ip: Option<&str>,
) -> Result<Finished, SsoError> {
    let Some(flow) = session::take_sso_flow(session).await? else { return Err(refused("no_flow", STALE)) };
    let given = params.state.unwrap_or_default();
    if !bool::from(given.as_bytes().ct_eq(flow.state.as_bytes())) {
        return Err(refused("state_mismatch", STALE));
    }
    if db::now() - flow.started_at > FLOW_TTL_SECS {
        return Err(refused("flow_expired", STALE));
    }
    // Used once across every request and instance: parallel requests of one session each
    // load the flow before any of them saves its removal, so the session alone cannot
    // tell. One atomic counter per flow (its state's hash, in the window it started in).
    let marker = format!("sso-flow:{}", crate::server::domain::invite::hash_token(&flow.state));
    if rate_limits::hit(&mut *state.db.conn().await?, &marker, flow.started_at).await? > 1 {
        return Err(refused("flow_used", STALE));
    }
    let mut conn = state.db.conn().await?;
    let org = organizations::find_by_id(&mut conn, flow.org_id).await?.ok_or(SsoError::NotFound)?;
    let provider = sso::provider(&mut conn, org.id).await?.ok_or(SsoError::NotFound)?;
    drop(conn);
    let name = provider.display_name.clone();
    if let Some(error) = params.error {
        let why = params.error_description.unwrap_or(error);
        let why: String = why.chars().take(200).collect();
        return Err(refused("provider_error", format!("{name} did not sign you in: {why}")));
    }
    let code = params.code.filter(|c| !c.is_empty()).ok_or_else(|| refused("no_code", STALE))?;
    let config = provider_config(state, &provider)?;
    let claims =
        state.oidc.finish(&config, &redirect_uri(state), &code, &flow.pkce_verifier, &flow.nonce).await.map_err(
            |err| {
                tracing::warn!(error = %err, org_id = org.id, "SSO callback refused");
                match err {
                    OidcError::IdToken { problem, .. } => refused(
                        "invalid_id_token",
                        format!(
                            "The answer from {name} could not be verified ({}); you have not been signed in.",
                            problem.as_str()
                        ),
                    ),
                    OidcError::Exchange(_) => {
                        refused("exchange_failed", format!("{name} did not confirm the sign-in. Please start again."))
                    }
                    OidcError::Discovery(_) => {
                        refused("provider_unavailable", format!("{name} could not be reached. Please try again later."))
                    }
                }
            },
        )?;

    let current = super::accounts::current_user(state, session).await.ok();
    let mut user = resolve_account(state, &org, &provider, &claims, &flow, current.as_ref(), ip).await?;
    let now = db::now();
    session::record_sso_sign_in(session, org.id, user.id, now).await?;
    user.sso_signed_in.push(org.id);
    let proven = claims.email.as_deref().filter(|_| claims.email_verified);
    let joined = join(state, session, &org, &provider, &user, proven, ip).await?;
    let redirect_to = match joined {
        Joined::Member => match flow.next.as_deref().and_then(safe_next) {
            Some(next) => next.to_owned(),
            None => format!("/organizations/{}/", org.slug),
        },
        Joined::InvitePage(path) => path,
        Joined::NotMember(message) => {
            session::set_sso_notice(session, &message).await?;
            format!("/auth/login/{}/", org.slug)
        }
    };
    if current.is_none() {
        if two_factor::is_enrolled(&mut *state.db.conn().await?, user.id).await? {
            // The provider vouched for the identity; this account's own second factor is
            // still asked for, as after a password.
            let pending = session::PendingSecondFactor { user_id: user.id, next: Some(redirect_to) };
            session::set_pending_second_factor(session, &pending).await?;
            return Ok(Finished { redirect_to: "/auth/2fa/".to_owned(), user_id: user.id });
        }
        session::sign_in(session, user.id).await?;
    }
    tracing::info!(user_id = user.id, org_id = org.id, "signed in through SSO");
    Ok(Finished { redirect_to, user_id: user.id })
}

/// Rule 2 of the module: the account this identity signs in to (or is linked to).
async fn resolve_account(
    state: &AppState,
    org: &OrgRow,
    provider: &ProviderRow,
    claims: &VerifiedClaims,
    flow: &SsoFlow,
    current: Option<&UserRow>,
    ip: Option<&str>,
) -> Result<UserRow, SsoError> {
    let name = &provider.display_name;
    let now = db::now();
    let email = claims.email.as_deref().filter(|_| claims.email_verified);
    let mut tx = state.db.begin().await?;
    let identity = sso::identity_by_subject(&mut tx, org.id, &claims.subject).await?;
    let choice = choose_account(flow.intent, flow.user_id, current.map(|u| u.id), identity.as_ref().map(|i| i.user_id)).map_err(|why| match why {
        AccountRefusal::LinkNotYours => refused(
            "link_not_yours",
            "The account that asked for this link is no longer the one signed in here, so nothing was linked. Sign in and start again.",
        ),
        AccountRefusal::IdentityTaken => {
            refused("identity_taken", format!("This {name} identity is linked to another account. Sign out first to use it."))
        }
        AccountRefusal::NotLinked => refused(
            "not_linked",
            format!("Your account is not linked to {name}. To link it, choose \"Link\" on this page and confirm with your password."),
        ),
    })?;
    let (user, created) = match choice {
        AccountChoice::Linked(user_id) => {
            let user = users::find_by_id(&mut tx, user_id).await?.filter(|u| u.is_active);
            let user =
                user.ok_or_else(|| refused("account_disabled", "The account linked to this identity is disabled."))?;
            if let Some(identity) = &identity {
                sso::touch_identity(&mut tx, identity.id, claims.email.as_deref(), now).await?;
            }
            tx.commit().await?;
            return Ok(user);
        }
        // The signed-in account asked for this link with its password, in this flow.
        AccountChoice::LinkCurrent => (current.cloned().ok_or_else(|| refused("link_not_yours", STALE))?, false),
        AccountChoice::New => {
            let Some(email) = email else {
                return Err(refused(
                    "email_not_verified",
                    format!("{name} did not confirm an email address for this identity, so no account can be created. Ask your administrator, or sign in with your password first and then link {name} to your account."),
                ));
            };
            if users::email_exists(&mut tx, email).await? {
                // Never take over an account because an email claim matches it.
                return Err(account_exists(email, name));
            }
            if !may_join(&mut tx, state, org, provider, email).await? {
                return Err(refused(
                    "not_invited",
                    format!("{} has no invitation for {email}, so no account was created. Ask an owner of {} to invite you.", org.name, org.name),
                ));
            }
            (create_account(&mut tx, claims, email, name, now).await?, true)
        }
    };
    match sso::insert_identity(&mut tx, org.id, user.id, &claims.subject, claims.email.as_deref(), now).await {
        Ok(_) => {}
        Err(err) if db::is_unique_violation(&err) => {
            return Err(refused(
                "already_linked",
                format!("Your account is already linked to another {name} identity."),
            ))
        }
        Err(err) => return Err(err.into()),
    }
    audit::insert(
        &mut tx,
        audit::NewEntry {
            org_id: org.id,
            actor_id: Some(user.id),
            event: "sso.identity-link",
            target_member_id: None,
            target_user_id: Some(user.id),
            target_email: claims.email.as_deref(),
            ip,
            data: json!({"email": claims.email, "emailVerified": claims.email_verified, "accountCreated": created}),
            now,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, org_id = org.id, created, "identity linked");
    Ok(user)
}

/// Whether someone new with this verified address has a way into the organization, so
/// that creating their account is worth it: an approved, unexpired invite for the address
/// (read from the database, never from the session, whose copy may be stale), or
/// just-in-time membership — the latter only while registration is open (§9.10: with
/// `invite_only` or `closed`, the provider creates accounts only for addresses holding an
/// invite). Requests are not a way in (§5.7).
async fn may_join(
    tx: &mut db::Conn,
    state: &AppState,
    org: &OrgRow,
    provider: &ProviderRow,
    email: &str,
) -> Result<bool, SsoError> {
    let invited = members::pending_for_email(tx, org.id, email).await?.is_some_and(|r| {
        r.invite_status == "approved" && !crate::server::domain::invite::is_expired(r.token_expires_at, db::now())
    });
    let registration_open = state.config.registration == crate::server::domain::RegistrationMode::Open;
    Ok(invited || (provider.allow_jit_membership && registration_open))
}

/// An existing account is never signed into because an email claim matches it.
fn account_exists(email: &str, provider_name: &str) -> SsoError {
    refused(
        "account_exists",
        format!("An account with {email} already exists. Sign in with your password first, then link {provider_name} to it."),
    )
}

async fn create_account(
    tx: &mut db::Conn,
    claims: &VerifiedClaims,
    email: &str,
    provider_name: &str,
    now: i64,
) -> Result<UserRow, SsoError> {
    let address = EmailAddress::parse(email)
        .map_err(|_| refused("bad_email", format!("{email} is not an address this site accepts.")))?;
    let fallback = address.as_str().split('@').next().unwrap_or("member").to_owned();
    let name = claims
        .name
        .as_deref()
        .and_then(|n| DisplayName::parse(n).ok())
        .or_else(|| DisplayName::parse(&fallback).ok())
        .ok_or_else(|| refused("bad_name", "The identity provider sent no usable name."))?;
    let new = users::NewUser {
        email: address.as_str(),
        name: name.as_str(),
        password_hash: None,
        email_verified: true,
        is_superuser: false,
        now,
    };
    match users::insert(tx, new).await {
        Ok(user) => Ok(user),
        // Registered meanwhile, by another request.
        Err(err) if db::is_unique_violation(&err) => Err(account_exists(email, provider_name)),
        Err(err) => Err(err.into()),
    }
}

enum Joined {
    Member,
    InvitePage(String),
    NotMember(String),
}

/// Rule 4 of the module.
async fn join(
    state: &AppState,
    session: &Session,
    org: &OrgRow,
    provider: &ProviderRow,
    user: &UserRow,
    proven: Option<&str>,
    ip: Option<&str>,
) -> Result<Joined, SsoError> {
    // The invite this browser opened, for this organization: accepted on the way back only
    // when it was addressed to this account or to the address the provider just proved
    // (§4.3 step 4); otherwise the invite page offers the user's own Join click.
    if let Some(pending) = accept::pending_link(state, session).await? {
        if pending.pending.org_id == org.id {
            if !accept::may_accept_implicitly(&pending.pending, user, proven) {
                return Ok(Joined::InvitePage(pending.link.page_path()));
            }
            return match accept::accept_as(state, session, &pending.link, Some(user.clone()), proven, ip).await {
                Ok(_) => Ok(Joined::Member),
                Err(AcceptError::Refused(Refusal::ExistingMember)) => Ok(Joined::Member),
                Err(AcceptError::Internal(err)) => Err(SsoError::Internal(err)),
                Err(_) => Ok(Joined::InvitePage(pending.link.page_path())),
            };
        }
    }
    if members::membership(&mut *state.db.conn().await?, org.id, user.id).await?.is_some() {
        return Ok(Joined::Member);
    }
    let Some(email) = proven else {
        return Ok(Joined::NotMember(not_member(org, provider)));
    };
    // A pending invite for the address the provider verified.
    match accept::accept_for_email(state, session, org.id, email, user.clone(), ip).await {
        Ok(Some(_)) => return Ok(Joined::Member),
        Ok(None) => {}
        Err(AcceptError::Internal(err)) => return Err(SsoError::Internal(err)),
        Err(refusal) => return Ok(Joined::NotMember(format!("You could not join {} yet: {refusal}", org.name))),
    }
    add_member(state, org, provider, user, email, ip).await
}

fn not_member(org: &OrgRow, provider: &ProviderRow) -> String {
    format!(
        "You signed in with {}, but you are not a member of {} and it does not add members automatically. Ask an owner of {} to invite you.",
        provider.display_name, org.name, org.name
    )
}

/// Just-in-time membership with the organization's default role, when the provider allows
/// it (accounts themselves are created only while registration is open: [`may_join`]). An
/// invite request or join request for the address never becomes the membership (§5.7):
/// it is deleted, since it is pointless once the person is a member with the default role.
async fn add_member(
    state: &AppState,
    org: &OrgRow,
    provider: &ProviderRow,
    user: &UserRow,
    email: &str,
    ip: Option<&str>,
) -> Result<Joined, SsoError> {
    if !provider.allow_jit_membership {
        return Ok(Joined::NotMember(not_member(org, provider)));
    }
    let now = db::now();
    let mut tx = state.db.begin().await?;
    organizations::lock_seats(&mut tx, state.db.kind(), org.id).await?;
    let org = organizations::find_by_id(&mut tx, org.id).await?.ok_or(SsoError::NotFound)?;
    if org.require_2fa && !two_factor::is_enrolled(&mut tx, user.id).await? {
        return Ok(Joined::NotMember(format!(
            "{} requires two-factor authentication. Set it up under Security, then sign in with {} again.",
            org.name, provider.display_name
        )));
    }
    let seats = members::seats_used(&mut tx, org.id).await?;
    if org.member_limit.is_some_and(|limit| seats >= limit) {
        return Ok(Joined::NotMember(format!("{} has no seats left. Ask an owner to make room.", org.name)));
    }
    if let Some(request) =
        members::pending_for_email(&mut tx, org.id, email).await?.filter(|r| r.invite_status != "approved")
    {
        members::delete_pending(&mut tx, request.id).await?;
    }
    let role = org.default_role.clone();
    let row = match members::insert_membership(&mut tx, org.id, user.id, &role, now).await {
        Ok(row) => row,
        Err(err) if db::is_unique_violation(&err) => return Ok(Joined::Member),
        Err(err) => return Err(err.into()),
    };
    audit::insert(
        &mut tx,
        audit::NewEntry {
            org_id: org.id,
            actor_id: Some(user.id),
            event: "member.add",
            target_member_id: Some(row.id),
            target_user_id: Some(user.id),
            target_email: Some(email),
            ip,
            data: json!({"email": email, "role": role, "via": "sso", "invite_status": "just_in_time"}),
            now,
        },
    )
    .await?;
    outbox::queue_event(
        &mut tx,
        "member.joined",
        org.id,
        &json!({"memberId": row.id, "userId": user.id, "viaInvite": false}),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(member_id = row.id, user_id = user.id, org_id = org.id, "member added through SSO");
    Ok(Joined::Member)
}

/// The identities linked to a user's account: `(organization slug, organization name,
/// provider name, email at the provider, linked at)`.
pub async fn identities(state: &AppState, user: &UserRow) -> Result<Vec<LinkedIdentity>, SsoError> {
    let rows = sso::identities_of_user(&mut *state.db.conn().await?, user.id).await?;
    Ok(rows
        .into_iter()
        .map(|(identity, org_slug, org_name, provider_name)| LinkedIdentity {
            org_slug,
            org_name,
            provider_name,
            email: identity.email,
            linked_at: identity.created_at,
        })
        .collect())
}

/// Organizations of the user whose provider they could link (the security page).
pub async fn linkable(state: &AppState, user: &UserRow) -> Result<Vec<(String, String, String)>, SsoError> {
    Ok(sso::linkable_orgs(&mut *state.db.conn().await?, user.id).await?)
}

/// Unlinks the user's own identity at an organization's provider (audited). Signing in
/// there again needs a new link, with the password.
pub async fn unlink(state: &AppState, user: &UserRow, slug: &str, ip: Option<&str>) -> Result<(), SsoError> {
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let org = organizations::find_by_slug(&mut tx, slug).await?.ok_or(SsoError::NotFound)?;
    if !sso::delete_identity_of_user(&mut tx, org.id, user.id).await? {
        return Err(SsoError::NotFound);
    }
    audit::insert(
        &mut tx,
        audit::NewEntry {
            org_id: org.id,
            actor_id: Some(user.id),
            event: "sso.identity-unlink",
            target_member_id: None,
            target_user_id: Some(user.id),
            target_email: Some(&user.email),
            ip,
            data: json!({"email": user.email}),
            now,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, org_id = org.id, "identity unlinked");
    Ok(())
}

/// One identity linked to an account, as the account pages and the API show it.
#[derive(Debug, Clone)]
pub struct LinkedIdentity {
    pub org_slug: String,
    pub org_name: String,
    pub provider_name: String,
    pub email: Option<String>,
    pub linked_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issuer_is_https_or_a_loopback_http_url_without_query() {
        assert_eq!(parse_issuer(" https://id.example.com/realms/acme ").unwrap(), "https://id.example.com/realms/acme");
        assert!(parse_issuer("http://127.0.0.1:8080").is_ok());
        assert!(parse_issuer("http://localhost:8080").is_ok());
        assert!(parse_issuer("http://id.example.com").is_err(), "plain http off the machine");
        assert!(parse_issuer("ftp://id.example.com").is_err());
        assert!(parse_issuer("https://id.example.com/?x=1").is_err());
        assert!(parse_issuer("not a url").is_err());
        assert!(parse_issuer("").is_err());
    }
}
