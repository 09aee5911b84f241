//! Signing in through the provider: the organization's sign-in page, starting a flow
//! (rule 1 of the module) and the provider's callback, which applies the other rules.

use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::accounts::resolve_account;
use super::joining::{join, Joined};
use super::{provider_config, redirect_uri, refused, SsoError, STALE};
use crate::server::auth::oidc::{OidcError, VerifiedClaims};
use crate::server::auth::session::{self, SsoFlow};
use crate::server::db::organizations::OrgRow;
use crate::server::db::sso::ProviderRow;
use crate::server::db::users::UserRow;
use crate::server::db::{self, organizations, rate_limits, sso, two_factor};
use crate::server::domain::next::safe_next;
use crate::server::domain::sso::Intent;
use crate::server::domain::Password;
use crate::server::service::accounts::{current_user, reauthenticate, CurrentUserError, ReauthError};
use crate::server::service::problem::BUSY;
use crate::server::state::AppState;

/// How long a started sign-in may take at the provider.
pub const FLOW_TTL_SECS: i64 = 600;

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
    let signed_in = current_user(state, session).await.ok();
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
        Intent::Link => Some(link_requester(state, session, password, ip).await?),
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

/// The account a `link` flow is for: the signed-in one, confirmed with its password.
async fn link_requester(
    state: &AppState,
    session: &Session,
    password: Option<&Password>,
    ip: Option<&str>,
) -> Result<i64, SsoError> {
    let user = current_user(state, session).await.map_err(|err| match err {
        CurrentUserError::Anonymous => refused("not_signed_in", "Sign in to your account first, then link it."),
        CurrentUserError::Internal(err) => SsoError::Internal(err),
    })?;
    let empty = Password::new(String::new());
    reauthenticate(state, &user, password.unwrap_or(&empty), ip).await.map_err(|err| match err {
        ReauthError::WrongPassword => refused(
            "wrong_password",
            "That is not your password; nothing was linked. Enter the password you sign in to this site with.",
        ),
        ReauthError::NoPassword => refused(
            "no_password",
            "Your account has no password to confirm the link with. Set one (Forgot your password?) and try again.",
        ),
        ReauthError::RateLimited(why) => refused("rate_limited", why),
        ReauthError::Busy => refused("busy", BUSY),
        ReauthError::Internal(err) => SsoError::Internal(err),
    })?;
    Ok(user.id)
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

/// The provider's redirect back: checks the flow, validates the ID token, resolves the
/// account, joins the organization when there is a way in, and signs the user in.
#[tracing::instrument(skip_all)]
pub async fn callback(
    state: &AppState,
    session: &Session,
    params: CallbackParams,
    ip: Option<&str>,
) -> Result<Finished, SsoError> {
    let flow = take_flow(state, session, params.state.as_deref().unwrap_or_default()).await?;
    let mut conn = state.db.conn().await?;
    let org = organizations::find_by_id(&mut conn, flow.org_id).await?.ok_or(SsoError::NotFound)?;
    let provider = sso::provider(&mut conn, org.id).await?.ok_or(SsoError::NotFound)?;
    drop(conn);
    let claims = verified_claims(state, &org, &provider, &flow, params).await?;

    let current = current_user(state, session).await.ok();
    let mut user = resolve_account(state, &org, &provider, &claims, &flow, current.as_ref(), ip).await?;
    let now = db::now();
    session::record_sso_sign_in(session, org.id, user.id, now).await?;
    user.sso_signed_in.push(org.id);
    let proven = claims.email.as_deref().filter(|_| claims.email_verified);
    let mut joined = join(state, session, &org, &provider, &user, proven, ip).await?;
    if matches!(joined, Joined::NotMember(_)) {
        // A join link of this organization opened before signing in: back to its page,
        // where Join now finds the provider's sign-in done (SPEC §5.9).
        let pending = crate::server::service::join_links::pending(state, session)
            .await
            .map_err(|err| SsoError::Internal(anyhow::anyhow!("the pending join link: {err}")))?;
        if let Some((_, path)) = pending.filter(|(link, _)| link.org_id == org.id) {
            joined = Joined::InvitePage(path);
        }
    }
    let redirect_to = destination(session, &org, &flow, joined).await?;
    if current.is_none() {
        if two_factor::is_enrolled(&mut *state.db.conn().await?, user.id).await? {
            // The provider vouched for the identity; this account's own second factor is
            // still asked for, as after a password.
            let pending = session::PendingSecondFactor { user_id: user.id, next: Some(redirect_to) };
            session::set_pending_second_factor(session, &pending).await?;
            return Ok(Finished { redirect_to: "/auth/2fa/".to_owned(), user_id: user.id });
        }
        session::sign_in(session, user.id, session::SignIn::Sso).await?;
    }
    tracing::info!(user_id = user.id, org_id = org.id, "signed in through SSO");
    Ok(Finished { redirect_to, user_id: user.id })
}

/// Rule 1 of the module: the flow this session started, taken out of it, if `given` is its
/// `state`, it is not older than [`FLOW_TTL_SECS`] and no other request used it.
async fn take_flow(state: &AppState, session: &Session, given: &str) -> Result<SsoFlow, SsoError> {
    let Some(flow) = session::take_sso_flow(session).await? else { return Err(refused("no_flow", STALE)) };
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
    Ok(flow)
}

/// What the provider vouches for: its error if it sent one, else the claims of the ID
/// token it gives for the code, validated fully.
async fn verified_claims(
    state: &AppState,
    org: &OrgRow,
    provider: &ProviderRow,
    flow: &SsoFlow,
    params: CallbackParams,
) -> Result<VerifiedClaims, SsoError> {
    let name = provider.display_name.clone();
    if let Some(error) = params.error {
        let why = params.error_description.unwrap_or(error);
        let why: String = why.chars().take(200).collect();
        return Err(refused("provider_error", format!("{name} did not sign you in: {why}")));
    }
    let code = params.code.filter(|c| !c.is_empty()).ok_or_else(|| refused("no_code", STALE))?;
    let config = provider_config(state, provider)?;
    state.oidc.finish(&config, &redirect_uri(state), &code, &flow.pkce_verifier, &flow.nonce).await.map_err(|err| {
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
    })
}

/// Where the browser goes once the account is known: the flow's `next` (else the
/// organization) for a member, the invite page when an invite waits for the user's own
/// click, else the organization's sign-in page with a notice saying why.
async fn destination(session: &Session, org: &OrgRow, flow: &SsoFlow, joined: Joined) -> Result<String, SsoError> {
    Ok(match joined {
        Joined::Member => match flow.next.as_deref().and_then(safe_next) {
            Some(next) => next.to_owned(),
            None => format!("/organizations/{}/", org.slug),
        },
        Joined::InvitePage(path) => path,
        Joined::NotMember(message) => {
            session::set_sso_notice(session, &message).await?;
            format!("/auth/login/{}/", org.slug)
        }
    })
}
