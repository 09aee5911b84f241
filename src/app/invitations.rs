//! `/invitations/` (SPEC §5.9): every pending invite addressed to the signed-in user's
//! verified address, from every organization, with Join and Decline; and the count the
//! header's notice shows on the other pages.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::app::components::ErrorSummary;
use crate::app::wire::{AppError, InvitationView, InvitationsView, Refusal};

/// The signed-in user's invitations (none while the address is unverified).
#[server(prefix = "/_fn", endpoint = "invitations/list")]
pub async fn my_invitations() -> Result<InvitationsView, AppError> {
    use crate::server::server_fns::{self as sfn, views};
    use crate::server::service::invitations;
    let (state, _, user) = sfn::user_context().await?;
    let list = invitations::list(&state, &user).await?;
    Ok(views::invitations(&user, list))
}

/// How many invitations the signed-in user has; 0 for an anonymous visitor (the header
/// asks on every page).
#[server(prefix = "/_fn", endpoint = "invitations/count")]
pub async fn pending_invitations() -> Result<i64, AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::{accounts, invitations};
    let (state, session) = sfn::context().await?;
    let Some(user) = accounts::signed_in(&state, &session).await? else { return Ok(0) };
    Ok(invitations::count(&state, &user).await?)
}

/// Join: runs the §5.3 checks for the invite and lands on the organization.
#[server(prefix = "/_fn", endpoint = "invitations/accept")]
pub async fn accept_invitation(member_id: i64) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::invitations;
    let (state, session, user) = sfn::user_context().await?;
    let ip = sfn::client_ip().await;
    let org = invitations::accept(&state, &session, user, member_id, ip.as_deref()).await?;
    leptos_axum::redirect(&format!("/organizations/{}/", org.slug));
    Ok(())
}

/// Decline: deletes the invite (the inviter is told) and comes back to the list.
#[server(prefix = "/_fn", endpoint = "invitations/decline")]
pub async fn decline_invitation(member_id: i64) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::invitations;
    let (state, _, user) = sfn::user_context().await?;
    let ip = sfn::client_ip().await;
    invitations::decline(&state, &user, member_id, ip.as_deref()).await?;
    leptos_axum::redirect("/invitations/?declined=1");
    Ok(())
}

#[component]
pub fn InvitationsPage() -> impl IntoView {
    let join = ServerAction::<AcceptInvitation>::new();
    let decline = ServerAction::<DeclineInvitation>::new();
    let page = Resource::new_blocking(move || (join.version().get(), decline.version().get()), |_| my_invitations());
    let join_error = Signal::derive(move || join.value().get().and_then(Result::err));
    let decline_error = Signal::derive(move || decline.value().get().and_then(Result::err));
    let error = Signal::derive(move || join_error.get().or_else(|| decline_error.get()));
    let query = use_query_map();
    let declined = move || {
        (error.get().is_none()
            && (query.read().get("declined").is_some() || matches!(decline.value().get(), Some(Ok(())))))
        .then(|| view! { <p class="alert success" role="status" data-testid="notice">"Invitation declined."</p> })
    };
    view! {
        <Title text="Your invitations"/>
        <section class="card medium">
            <h1>"Your invitations"</h1>
            {declined}
            <ErrorSummary error/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(AppError::Refused { reason, .. }) if reason == "not_authenticated" => {
                            view! { <Redirect path="/auth/login/?next=/invitations/"/> }.into_any()
                        }
                        Err(err) => view! { <p class="alert error" role="alert">{err.summary()}</p> }.into_any(),
                        Ok(view) => invitations_view(view, join, decline).into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn invitations_view(
    page: InvitationsView,
    join: ServerAction<AcceptInvitation>,
    decline: ServerAction<DeclineInvitation>,
) -> impl IntoView {
    if !page.verified {
        return view! {
            <p class="alert info" data-testid="invitations-unverified">
                "Verify your address " <strong>{page.email}</strong>
                " to see the invitations sent to it."
            </p>
            <p><a class="button primary" href="/settings/account/emails/">"Verify your email address"</a></p>
        }
        .into_any();
    }
    if page.invitations.is_empty() {
        return view! {
            <p class="empty-state" data-testid="invitations-empty">
                "You have no pending invitations. When an organization invites "
                <strong>{page.email}</strong> ", it shows up here."
            </p>
        }
        .into_any();
    }
    view! {
        <p class="hint">"Invitations sent to " <strong>{page.email}</strong> ", newest first."</p>
        <ul class="invitation-list">
            {page.invitations.into_iter().map(|i| invitation(i, join, decline)).collect_view()}
        </ul>
    }
    .into_any()
}

/// One invitation: who invited you where, as what, until when; Join (or what is still
/// needed first, as the server decided it) and Decline.
fn invitation(
    i: InvitationView,
    join: ServerAction<AcceptInvitation>,
    decline: ServerAction<DeclineInvitation>,
) -> impl IntoView {
    let id = i.member_id.to_string();
    let org = i.org_name.clone();
    let inviter = i.inviter_name.clone().unwrap_or_else(|| "Someone".to_owned());
    let join_button = i.needs.is_none().then(|| {
        let id = id.clone();
        let label = format!("Join {org}");
        view! {
            <ActionForm action=join attr:class="inline-form">
                <input type="hidden" name="member_id" value=id/>
                <button type="submit" class="primary" disabled=move || join.pending().get()>{label}</button>
            </ActionForm>
        }
    });
    let decline_label = format!("Decline the invitation to {org}");
    view! {
        <li class="invitation" data-testid=format!("invitation-{}", i.org_slug)>
            <div class="invitation-head">
                <h2>{org.clone()}</h2>
                <p class="hint">
                    {inviter} " invited you as " <strong>{i.role.as_str()}</strong>
                    " · expires " <time datetime=i.expires_on.clone()>{i.expires_on.clone()}</time>
                </p>
            </div>
            {i.needs.map(|needs| needs_view(needs, &i))}
            <div class="row-actions">
                {join_button}
                <ActionForm action=decline attr:class="inline-form">
                    <input type="hidden" name="member_id" value=id/>
                    <button type="submit" class="link-button" aria-label=decline_label
                        disabled=move || decline.pending().get()>"Decline"</button>
                </ActionForm>
            </div>
        </li>
    }
}

/// What stands between the user and joining, with the page that fixes it (like the invite
/// page's next step).
fn needs_view(needs: Refusal, i: &InvitationView) -> AnyView {
    let org = i.org_name.clone();
    let notice = |text: String| view! { <p class="alert info" data-testid="invitation-needs">{text}</p> };
    match needs {
        Refusal::Needs2fa => view! {
            {notice(format!("{org} requires two-factor authentication for its members."))}
            <p><a href="/settings/account/security/">"Set up two-factor authentication"</a></p>
        }
        .into_any(),
        Refusal::NeedsEmailVerification => view! {
            {notice(format!("{org} requires a verified email address."))}
            <p><a href="/settings/account/emails/">"Verify your email address"</a></p>
        }
        .into_any(),
        Refusal::NeedsSso => view! {
            {notice(format!("{org} requires signing in through its identity provider."))}
            <p>
                <a rel="external" href=format!("/auth/login/{}/?next=/invitations/", i.org_slug)>
                    "Sign in with single sign-on"
                </a>
            </p>
        }
        .into_any(),
        Refusal::SeatLimit => {
            let inviter = i.inviter_name.clone().unwrap_or_else(|| "the person who invited you".to_owned());
            notice(format!("{org} has no seats left. Ask {inviter} to make room, then come back here.")).into_any()
        }
        Refusal::ExistingMember => view! {
            {notice(format!("You are already a member of {org}."))}
            <p><a href=format!("/organizations/{}/", i.org_slug)>"Go to " {org.clone()}</a></p>
        }
        .into_any(),
        other => notice(other.details().to_owned()).into_any(),
    }
}
