//! The invite landing page `/accept/…` (SPEC §5.5) and its server functions.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::auth::SsoButton;
use super::wire::{AppError, InviteView, Refusal};

/// The invite's details for this visitor; remembers the invite in the session.
#[server(prefix = "/_fn", endpoint = "invite/details")]
pub async fn invite_details(
    org_slug: Option<String>,
    member_id: String,
    token: String,
) -> Result<InviteView, AppError> {
    use crate::server::server_fns::{self as sfn, views};
    use crate::server::service::accept::{self, InviteLink};
    let (state, session) = sfn::context().await?;
    let details = match InviteLink::parse(org_slug, &member_id, token) {
        Ok(link) => accept::details(&state, &session, &link).await,
        Err(err) => Err(err),
    };
    views::invite(details)
}

/// The Join button: accepts and lands on the organization.
#[server(prefix = "/_fn", endpoint = "invite/accept")]
pub async fn accept_invite(org_slug: Option<String>, member_id: String, token: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::accept::{self, InviteLink};
    let (state, session) = sfn::context().await?;
    let link = InviteLink::parse(org_slug, &member_id, token)?;
    let ip = sfn::client_ip().await;
    let org = accept::accept(&state, &session, &link, ip.as_deref()).await?;
    leptos_axum::redirect(&format!("/organizations/{}/", org.slug));
    Ok(())
}

/// "Switch accounts" (SPEC §5.6): signs out but keeps the pending invite, so that signing
/// in with the invited account comes back to the invite page.
#[server(prefix = "/_fn", endpoint = "invite/switch-accounts")]
pub async fn switch_accounts() -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::accounts;
    let (_, session) = sfn::context().await?;
    accounts::switch_accounts(&session).await?;
    leptos_axum::redirect("/auth/login/");
    Ok(())
}

/// The "Switch accounts" button with what it does: sign out, keeping `what` (the invite or
/// join link pending in the session) for the next sign-in.
#[component]
pub(crate) fn SwitchAccountsButton(#[prop(default = "this invite")] what: &'static str) -> impl IntoView {
    let switch = ServerAction::<SwitchAccounts>::new();
    view! {
        <ActionForm action=switch attr:class="switch-accounts">
            <button type="submit" aria-describedby="switch-accounts-hint" disabled=move || switch.pending().get()>
                "Switch accounts"
            </button>
            <p class="hint" id="switch-accounts-hint">
                {format!("Sign out and sign in with another account; {what} waits for you.")}
            </p>
        </ActionForm>
    }
}

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (p.get("org_slug"), p.get("member_id").unwrap_or_default(), p.get("token").unwrap_or_default())
    };
    let details = Resource::new_blocking(key, |(org, id, token)| invite_details(org, id, token));
    let join = ServerAction::<AcceptInvite>::new();
    let join_error = Signal::derive(move || join.value().get().and_then(Result::err));
    view! {
        <Title text="Invitation"/>
        <section class="card narrow invite">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let (org_slug, member_id, token) = key();
                    match details.await {
                        Err(err) => view! { <p class="alert error" role="alert">{err.summary()}</p> }.into_any(),
                        Ok(invite) => render(invite, org_slug, member_id, token, join, join_error).into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The link's parts, posted back by the Join form.
#[derive(Clone)]
struct LinkParts {
    org_slug: Option<String>,
    member_id: String,
    token: String,
}

fn render(
    invite: InviteView,
    org_slug: Option<String>,
    member_id: String,
    token: String,
    join: ServerAction<AcceptInvite>,
    join_error: Signal<Option<AppError>>,
) -> impl IntoView {
    let inviter = invite.inviter_name.clone().unwrap_or_else(|| "the person who invited you".to_owned());
    if let Some(refusal) = invite.refusal.filter(|r| r.ends_the_link()) {
        return unusable_link(refusal, &inviter).into_any();
    }
    let org = invite.org_name.clone();
    let link = LinkParts { org_slug, member_id, token };
    let join_form = move |label: String| view! { <JoinForm link=link.clone() join error=join_error label/> };
    view! {
        <h1>"Join " {org.clone()}</h1>
        <p>{inviter.clone()} " invited " <strong>{invite.invited_email.clone()}</strong> " to join " <strong>{org}</strong> "."</p>
        {next_step(&invite, &inviter, join_form)}
    }
    .into_any()
}

/// A link that cannot be used, whoever follows it.
fn unusable_link(refusal: Refusal, inviter: &str) -> impl IntoView {
    let text = match refusal {
        Refusal::Expired => format!("This invite has expired — ask {inviter} to send a new one."),
        Refusal::AlreadyUsed => Refusal::AlreadyUsed.details().to_owned(),
        _ => "This invite link is no longer valid.".to_owned(),
    };
    view! {
        <h1>"Invitation"</h1>
        <p class="alert error" role="alert" data-testid="invite-message">{text}</p>
        {(refusal == Refusal::AlreadyUsed).then(|| view! { <p><a href="/auth/login/">"Sign in"</a></p> })}
    }
}

/// What the visitor does next: the step the server's §5.3 checks found first (the page
/// decides nothing itself), or the Join button.
fn next_step<V: IntoView + 'static>(invite: &InviteView, inviter: &str, join_form: impl Fn(String) -> V) -> AnyView {
    let org = invite.org_name.clone();
    let provider = invite.sso_provider.clone().unwrap_or_default();
    // Join through the organization's identity provider: the invite waits in the session
    // and is accepted when the provider sends the visitor back.
    let sso_join = invite.sso_provider.clone().map(|provider| {
        view! { <SsoButton slug=invite.org_slug.clone() label=format!("Join with {provider}") primary=true/> }
    });
    let signed_in = invite.signed_in_email.clone().unwrap_or_default();
    // Signed in with another address: said whatever else is needed, with a way to switch.
    let mismatch = || {
        invite.email_mismatch.then(|| {
            view! {
                <p class="alert info" data-testid="invite-message">
                    "This invite was sent to " <strong>{invite.invited_email.clone()}</strong>
                    "; you are signed in as " <strong>{signed_in.clone()}</strong> "."
                </p>
                <div class="actions"><SwitchAccountsButton/></div>
            }
        })
    };
    let notice = |text: String| view! { {mismatch()} <p class="alert info" data-testid="invite-message">{text}</p> };
    match invite.refusal {
        Some(Refusal::NeedsAuthentication) => sign_in_step(invite, sso_join),
        Some(Refusal::ExistingMember) => view! {
            <p class="alert info" data-testid="invite-message">"You are already a member of " {org.clone()} "."</p>
            <p><a href=format!("/organizations/{}/", invite.org_slug)>"Go to " {org}</a></p>
            <div class="actions"><SwitchAccountsButton/></div>
        }
        .into_any(),
        Some(Refusal::EmailMismatch) => mismatch().into_any(),
        Some(Refusal::Needs2fa) => view! {
            {notice(format!("{org} requires two-factor authentication for its members."))}
            <p><a href="/settings/account/security/">"Set up two-factor authentication"</a></p>
        }
        .into_any(),
        Some(Refusal::NeedsEmailVerification) => view! {
            {notice(format!("{org} requires a verified email address."))}
            <p><a href="/settings/account/emails/">"Verify your email address"</a></p>
        }
        .into_any(),
        Some(Refusal::NeedsSso) => view! {
            {notice(format!("{org} requires signing in with {provider}. Sign in with it to join."))}
            <p class="actions">{sso_join}</p>
        }
        .into_any(),
        Some(Refusal::SeatLimit) => {
            notice(format!("{org} has no seats left. Ask {inviter} to make room, then come back to this link."))
                .into_any()
        }
        // The link's own refusals are shown by `unusable_link`.
        Some(_) => ().into_any(),
        None if invite.email_mismatch => view! { {mismatch()} {join_form(format!("Join as {signed_in}"))} }.into_any(),
        None => join_form(format!("Join {org}")).into_any(),
    }
}

/// An anonymous visitor: through the provider when the organization requires it,
/// otherwise a new account or a sign-in (or the provider, when there is one).
fn sign_in_step(invite: &InviteView, sso_join: Option<impl IntoView + 'static>) -> AnyView {
    if invite.require_sso {
        let provider = invite.sso_provider.clone().unwrap_or_default();
        return view! {
            <p>{invite.org_name.clone()} " requires signing in with " {provider} "."</p>
            <p class="actions">{sso_join}</p>
        }
        .into_any();
    }
    view! {
        <p>"To accept, create an account or sign in."</p>
        <p class="actions">
            {sso_join}
            <a class="button" class:primary=invite.sso_provider.is_none() href="/auth/register/">"Create a new account"</a>
            <a class="button" href="/auth/login/">"Sign in with an existing account"</a>
        </p>
    }
    .into_any()
}

/// The Join button, with the link's parts; the refusal of the last attempt above it.
#[component]
fn JoinForm(
    link: LinkParts,
    join: ServerAction<AcceptInvite>,
    error: Signal<Option<AppError>>,
    label: String,
) -> impl IntoView {
    view! {
        <ActionForm action=join attr:class="form">
            <input type="hidden" name="org_slug" value=link.org_slug.unwrap_or_default()/>
            <input type="hidden" name="member_id" value=link.member_id/>
            <input type="hidden" name="token" value=link.token/>
            {move || error.get().map(|e| view! { <p class="alert error" role="alert">{e.summary()}</p> })}
            <button type="submit" class="primary" disabled=move || join.pending().get()>{label}</button>
        </ActionForm>
    }
}
