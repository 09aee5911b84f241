//! The start page `/`.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use super::auth::landing_path;

/// `/`: signed in → the landing page; anonymous → the login page. A route of the app (not
/// a bare server redirect) so that client-side links to `/` work too.
#[component]
pub fn StartPage() -> impl IntoView {
    let landing = Resource::new_blocking(|| (), |_| landing_path());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let to = landing.await.unwrap_or_else(|_| "/auth/login/".to_owned());
                view! { <Redirect path=to/> }
            })}
        </Suspense>
    }
}
