//! `/organizations/{slug}/settings/auth/`: the organization's OpenID Connect provider
//! (owners), SPEC §3 `auth-provider`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{org_nav, refusal_view, slug_param};
use crate::app::auth::SsoButton;
use crate::app::components::{Checkbox, ErrorSummary, Field, FormError};
use crate::app::wire::{AppError, AuthProviderView, Role};

/// The provider's settings as the owner sees them (never the client secret).
#[server(prefix = "/_fn", endpoint = "orgs/auth-provider")]
pub async fn auth_provider(slug: String) -> Result<AuthProviderView, AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::sso;
    let (state, _, user) = sfn::user_context().await?;
    let s = sso::settings(&state, &user, &slug).await?;
    let p = s.provider.as_ref();
    Ok(AuthProviderView {
        slug: s.org.slug.clone(),
        org_name: s.org.name.clone(),
        configured: p.is_some(),
        issuer: p.map(|p| p.issuer.clone()).unwrap_or_default(),
        client_id: p.map(|p| p.client_id.clone()).unwrap_or_default(),
        display_name: p.map(|p| p.display_name.clone()).unwrap_or_default(),
        require_sso: p.is_some_and(|p| p.require_sso),
        allow_jit_membership: p.is_some_and(|p| p.allow_jit_membership),
        redirect_uri: s.redirect_uri,
        you_are_linked: s.actor_linked,
    })
}

/// Saves the provider form. An empty client secret keeps the stored one; checkboxes
/// arrive only when ticked.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/_fn", endpoint = "orgs/auth-provider-save")]
pub async fn save_auth_provider(
    slug: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    display_name: String,
    require_sso: Option<String>,
    allow_jit_membership: Option<String>,
) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::sso::{self, ProviderInput};
    let (state, _, user) = sfn::user_context().await?;
    let values = sfn::values([("issuer", &issuer), ("client_id", &client_id), ("display_name", &display_name)]);
    let input = ProviderInput {
        issuer: Some(issuer.clone()),
        client_id: Some(client_id.clone()),
        client_secret: Some(client_secret),
        display_name: Some(display_name.clone()),
        require_sso: Some(require_sso.is_some()),
        allow_jit_membership: Some(allow_jit_membership.is_some()),
    };
    let ip = sfn::client_ip().await;
    match sso::save(&state, &user, &slug, input, ip.as_deref()).await {
        Ok(saved) => {
            leptos_axum::redirect(&format!("/organizations/{}/settings/auth/?saved=1", saved.org.slug));
            Ok(())
        }
        Err(err) => Err(sfn::with_values(err, values)),
    }
}

/// Removes the provider (and unlinks every identity).
#[server(prefix = "/_fn", endpoint = "orgs/auth-provider-remove")]
pub async fn remove_auth_provider(slug: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::sso;
    let (state, _, user) = sfn::user_context().await?;
    let ip = sfn::client_ip().await;
    sso::remove(&state, &user, &slug, ip.as_deref()).await?;
    leptos_axum::redirect(&format!("/organizations/{slug}/settings/auth/?removed=1"));
    Ok(())
}

/// `/organizations/{slug}/settings/auth/`: the provider of the organization (owners).
#[component]
pub fn AuthProviderPage() -> impl IntoView {
    let slug = slug_param();
    let save = ServerAction::<SaveAuthProvider>::new();
    let remove = ServerAction::<RemoveAuthProvider>::new();
    let settings = Resource::new_blocking(
        move || (slug.get(), save.version().get(), remove.version().get()),
        |(slug, _, _)| auth_provider(slug),
    );
    let form = FormError::new(Signal::derive(move || save.value().get().and_then(Result::err)));
    let query = use_query_map();
    let saved = move || query.read().get("saved").is_some() || matches!(save.value().get(), Some(Ok(())));
    let removed = move || query.read().get("removed").is_some() || matches!(remove.value().get(), Some(Ok(())));
    view! {
        <Title text="Single sign-on"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match settings.await {
                    Err(err) => refusal_view(err),
                    Ok(p) => view! {
                        <ProviderCard p save remove form saved=Signal::derive(saved) removed=Signal::derive(removed)/>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// The organization's provider: the redirect URI to register, the owner's own link, the
/// provider's form and its removal.
#[component]
fn ProviderCard(
    p: AuthProviderView,
    save: ServerAction<SaveAuthProvider>,
    remove: ServerAction<RemoveAuthProvider>,
    form: FormError,
    saved: Signal<bool>,
    removed: Signal<bool>,
) -> impl IntoView {
    let (configured, slug, provider_name) = (p.configured, p.slug.clone(), p.display_name.clone());
    view! {
        <section class="card">
            <h1>{p.org_name.clone()} " · Single sign-on"</h1>
            {org_nav(&p.slug, Role::Owner, true, "Single sign-on")}
            {move || saved.get().then(|| view! { <p class="alert success" role="status">"Identity provider saved."</p> })}
            {move || removed.get().then(|| view! { <p class="alert success" role="status">"Identity provider removed."</p> })}
            <p>
                "Connect " {p.org_name.clone()} " to an OpenID Connect provider (Okta, Google Workspace, Keycloak, Microsoft Entra ID…). "
                "Register this redirect URI with the provider:"
            </p>
            <p><code data-testid="redirect-uri">{p.redirect_uri.clone()}</code></p>
            {configured.then(|| view! { <OwnerLink slug=slug.clone() provider_name linked=p.you_are_linked/> })}
            <ProviderForm p save form/>
            {configured.then(|| view! { <RemoveProvider slug remove/> })}
        </section>
    }
}

/// Whether the owner's own account is linked to the provider; if not, the way to link it
/// (requiring single sign-on needs it, so the owner is not locked out).
#[component]
fn OwnerLink(slug: String, provider_name: String, linked: bool) -> impl IntoView {
    if linked {
        view! { <p class="alert success" data-testid="owner-linked">"Your account is linked to " {provider_name} "."</p> }.into_any()
    } else {
        view! {
            <div class="alert info">
                <p>"Link your own account before requiring single sign-on, so you are not locked out."</p>
                <SsoButton slug=slug.clone() label=format!("Link with {}", provider_name)
                    next=format!("/organizations/{}/settings/auth/", slug)/>
            </div>
        }
        .into_any()
    }
}

/// The provider's form: what the owner typed last (after an error) or the stored values;
/// never the stored client secret.
#[component]
fn ProviderForm(p: AuthProviderView, save: ServerAction<SaveAuthProvider>, form: FormError) -> impl IntoView {
    let keep = |typed: Option<String>, stored: &str| Some(typed.unwrap_or_else(|| stored.to_owned()));
    let (issuer, client_id, display_name) = (p.issuer.clone(), p.client_id.clone(), p.display_name.clone());
    let secret_hint = if p.configured {
        "Stored encrypted and never shown again. Leave empty to keep the stored secret."
    } else {
        "Stored encrypted and never shown again."
    };
    view! {
        <ActionForm action=save attr:class="form" attr:novalidate=true>
            <ErrorSummary error=form.error()/>
            <input type="hidden" name="slug" value=p.slug.clone()/>
            <Field label="Issuer URL" name="issuer" kind="url" errors=form.field("issuer")
                hint="The provider's issuer; its discovery document is read from {issuer}/.well-known/openid-configuration."
                value=Signal::derive(move || keep(form.value("issuer").get(), &issuer))/>
            <Field label="Client ID" name="client_id" errors=form.field("clientId")
                value=Signal::derive(move || keep(form.value("client_id").get(), &client_id))/>
            <Field label="Client secret" name="client_secret" kind="password" autocomplete="new-password"
                errors=form.field("clientSecret") hint=secret_hint/>
            <Field label="Button label (provider name)" name="display_name" errors=form.field("displayName")
                value=Signal::derive(move || keep(form.value("display_name").get(), &display_name))/>
            <Checkbox name="require_sso" label="Require single sign-on"
                hint="Members must sign in through the provider; invitees join only through it."
                checked=p.require_sso errors=form.field("requireSso")/>
            <Checkbox name="allow_jit_membership" label="Add people who sign in through the provider"
                hint="Anyone the provider signs in with a verified email joins with the default role, without an invite."
                checked=p.allow_jit_membership errors=form.field("allowJitMembership")/>
            <button type="submit" class="primary" disabled=move || save.pending().get()>"Save identity provider"</button>
        </ActionForm>
    }
}

/// Removing the provider, which unlinks every member's identity.
#[component]
fn RemoveProvider(slug: String, remove: ServerAction<RemoveAuthProvider>) -> impl IntoView {
    view! {
        <ActionForm action=remove attr:class="form danger-zone">
            <input type="hidden" name="slug" value=slug/>
            <p class="hint">"Removing the provider unlinks every member's identity."</p>
            <button type="submit" disabled=move || remove.pending().get()>"Remove identity provider"</button>
        </ActionForm>
    }
}
