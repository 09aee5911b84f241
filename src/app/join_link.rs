//! The join-link page `/join/{token}/` (SPEC §5.9) and its server functions: the
//! organization, the role and what is still needed, in the order the server checks it;
//! an ended link says why (used up, expired, revoked, invalid).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::auth::SsoButton;
use super::invite::SwitchAccountsButton;
use super::wire::{AppError, JoinLinkPageView, Refusal, Role};

/// What the link offers this visitor; remembers the link in the session (so registration
/// and sign-in come back to it).
#[server(prefix = "/_fn", endpoint = "join-link/details")]
pub async fn join_link_details(token: String) -> Result<JoinLinkPageView, AppError> {
    use crate::server::server_fns::{self as sfn, views};
    use crate::server::service::join_links;
    let (state, session) = sfn::context().await?;
    views::join_link(join_links::details(&state, &session, &token).await)
}

/// The Join button: joins through the link and lands on the organization.
#[server(prefix = "/_fn", endpoint = "join-link/join")]
pub async fn join_through_link(token: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::join_links;
    let (state, session) = sfn::context().await?;
    let ip = sfn::client_ip().await;
    let org = join_links::join(&state, &session, &token, ip.as_deref()).await?;
    leptos_axum::redirect(&format!("/organizations/{}/", org.slug));
    Ok(())
}

#[component]
pub fn JoinLinkPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let details = Resource::new_blocking(token, join_link_details);
    let join = ServerAction::<JoinThroughLink>::new();
    view! {
        <Title text="Join an organization"/>
        <section class="card narrow invite">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match details.await {
                        Err(err) => view! { <p class="alert error" role="alert">{err.summary()}</p> }.into_any(),
                        Ok(page) => render(page, token(), join).into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn render(page: JoinLinkPageView, token: String, join: ServerAction<JoinThroughLink>) -> impl IntoView {
    if let Some(refusal) = page.refusal.filter(|r| r.ends_the_link()) {
        return ended_link(refusal).into_any();
    }
    let org = page.org_name.clone();
    view! {
        <h1>"Join " {org.clone()}</h1>
        <p>"This link lets you join " <strong>{org}</strong> " on Gatehouse."</p>
        <dl class="facts">
            <dt>"Role"</dt>
            <dd data-testid="join-role">{role_name(page.role)}</dd>
            {page.email_domain.clone().map(|domain| view! {
                <dt>"Who can join"</dt>
                <dd>"Verified addresses at " <strong>"@" {domain}</strong></dd>
            })}
            <dt>"Link expires"</dt>
            <dd><time datetime=page.expires_on.clone()>{page.expires_on.clone()}</time></dd>
        </dl>
        {next_step(&page, token, join)}
    }
    .into_any()
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Member => "Member",
        Role::Manager => "Manager",
        Role::Owner => "Owner",
    }
}

/// A link nobody can use any more, and why.
fn ended_link(refusal: Refusal) -> impl IntoView {
    let (title, text) = match refusal {
        Refusal::UsedUp => ("Join link used up", Refusal::UsedUp.details()),
        Refusal::LinkExpired => ("Join link expired", Refusal::LinkExpired.details()),
        Refusal::Revoked => ("Join link revoked", Refusal::Revoked.details()),
        _ => ("Join link not valid", "This join link is not valid. Check that you copied all of it."),
    };
    view! {
        <h1>{title}</h1>
        <p class="alert error" role="alert" data-testid="join-message">{text}</p>
        <p class="hint">"Ask the person who shared it for a new link, or for an invite by email."</p>
    }
}

/// What the visitor does next: the first check the server found failing, or Join.
fn next_step(page: &JoinLinkPageView, token: String, join: ServerAction<JoinThroughLink>) -> AnyView {
    let org = page.org_name.clone();
    let notice = |text: String| view! { <p class="alert info" data-testid="join-message">{text}</p> };
    let signed_in = page.signed_in_email.clone().unwrap_or_default();
    let domain = page.email_domain.clone().unwrap_or_default();
    match page.refusal {
        Some(Refusal::NeedsAuthentication) => view! {
            <p>"To join, create an account or sign in."</p>
            <p class="actions">
                <a class="button primary" href="/auth/register/">"Create a new account"</a>
                <a class="button" href="/auth/login/">"Sign in"</a>
            </p>
        }
        .into_any(),
        Some(Refusal::ExistingMember) => view! {
            {notice(format!("You are already a member of {org}."))}
            <p><a href=format!("/organizations/{}/", page.org_slug)>"Go to " {org.clone()}</a></p>
            <SwitchAccountsButton what="this link"/>
        }
        .into_any(),
        Some(Refusal::DomainMismatch) => view! {
            <p class="alert info" data-testid="join-message">
                "This link is only for verified addresses at " <strong>"@" {domain}</strong>
                "; you are signed in as " <strong>{signed_in}</strong> "."
            </p>
            <SwitchAccountsButton what="this link"/>
        }
        .into_any(),
        Some(Refusal::Needs2fa) => view! {
            {notice(format!("{org} requires two-factor authentication for its members."))}
            <p><a href="/settings/account/security/">"Set up two-factor authentication"</a>
                ", then come back to this link."</p>
        }
        .into_any(),
        Some(Refusal::NeedsEmailVerification) => {
            let text = if page.email_domain.is_some() {
                format!("This link needs a verified address at @{domain}. Verify {signed_in} first.")
            } else {
                format!("{org} requires a verified email address.")
            };
            view! {
                {notice(text)}
                <p><a href="/settings/account/emails/">"Verify your email address"</a>
                    ", then come back to this link."</p>
            }
            .into_any()
        }
        Some(Refusal::NeedsSso) => {
            let provider = page.sso_provider.clone().unwrap_or_else(|| "its identity provider".to_owned());
            view! {
                {notice(format!("{org} requires signing in with {provider}. Sign in with it to join."))}
                <p class="actions">
                    <SsoButton slug=page.org_slug.clone() label=format!("Sign in with {provider}")
                        next=format!("/join/{token}/") primary=true/>
                </p>
            }
            .into_any()
        }
        Some(Refusal::SeatLimit) => {
            notice(format!("{org} has no seats left. Ask the person who shared this link to make room.")).into_any()
        }
        Some(other) => notice(other.details().to_owned()).into_any(),
        None => {
            let error = Signal::derive(move || join.value().get().and_then(Result::err));
            view! {
                <ActionForm action=join attr:class="form">
                    <input type="hidden" name="token" value=token/>
                    {move || error.get().map(|e| view! { <p class="alert error" role="alert">{e.summary()}</p> })}
                    <button type="submit" class="primary" disabled=move || join.pending().get()>
                        {format!("Join {org}")}
                    </button>
                </ActionForm>
            }
            .into_any()
        }
    }
}
