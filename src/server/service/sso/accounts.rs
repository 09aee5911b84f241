//! Which account an identity signs in to (rule 2 of the module), and the identities linked
//! to an account: listing and unlinking them.

use serde_json::json;

use super::joining::may_join;
use super::{refused, SsoError, STALE};
use crate::server::auth::oidc::VerifiedClaims;
use crate::server::auth::session::SsoFlow;
use crate::server::db::organizations::OrgRow;
use crate::server::db::sso::ProviderRow;
use crate::server::db::users::UserRow;
use crate::server::db::{self, audit, organizations, sso, users};
use crate::server::domain::sso::{choose_account, AccountChoice, AccountRefusal};
use crate::server::domain::{DisplayName, EmailAddress};
use crate::server::state::AppState;

/// Rule 2 of the module: the account this identity signs in to (or is linked to).
pub(super) async fn resolve_account(
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
    let mut tx = state.db.begin().await?;
    let identity = sso::identity_by_subject(&mut tx, org.id, &claims.subject).await?;
    let choice = choose_account(flow.intent, flow.user_id, current.map(|u| u.id), identity.as_ref().map(|i| i.user_id))
        .map_err(|why| account_refusal(why, name))?;
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
        AccountChoice::New => (new_account(&mut tx, state, org, provider, claims, now).await?, true),
    };
    link_identity(&mut tx, provider, &user, claims, created, ip, now).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, org_id = org.id, created, "identity linked");
    Ok(user)
}

/// Why the identity cannot sign in to an account, in words (`name` is the provider's).
fn account_refusal(why: AccountRefusal, name: &str) -> SsoError {
    match why {
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
    }
}

/// A new account for an identity nobody has linked: only for an email the provider
/// verified, that no account has, with a way into the organization ([`may_join`]).
async fn new_account(
    tx: &mut db::Conn,
    state: &AppState,
    org: &OrgRow,
    provider: &ProviderRow,
    claims: &VerifiedClaims,
    now: i64,
) -> Result<UserRow, SsoError> {
    let name = &provider.display_name;
    let Some(email) = claims.email.as_deref().filter(|_| claims.email_verified) else {
        return Err(refused(
            "email_not_verified",
            format!("{name} did not confirm an email address for this identity, so no account can be created. Ask your administrator, or sign in with your password first and then link {name} to your account."),
        ));
    };
    if users::email_exists(tx, email).await? {
        // Never take over an account because an email claim matches it.
        return Err(account_exists(email, name));
    }
    if !may_join(tx, state, org, provider, email).await? {
        return Err(refused(
            "not_invited",
            format!(
                "{} has no invitation for {email}, so no account was created. Ask an owner of {} to invite you.",
                org.name, org.name
            ),
        ));
    }
    create_account(state, tx, claims, email, name, now).await
}

/// Links the identity at the organization's provider to the account (audited, with
/// whether the account was just created).
async fn link_identity(
    tx: &mut db::Conn,
    provider: &ProviderRow,
    user: &UserRow,
    claims: &VerifiedClaims,
    created: bool,
    ip: Option<&str>,
    now: i64,
) -> Result<(), SsoError> {
    let org_id = provider.organization_id;
    match sso::insert_identity(tx, org_id, user.id, &claims.subject, claims.email.as_deref(), now).await {
        Ok(_) => {}
        Err(err) if db::is_unique_violation(&err) => {
            return Err(refused(
                "already_linked",
                format!("Your account is already linked to another {} identity.", provider.display_name),
            ))
        }
        Err(err) => return Err(err.into()),
    }
    audit::insert(
        tx,
        audit::NewEntry {
            org_id,
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
    Ok(())
}

/// An existing account is never signed into because an email claim matches it.
fn account_exists(email: &str, provider_name: &str) -> SsoError {
    refused(
        "account_exists",
        format!("An account with {email} already exists. Sign in with your password first, then link {provider_name} to it."),
    )
}

/// A new account for what the provider vouched for. Its address is not marked verified:
/// any owner can set up a provider that claims any address, so its word is proof only in
/// its own organization (where the sign-in passes it along as `proof`), never for other
/// organizations' invites, join links or verification policies; the account gets the
/// usual verification mail.
async fn create_account(
    state: &AppState,
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
        email_verified: false,
        is_superuser: false,
        now,
    };
    match users::insert(tx, new).await {
        Ok(user) => {
            crate::server::service::emails::queue(state, tx, &user, now).await?;
            crate::server::metrics::registered("sso");
            Ok(user)
        }
        // Registered meanwhile, by another request.
        Err(err) if db::is_unique_violation(&err) => Err(account_exists(email, provider_name)),
        Err(err) => Err(err.into()),
    }
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
