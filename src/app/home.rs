//! The signed-in landing page.

use leptos::prelude::*;
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
                let to = match user.await {
                    Some(user) => user.landing,
                    None => "/auth/login/".to_owned(),
                };
                view! { <Redirect path=to/> }
            })}
        </Suspense>
    }
}
