//! Registration, login, single sign-on and logout pages (SPEC §2, §4).

mod actions;
mod login;
mod register;
mod sso;

pub use actions::*;
pub use login::LoginPage;
pub use register::RegisterPage;
pub use sso::{sso_login_page, SsoButton, SsoLoginPage};

use leptos::prelude::*;

/// The sign-out form in the header: a POST, so it works without JavaScript too.
#[component]
pub fn LogoutButton() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    view! {
        <ActionForm action=logout attr:class="inline-form">
            <button type="submit" class="link-button">"Sign out"</button>
        </ActionForm>
    }
}
