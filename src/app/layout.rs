//! The frame around every page: header with who is signed in, main column, footer.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use super::auth::{current_user, LogoutButton};
use super::invitations::pending_invitations;
use super::orgs::my_organizations;
use super::wire::UserView;

/// The signed-in user, fetched again on every navigation so the header never lags behind
/// a login or logout. Pages read it through [`use_current_user`].
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Option<UserView>>);

/// The current-user resource provided by [`Layout`].
pub fn use_current_user() -> Resource<Option<UserView>> {
    expect_context::<CurrentUser>().0
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    let user =
        Resource::new_blocking(move || location.pathname.get(), |_| async move { current_user().await.ok().flatten() });
    provide_context(CurrentUser(user));
    // The user's organizations for the switcher: the page's own first, then the one last
    // opened; read again on each navigation, as the user is.
    let orgs = Resource::new_blocking(
        move || location.pathname.get(),
        |path| async move { current_first(my_organizations().await.unwrap_or_default(), &path) },
    );
    // Pending invitations of the signed-in user, said on every page but their own.
    let invitations = Resource::new_blocking(
        move || location.pathname.get(),
        |path| async move {
            if path == "/invitations/" {
                0
            } else {
                pending_invitations().await.unwrap_or(0)
            }
        },
    );
    view! {
        <header class="topbar">
            <div class="topbar-start">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    " Gatehouse"
                </a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move { org_switcher(orgs.await) })}
                </Suspense>
            </div>
            <nav aria-label="Account">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Some(user) => view! {
                                <span class="whoami">
                                    "Signed in as " <strong>{user.email.clone()}</strong>
                                </span>
                                <a href="/settings/account/">"Account"</a>
                                <a href="/settings/account/security/">"Security"</a>
                                <a href="/settings/account/emails/">"Email"</a>
                                <LogoutButton/>
                            }.into_any(),
                            None => view! {
                                <a href="/auth/login/">"Sign in"</a>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </nav>
        </header>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move { invitations_notice(invitations.await) })}
        </Suspense>
        <main class="page">{children()}</main>
        <footer class="footer">"Gatehouse — registration and organization invitations"</footer>
    }
}

/// "You have 2 pending invitations." with the way to them, when there are any.
fn invitations_notice(count: i64) -> impl IntoView {
    (count > 0).then(|| {
        let text = if count == 1 {
            "You have 1 pending invitation.".to_owned()
        } else {
            format!("You have {count} pending invitations.")
        };
        view! {
            <div class="notice-bar" role="status" data-testid="invitations-notice">
                <p>{text} " " <a href="/invitations/">"Review invitations"</a></p>
            </div>
        }
    })
}

/// The organization of the page shown first (it may not be recorded as the last opened
/// yet when the header asks), then the others, the one last opened first.
fn current_first(mut orgs: Vec<(String, String)>, path: &str) -> Vec<(String, String)> {
    let slug = path.strip_prefix("/organizations/").and_then(|rest| rest.split('/').next());
    if let Some(at) = slug.and_then(|slug| orgs.iter().position(|(s, _)| s == slug)) {
        let current = orgs.remove(at);
        orgs.insert(0, current);
    }
    orgs
}

/// The organization switcher: the organization last opened, and a menu of the others and
/// "New organization". A `<details>` menu: it opens with the keyboard and without
/// JavaScript.
fn org_switcher(orgs: Vec<(String, String)>) -> impl IntoView {
    let (_, current) = orgs.first().cloned()?;
    let label = format!("Organization: {current}. Switch organization");
    Some(view! {
        <details class="org-switcher">
            <summary aria-label=label>
                <span class="org-switcher-name">{current}</span>
            </summary>
            <nav class="org-switcher-menu" aria-label="Your organizations">
                <ul>
                    {orgs.into_iter().enumerate().map(|(i, (slug, name))| view! {
                        <li>
                            <a href=format!("/organizations/{slug}/") aria-current=(i == 0).then_some("true")>{name}</a>
                        </li>
                    }).collect_view()}
                    <li class="org-switcher-new"><a href="/organizations/new/">"New organization"</a></li>
                </ul>
            </nav>
        </details>
    })
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Page not found"/>
        <section class="card narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <p><a href="/">"Go to the start page"</a></p>
        </section>
    }
}
