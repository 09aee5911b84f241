//! `/auth/login/{slug}/`: sign in to an organization through its identity provider, or
//! link the signed-in account to it (SPEC §2, §9.1).
//!
//! The page holds the one form that starts a flow: a plain same-site `POST` to
//! `/auth/login/{slug}/start/` with `intent` (`login`, or `link` with the password), which
//! the server answers with a redirect to the provider — the same with and without
//! JavaScript. The page's `form-action` policy names the provider's authorization origin
//! so the browser may follow that redirect; other pages link here with a full navigation
//! (`rel="external"`), so this page's own policy is always the one in force.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::app::components::encode_query_value;
use crate::app::wire::{AppError, SsoLoginView};

/// What the organization's sign-in page shows; takes the notice of the last attempt.
#[server(prefix = "/_fn", endpoint = "auth/sso-page")]
pub async fn sso_login_page(slug: String) -> Result<SsoLoginView, AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::sso;
    let (state, session) = sfn::context().await?;
    let page = sso::login_page(&state, &session, &slug).await?;
    if let Some(origin) = &page.authorization_origin {
        sfn::allow_form_action(origin);
    }
    Ok(SsoLoginView {
        slug: page.org.slug,
        org_name: page.org.name,
        provider_name: page.provider_name,
        require_sso: page.require_sso,
        signed_in_email: page.signed_in.as_ref().map(|u| u.email.clone()),
        has_password: page.signed_in.as_ref().is_some_and(|u| u.password_hash.is_some()),
        linked: page.linked,
        notice: page.notice,
    })
}

/// A link to the organization's sign-in page, where the flow starts; afterwards the
/// browser goes to `next` (a path on this site) when nothing else is pending.
#[component]
pub fn SsoButton(
    slug: String,
    label: String,
    #[prop(optional)] next: Option<String>,
    #[prop(optional)] primary: bool,
) -> impl IntoView {
    let mut href = format!("/auth/login/{slug}/");
    if let Some(next) = next.filter(|n| n.starts_with('/')) {
        href.push_str("?next=");
        href.push_str(&encode_query_value(&next));
    }
    // `rel="external"`: a full navigation, so the sign-in page's own policy applies.
    view! { <a class="button" class:primary=primary href=href rel="external" data-testid="sso-button">{label}</a> }
}

/// The form that starts a flow: `login`, or `link` with the account's password.
#[component]
fn StartForm(slug: String, label: String, next: Option<String>, link: bool) -> impl IntoView {
    let action = format!("/auth/login/{slug}/start/");
    let password = link.then(|| view! {
        <div class="field">
            <label for="sso-password">"Your password on this site"</label>
            <input id="sso-password" name="password" type="password" autocomplete="current-password" required=true
                aria-describedby="sso-password-hint"/>
            <p class="hint" id="sso-password-hint">"Linking lets the provider sign you in to this account, so it needs your password."</p>
        </div>
    });
    view! {
        <form method="post" action=action class="form" data-testid="sso-form">
            <input type="hidden" name="intent" value=if link { "link" } else { "login" }/>
            {next.filter(|n| n.starts_with('/')).map(|n| view! { <input type="hidden" name="next" value=n/> })}
            {password}
            <button type="submit" class="primary" data-testid="sso-button">{label}</button>
        </form>
    }
}

#[component]
pub fn SsoLoginPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let page = Resource::new_blocking(slug, sso_login_page);
    view! {
        <Title text="Single sign-on"/>
        <section class="card narrow">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let next = query.read().get("next");
                    match page.await {
                        Err(err) => view! {
                            <h1>"Single sign-on"</h1>
                            <p class="alert error" role="alert">{err.summary()}</p>
                            <p><a href="/auth/login/">"Sign in with email and password"</a></p>
                        }.into_any(),
                        Ok(p) => render(p, next).into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn render(p: SsoLoginView, next: Option<String>) -> impl IntoView {
    let notice =
        p.notice.clone().map(|n| view! { <p class="alert info" role="alert" data-testid="sso-notice">{n}</p> });
    let label = format!("Continue with {}", p.provider_name);
    let body = match (&p.signed_in_email, p.linked) {
        (Some(email), true) => view! {
            <p class="alert success" data-testid="sso-status">
                "You are signed in as " <strong>{email.clone()}</strong> ", linked to " {p.provider_name.clone()} "."
            </p>
            {p.require_sso.then(|| view! {
                <p>{p.org_name.clone()} " asks its members to sign in with " {p.provider_name.clone()} " at least once a day."</p>
            })}
            <StartForm slug=p.slug.clone() label=label next=next link=false/>
            <p class="aside"><a href=format!("/organizations/{}/", p.slug)>"Go to " {p.org_name.clone()}</a></p>
        }
        .into_any(),
        (Some(email), false) if p.has_password => view! {
            <p>
                "Link your " {p.provider_name.clone()} " identity to the account " <strong>{email.clone()}</strong>
                ". You will sign in at " {p.provider_name.clone()} " and come back here."
            </p>
            <StartForm slug=p.slug.clone() label=format!("Link with {}", p.provider_name) next=next link=true/>
        }
        .into_any(),
        (Some(email), false) => view! {
            <p>
                "The account " <strong>{email.clone()}</strong> " has no password yet, and linking "
                {p.provider_name.clone()} " needs one. Set a password first, then come back here."
            </p>
        }
        .into_any(),
        (None, _) => view! {
            <p>{p.org_name.clone()} " signs its members in with " <strong>{p.provider_name.clone()}</strong> "."</p>
            <StartForm slug=p.slug.clone() label=label next=next link=false/>
            <p class="aside">"Have a password for this site? " <a href="/auth/login/">"Sign in with email"</a></p>
        }
        .into_any(),
    };
    view! {
        <h1>"Sign in to " {p.org_name.clone()}</h1>
        {notice}
        {body}
    }
}
