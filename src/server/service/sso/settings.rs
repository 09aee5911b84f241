//! The provider an organization's owners manage: its settings, saving it (after a
//! discovery check) and removing it.

use serde_json::json;

use super::{provider_config, redirect_uri, sealing_key, SsoError};
use crate::server::db::organizations::OrgRow;
use crate::server::db::sso::ProviderRow;
use crate::server::db::users::UserRow;
use crate::server::db::{self, audit, sso};
use crate::server::domain::{required_text, FieldErrors, Role};
use crate::server::outbound::Category;
use crate::server::service::organizations::{self as orgs, Membership};
use crate::server::state::AppState;

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
    let org = owner(state, actor, slug).await?.org;
    let mut conn = state.db.conn().await?;
    let before = sso::provider(&mut conn, org.id).await?;
    let actor_linked = sso::identity_of_user(&mut conn, org.id, actor.id).await?.is_some();
    drop(conn);

    let form = check_form(state, &input, before.as_ref(), actor_linked)?;
    check_discovery(state, org.id, &form.issuer).await?;

    let now = db::now();
    let row = ProviderRow {
        organization_id: org.id,
        issuer: form.issuer.clone(),
        client_id: form.client_id,
        client_secret_sealed: sealing_key(state).seal(org.id, &form.client_secret),
        display_name: form.display_name,
        require_sso: form.require_sso,
        allow_jit_membership: form.allow_jit_membership,
        created_at: before.as_ref().map_or(now, |p| p.created_at),
        updated_at: now,
    };
    let mut changes = changes(before.as_ref(), &row, form.secret_changed);

    let mut tx = state.db.begin().await?;
    sso::save_provider(&mut tx, &row).await?;
    let unlinked = if form.issuer_changes { sso::delete_identities(&mut tx, org.id).await? } else { 0 };
    if unlinked > 0 {
        changes.insert("identitiesUnlinked".to_owned(), json!(unlinked));
    }
    let event = if before.is_some() { "sso.edit" } else { "sso.enable" };
    audit_entry(&mut tx, &org, actor.id, event, ip, serde_json::Value::Object(changes), now).await?;
    tx.commit().await?;
    tracing::info!(org_id = org.id, event, "identity provider saved");
    let actor_linked = actor_linked && !form.issuer_changes;
    Ok(ProviderSettings { org, provider: Some(row), actor_linked, redirect_uri: redirect_uri(state) })
}

/// The provider form once checked: what [`save`] stores.
struct CheckedForm {
    issuer: String,
    client_id: String,
    display_name: String,
    client_secret: String,
    require_sso: bool,
    allow_jit_membership: bool,
    /// There was a provider, with another issuer: its identities are unlinked.
    issuer_changes: bool,
    /// A new client secret was typed (audited as "changed", never its value).
    secret_changed: bool,
}

/// Checks the form against the stored provider (`before`), whose values fill what the form
/// leaves out; every field's errors at once.
fn check_form(
    state: &AppState,
    input: &ProviderInput,
    before: Option<&ProviderRow>,
    actor_linked: bool,
) -> Result<CheckedForm, SsoError> {
    let mut errors = FieldErrors::new();
    let pick = |new: &Option<String>, old: Option<&String>| new.clone().or_else(|| old.cloned()).unwrap_or_default();
    let issuer = errors.check("issuer", parse_issuer(&pick(&input.issuer, before.map(|p| &p.issuer))));
    let client_id = errors.check("clientId", required_text(&pick(&input.client_id, before.map(|p| &p.client_id)), 255));
    let display_name =
        errors.check("displayName", required_text(&pick(&input.display_name, before.map(|p| &p.display_name)), 64));
    let new_secret = input.client_secret.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let issuer_changes = before.is_some_and(|p| Some(&p.issuer) != issuer.as_ref());
    let client_secret = match (new_secret, before) {
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
    let require_sso = input.require_sso.unwrap_or(before.is_some_and(|p| p.require_sso));
    let allow_jit_membership = input.allow_jit_membership.unwrap_or(before.is_some_and(|p| p.allow_jit_membership));
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
    Ok(CheckedForm {
        issuer,
        client_id,
        display_name,
        client_secret,
        require_sso,
        allow_jit_membership,
        issuer_changes,
        secret_changed: new_secret.is_some(),
    })
}

/// The provider must answer discovery before it is saved (catches typos at once).
async fn check_discovery(state: &AppState, org_id: i64, issuer: &str) -> Result<(), SsoError> {
    state.oidc.forget(issuer);
    if let Err(err) = state.oidc.metadata(issuer).await {
        // The owner gets a category, never the error chain or the answer's body: those
        // would let an owner probe what the server can reach (SPEC §9.9). The log has all.
        tracing::warn!(error = %err, category = %err.category(), org_id, "provider discovery failed");
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
    Ok(())
}

/// What a save changes, for the audit log: `{field: {from, to}}` for each changed value,
/// and the client secret only as "changed".
fn changes(
    before: Option<&ProviderRow>,
    row: &ProviderRow,
    secret_changed: bool,
) -> serde_json::Map<String, serde_json::Value> {
    let mut changes = serde_json::Map::new();
    let mut note = |field: &str, from: serde_json::Value, to: serde_json::Value| {
        if from != to {
            changes.insert(field.to_owned(), json!({"from": from, "to": to}));
        }
    };
    note("issuer", json!(before.map(|p| &p.issuer)), json!(row.issuer));
    note("clientId", json!(before.map(|p| &p.client_id)), json!(row.client_id));
    note("displayName", json!(before.map(|p| &p.display_name)), json!(row.display_name));
    note("requireSso", json!(before.map(|p| p.require_sso)), json!(row.require_sso));
    note("allowJitMembership", json!(before.map(|p| p.allow_jit_membership)), json!(row.allow_jit_membership));
    if secret_changed {
        changes.insert("clientSecret".to_owned(), json!("changed"));
    }
    changes
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
