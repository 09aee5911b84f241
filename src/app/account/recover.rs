//! The forgotten password (SPEC §4.5): `/account/recover/` asks for a link,
//! `/account/recover/confirm/{user_id}/{token}/` chooses the new password.
//!
//! The link's token is in the address of the second page: it goes back only in the form
//! that uses it, never into a link of the page (the site sends `Referrer-Policy:
//! same-origin`, so no other site sees the address either).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::self_service::{reset_link, RequestPasswordReset, ResetPassword};
use crate::app::components::{ErrorSummary, Field, FormError};

/// `/account/recover/`: an address, and a link sent to it when it has an account.
#[component]
pub fn RecoverPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let form = FormError::new(Signal::derive(move || action.value().get().and_then(Result::err)));
    let query = use_query_map();
    let sent = move || query.read().get("sent").is_some() || matches!(action.value().get(), Some(Ok(())));
    view! {
        <Title text="Reset your password"/>
        <section class="card narrow">
            <h1>"Reset your password"</h1>
            {move || sent().then(|| view! {
                <p class="alert success" role="status" data-testid="reset-sent">
                    "If an account exists for that address, we sent it a link to choose a new password. "
                    "The link works for one hour."
                </p>
            })}
            <p>"Enter the email address of your account. We will send you a link to choose a new password."</p>
            <ActionForm action attr:class="form" attr:novalidate=true>
                <ErrorSummary error=form.error()/>
                <Field label="Email" name="email" kind="email" autocomplete="username"
                    errors=form.field("email") value=form.value("email") autofocus=true/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Send reset link"</button>
            </ActionForm>
            <p class="aside">"Remembered it? " <a href="/auth/login/">"Sign in"</a></p>
        </section>
    }
}

/// `/account/recover/confirm/{user_id}/{token}/`: the new-password form while the link
/// can be used, else why not. Opening the page changes nothing.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let params = use_params_map();
    let link = move || {
        let p = params.read();
        // Not a number: no account has it, and the link is refused as any unknown one.
        let user_id = p.get("user_id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
        (user_id, p.get("token").unwrap_or_default())
    };
    let account = Resource::new_blocking(link, |(user_id, token)| reset_link(user_id, token));
    view! {
        <Title text="Choose a new password"/>
        <section class="card narrow">
            <h1>"Choose a new password"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let (user_id, token) = link();
                    match account.await {
                        Ok(email) => view! { <NewPasswordForm user_id token email/> }.into_any(),
                        Err(err) => view! {
                            <p class="alert error" role="alert" data-testid="reset-refused">{err.summary()}</p>
                            <p><a class="button primary" href="/account/recover/">"Ask for a new link"</a></p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn NewPasswordForm(user_id: i64, token: String, email: String) -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let form = FormError::new(Signal::derive(move || action.value().get().and_then(Result::err)));
    view! {
        <ActionForm action attr:class="form" attr:novalidate=true>
            <ErrorSummary error=form.error()/>
            <input type="hidden" name="user_id" value=user_id.to_string()/>
            <input type="hidden" name="token" value=token/>
            // Not posted (no name): the account, for the reader and for password managers.
            <div class="field">
                <label for="account-email">"Account"</label>
                <input id="account-email" type="email" autocomplete="username" value=email readonly=true/>
            </div>
            <Field label="New password" name="password" kind="password" autocomplete="new-password"
                errors=form.field("password") autofocus=true
                hint="At least 8 characters; not a common password, not all digits, not like your email."/>
            <button type="submit" class="primary" disabled=move || action.pending().get()>"Set new password"</button>
        </ActionForm>
        <p class="aside">"Setting a new password signs out every other session of your account."</p>
    }
}
