//! The frame around every page: header with who is signed in, main column, footer.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use super::auth::{current_user, LogoutButton};
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
    view! {
        <header class="topbar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                " Gatehouse"
            </a>
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
        <main class="page">{children()}</main>
        <footer class="footer">"Gatehouse — registration and organization invitations"</footer>
    }
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
