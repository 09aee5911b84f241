//! The signed-in landing page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::layout::use_current_user;

/// `/`: signed in → the landing page; anonymous → the login page. A route of the app (not
/// a bare server redirect) so that client-side links to `/` work too.
#[component]
pub fn StartPage() -> impl IntoView {
    let user = use_current_user();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let to = if user.await.is_some() { "/organizations/new/" } else { "/auth/login/" };
                view! { <Redirect path=to/> }
            })}
        </Suspense>
    }
}

/// Where a signed-in user without an organization lands: who you are, what comes next.
#[component]
pub fn WelcomePage() -> impl IntoView {
    let user = use_current_user();
    view! {
        <Title text="Welcome"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    None => view! { <Redirect path="/auth/login/?next=/organizations/new/"/> }.into_any(),
                    Some(user) => view! {
                        <section class="card">
                            <h1>"Welcome, " {user.name.clone()}</h1>
                            <dl class="facts">
                                <dt>"Name"</dt><dd data-testid="user-name">{user.name.clone()}</dd>
                                <dt>"Email"</dt><dd data-testid="user-email">{user.email.clone()}</dd>
                                <dt>"Email verified"</dt>
                                <dd>{if user.email_verified { "yes" } else { "not yet" }}</dd>
                            </dl>
                            <p>"You are signed in. Organizations you create or join will appear here."</p>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
