//! `/settings/account/` (SPEC §4.5, §4.7): name, address, password, and leaving. Each
//! section is a form of its own, with its errors and, after it worked, its notice (the
//! redirect's `?done=` says which section, with JavaScript or without).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::self_service::{account_settings, ChangeEmail, ChangePassword, DeleteAccount, RenameAccount};
use super::signed_out;
use crate::app::components::{ErrorSummary, Field, FormError};
use crate::app::wire::AccountView;

/// The forms of the page, and which one last worked.
#[derive(Clone, Copy)]
struct Forms {
    rename: ServerAction<RenameAccount>,
    email: ServerAction<ChangeEmail>,
    password: ServerAction<ChangePassword>,
    delete: ServerAction<DeleteAccount>,
    /// The section named by `?done=`, unless a form of the page has an error to show.
    done: Signal<Option<String>>,
}

impl Forms {
    fn done(self, section: &'static str) -> Signal<bool> {
        Signal::derive(move || self.done.get().as_deref() == Some(section))
    }
}

#[component]
pub fn AccountSettingsPage() -> impl IntoView {
    let rename = ServerAction::<RenameAccount>::new();
    let email = ServerAction::<ChangeEmail>::new();
    let password = ServerAction::<ChangePassword>::new();
    let delete = ServerAction::<DeleteAccount>::new();
    let page = Resource::new_blocking(
        move || (rename.version().get(), email.version().get(), password.version().get()),
        |_| account_settings(),
    );
    let query = use_query_map();
    let failed = move || {
        matches!(rename.value().get(), Some(Err(_)))
            || matches!(email.value().get(), Some(Err(_)))
            || matches!(password.value().get(), Some(Err(_)))
            || matches!(delete.value().get(), Some(Err(_)))
    };
    let done = Signal::derive(move || if failed() { None } else { query.read().get("done") });
    let forms = Forms { rename, email, password, delete, done };
    view! {
        <Title text="Account"/>
        <section class="card narrow">
            <h1>"Account"</h1>
            <p class="hint">
                "See also: " <a href="/settings/account/sessions/">"Signed-in sessions"</a> " · "
                <a href="/settings/account/security/">"Two-factor authentication"</a>
            </p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(err) => signed_out(err, "/settings/account/"),
                        Ok(account) => view! {
                            <NameSection name=account.name.clone() forms/>
                            <EmailSection account=account.clone() forms/>
                            <PasswordSection has_password=account.has_password forms/>
                            <DeleteSection has_password=account.has_password forms/>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// A success notice, shown while `on`.
fn notice(on: Signal<bool>, text: impl Fn() -> String + Send + Sync + 'static) -> impl IntoView {
    move || on.get().then(|| view! { <p class="alert success" role="status">{text()}</p> })
}

#[component]
fn NameSection(name: String, forms: Forms) -> impl IntoView {
    let action = forms.rename;
    let form = FormError::new(Signal::derive(move || action.value().get().and_then(Result::err)));
    let value = Signal::derive(move || form.value("name").get().or_else(|| Some(name.clone())));
    view! {
        <section class="settings-section" aria-labelledby="name-heading">
            <h2 id="name-heading">"Name"</h2>
            {notice(forms.done("name"), || "Your name is saved.".to_owned())}
            <ActionForm action attr:class="form" attr:novalidate=true>
                <ErrorSummary error=form.error()/>
                <Field label="Name" name="name" autocomplete="name" errors=form.field("name") value/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Save name"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn EmailSection(account: AccountView, forms: Forms) -> impl IntoView {
    let action = forms.email;
    let form = FormError::new(Signal::derive(move || action.value().get().and_then(Result::err)));
    // The hydrated page knows the new address from the answer; a page loaded after a
    // redirect does not (the address is not put into the URL).
    let sent_to = move || match action.value().get() {
        Some(Ok(new)) => format!("We sent a link to {new}. Your address changes when you open it."),
        _ => "We sent a link to your new address. Your address changes when you open it.".to_owned(),
    };
    view! {
        <section class="settings-section" aria-labelledby="email-heading">
            <h2 id="email-heading">"Email address"</h2>
            {notice(forms.done("email"), sent_to)}
            <dl class="facts">
                <dt>"Current address"</dt>
                <dd data-testid="current-email">{account.email.clone()}</dd>
                <dt>"Status"</dt>
                <dd data-testid="email-status">
                    {if account.email_verified { "verified" } else { "not verified" }}
                    {(!account.email_verified).then(|| view! {
                        " · " <a href="/settings/account/emails/">"Verify it"</a>
                    })}
                </dd>
            </dl>
            <ActionForm action attr:class="form" attr:novalidate=true>
                <ErrorSummary error=form.error()/>
                <Field label="New email address" name="email" kind="email" autocomplete="email"
                    errors=form.field("email") value=form.value("email")
                    hint="We send a link to the new address; your address changes when you open it."/>
                <Field label="Current password" name="password" id="email-password" kind="password"
                    autocomplete="current-password" errors=form.field("password")/>
                {(!account.has_password).then(no_password_hint)}
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Change email address"</button>
            </ActionForm>
        </section>
    }
}

/// For an account without a password (made through an identity provider): where to get one.
fn no_password_hint() -> impl IntoView {
    view! {
        <p class="hint">
            "Your account has no password yet. " <a href="/account/recover/">"Set a password"</a>
            " first: we send you a link to choose one."
        </p>
    }
}

#[component]
fn PasswordSection(has_password: bool, forms: Forms) -> impl IntoView {
    let action = forms.password;
    let form = FormError::new(Signal::derive(move || action.value().get().and_then(Result::err)));
    let body = if has_password {
        view! {
            <ActionForm action attr:class="form" attr:novalidate=true>
                <ErrorSummary error=form.error()/>
                <Field label="Current password" name="password" id="current-password" kind="password"
                    autocomplete="current-password" errors=form.field("password")/>
                <Field label="New password" name="password_new" kind="password" autocomplete="new-password"
                    errors=form.field("passwordNew")
                    hint="At least 8 characters; not a common password, not all digits, not like your email."/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Change password"</button>
            </ActionForm>
            <p class="hint">"Changing your password signs out your other sessions."</p>
        }
        .into_any()
    } else {
        view! {
            <p data-testid="no-password">
                "You sign in through your organization's identity provider, so your account has no password. "
                <a href="/account/recover/">"Set a password"</a> " to sign in with your email address too."
            </p>
        }
        .into_any()
    };
    view! {
        <section class="settings-section" aria-labelledby="password-heading">
            <h2 id="password-heading">"Password"</h2>
            {notice(forms.done("password"), || "Your password is changed. Your other sessions are signed out.".to_owned())}
            {body}
        </section>
    }
}

#[component]
fn DeleteSection(has_password: bool, forms: Forms) -> impl IntoView {
    let action = forms.delete;
    let form = FormError::new(Signal::derive(move || action.value().get().and_then(Result::err)));
    let confirm_errors = form.field("confirm");
    let confirm_invalid = move || !confirm_errors.get().is_empty();
    view! {
        <section class="settings-section danger-zone" aria-labelledby="delete-heading">
            <h2 id="delete-heading">"Delete account"</h2>
            <p>
                "Deleting your account signs you out everywhere and ends your memberships. Organizations "
                "where you are the only member are deleted with it. This cannot be undone."
            </p>
            <ActionForm action attr:class="form" attr:novalidate=true>
                <ErrorSummary error=form.error()/>
                <Field label="Current password" name="password" id="delete-password" kind="password"
                    autocomplete="current-password" errors=form.field("password")/>
                {(!has_password).then(no_password_hint)}
                <div class="field check" class:invalid=confirm_invalid>
                    <input type="checkbox" id="delete-confirm" name="confirm" value="on" required=true
                        aria-invalid=move || if confirm_invalid() { "true" } else { "false" }
                        aria-describedby="delete-confirm-errors"/>
                    <label for="delete-confirm">"I understand this deletes my account"</label>
                    <ul class="field-errors" id="delete-confirm-errors">
                        {move || confirm_errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                    </ul>
                </div>
                <button type="submit" class="danger" disabled=move || action.pending().get()>"Delete my account"</button>
            </ActionForm>
        </section>
    }
}
