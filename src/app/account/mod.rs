//! Account pages: two-factor enrolment, the second login step, email verification, the
//! forgotten password, the account settings and sessions (SPEC §4.5–§4.7, §6, §7).

mod actions;
mod pages;
mod recover;
mod security_forms;
mod self_service;
mod sessions;
mod settings;

pub use actions::*;
pub use pages::{EmailsPage, SecurityPage, TwoFactorPage, VerifyEmailPage};
pub use recover::{RecoverPage, ResetPasswordPage};
pub use self_service::*;
pub use sessions::SessionsPage;
pub use settings::AccountSettingsPage;

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::app::wire::AppError;

/// Sends anonymous visitors to the login page, coming back here afterwards.
fn signed_out(err: AppError, back: &'static str) -> AnyView {
    match err {
        AppError::Refused { reason, .. } if reason == "not_authenticated" => {
            view! { <Redirect path=format!("/auth/login/?next={back}")/> }.into_any()
        }
        err => view! { <p class="alert error" role="alert">{err.summary()}</p> }.into_any(),
    }
}
