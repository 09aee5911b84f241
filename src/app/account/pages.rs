use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::actions::{
    emails_page, inspect_verification, second_factor_pending, security_page, ConfirmEmail, ConfirmTotp,
    ResendVerification, SecondFactor, UnlinkIdentity,
};
use super::security_forms::{RenewCodesForm, SecurityActions, TurnOffForm};
use super::signed_out;
use crate::app::components::{ErrorSummary, Field, FormError};
use crate::app::wire::SecurityView;

/// `/settings/account/security/`: TOTP enrolment (QR code and secret), then the recovery
/// codes, shown once.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmTotp>::new();
    let unlink = ServerAction::<UnlinkIdentity>::new();
    let manage = SecurityActions::new();
    let page = Resource::new_blocking(
        move || (confirm.version().get(), unlink.version().get(), manage.versions()),
        |_| security_page(),
    );
    let form = FormError::new(Signal::derive(move || confirm.value().get().and_then(Result::err)));
    view! {
        <Title text="Security"/>
        <section class="card narrow">
            <h1>"Two-factor authentication"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(err) => signed_out(err, "/settings/account/security/"),
                        Ok(view) => security_view(view, confirm, unlink, manage, form).into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The single sign-on identities linked to the account, each with Unlink, and the
/// organizations whose provider it could link (SPEC §9.1: the owner of an account sees
/// and removes what can sign in to it).
fn identities_view(page: &SecurityView, unlink: ServerAction<UnlinkIdentity>) -> impl IntoView {
    (!page.identities.is_empty() || !page.linkable.is_empty()).then(|| {
        view! {
            <h2>"Single sign-on"</h2>
            <p class="hint">"Identities at an organization's provider that can sign you in to this account."</p>
            <ul class="identities" data-testid="identities">
                {page.identities.clone().into_iter().map(|i| {
                    let label = format!("Unlink {} for {}", i.provider_name, i.org_name);
                    let slug = i.org_slug.clone();
                    view! {
                        <li>
                            <span>
                                <strong>{i.provider_name}</strong> " for "
                                <a href=format!("/organizations/{}/", i.org_slug)>{i.org_name}</a>
                                {i.email.map(|e| view! { " as " {e} })}
                            </span>
                            <ActionForm action=unlink attr:class="inline">
                                <input type="hidden" name="slug" value=slug/>
                                <button type="submit" aria-label=label>"Unlink"</button>
                            </ActionForm>
                        </li>
                    }
                }).collect_view()}
                {page.linkable.clone().into_iter().map(|l| view! {
                    <li>
                        <span><strong>{l.provider_name.clone()}</strong> " for " {l.org_name.clone()} " — not linked"</span>
                        <a class="button" rel="external" data-testid="link-identity"
                            href=format!("/auth/login/{}/?next=/settings/account/security/", l.org_slug)>
                            "Link " {l.provider_name.clone()}
                        </a>
                    </li>
                }).collect_view()}
            </ul>
        }
    })
}

fn security_view(
    page: SecurityView,
    confirm: ServerAction<ConfirmTotp>,
    unlink: ServerAction<UnlinkIdentity>,
    manage: SecurityActions,
    form: FormError,
) -> impl IntoView {
    let identities = identities_view(&page, unlink);
    let fresh = (!page.fresh_recovery_codes.is_empty()).then(|| {
        let joined = page.joined.clone().map(|(slug, name)| view! {
            <p class="alert success" data-testid="joined">
                "You joined " <strong>{name.clone()}</strong> ". "
                <a href=format!("/organizations/{slug}/")>"Continue to " {name}</a>
            </p>
        });
        view! {
            {joined}
            <div class="recovery" data-testid="recovery-codes">
                <h2>"Your recovery codes"</h2>
                <p>"Each code signs you in once if you lose your device. Store them somewhere safe: they are shown only now."</p>
                <ul class="codes">
                    {page.fresh_recovery_codes.iter().map(|c| view! { <li><code>{c.clone()}</code></li> }).collect_view()}
                </ul>
            </div>
        }
    });
    if page.enrolled {
        let renewed = (!page.fresh_recovery_codes.is_empty() && manage.renewed()).then(|| {
            view! {
                <p class="alert success" role="status">"New recovery codes are ready. The old ones no longer work."</p>
            }
        });
        return view! {
            {renewed}
            {fresh}
            <p class="alert success" data-testid="totp-status">"Two-factor authentication is on for " <strong>{page.email}</strong> "."</p>
            <p class="hint">{format!("{} unused recovery codes left.", page.unused_recovery_codes)}</p>
            <RenewCodesForm manage/>
            <TurnOffForm manage/>
            {identities}
        }
        .into_any();
    }
    let secret = page.secret.unwrap_or_default();
    let qr = page.qr_svg.unwrap_or_default();
    view! {
        {manage.turned_off().then(|| view! {
            <p class="alert success" role="status" data-testid="totp-off">"Two-factor authentication is off."</p>
        })}
        <p>"Protect your account with a code from an authenticator app (1Password, Google Authenticator, Authy…) in addition to your password."</p>
        <ol class="steps">
            <li>
                "Scan this QR code with the app:"
                <div class="qr" role="img" aria-label="QR code of the authenticator secret" inner_html=qr></div>
            </li>
            <li>
                "Or type this key into the app:"
                <p><code class="secret" data-testid="totp-secret">{secret}</code></p>
            </li>
            <li>"Enter the 6-digit code the app shows:"</li>
        </ol>
        <ActionForm action=confirm attr:class="form" attr:novalidate=true>
            <ErrorSummary error=form.error()/>
            <Field label="Authentication code" name="otp" kind="text" autocomplete="one-time-code" errors=form.field("otp")/>
            <button type="submit" class="primary" disabled=move || confirm.pending().get()>"Turn on two-factor authentication"</button>
        </ActionForm>
        {identities}
    }
    .into_any()
}

/// `/auth/2fa/`: the second login step.
#[component]
pub fn TwoFactorPage() -> impl IntoView {
    let action = ServerAction::<SecondFactor>::new();
    let pending = Resource::new_blocking(|| (), |_| second_factor_pending());
    let form = FormError::new(Signal::derive(move || action.value().get().and_then(Result::err)));
    view! {
        <Title text="Two-factor authentication"/>
        <section class="card narrow">
            <h1>"Two-factor authentication"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    if !pending.await.unwrap_or(false) {
                        return view! {
                            <p class="alert info">"No sign-in is waiting for a code. " <a href="/auth/login/">"Sign in"</a></p>
                        }.into_any();
                    }
                    view! {
                        <p>"Enter the code from your authenticator app, or one of your recovery codes."</p>
                        <ActionForm action attr:class="form" attr:novalidate=true>
                            <ErrorSummary error=form.error()/>
                            <Field label="Authentication code" name="otp" kind="text" autocomplete="one-time-code"
                                errors=form.field("otp") autofocus=true/>
                            <button type="submit" class="primary" disabled=move || action.pending().get()>"Verify"</button>
                        </ActionForm>
                    }.into_any()
                })}
            </Suspense>
        </section>
    }
}

/// `/settings/account/emails/`: verification status, resend.
#[component]
pub fn EmailsPage() -> impl IntoView {
    let resend = ServerAction::<ResendVerification>::new();
    let page = Resource::new_blocking(|| (), |_| emails_page());
    let query = use_query_map();
    let error = Signal::derive(move || resend.value().get().and_then(Result::err));
    let sent = move || query.read().get("sent").is_some() || matches!(resend.value().get(), Some(Ok(())));
    let verified_now = move || query.read().get("verified").is_some();
    view! {
        <Title text="Email"/>
        <section class="card narrow">
            <h1>"Email address"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(err) => signed_out(err, "/settings/account/emails/"),
                        Ok(page) => view! {
                            {verified_now().then(|| view! { <p class="alert success">"Thank you — your email address is verified."</p> })}
                            <dl class="facts">
                                <dt>"Email"</dt><dd>{page.email.clone()}</dd>
                                <dt>"Status"</dt>
                                <dd data-testid="email-status">{if page.verified { "verified" } else { "not verified" }}</dd>
                            </dl>
                            {(!page.verified).then(|| view! {
                                <p>"We sent a link to this address when you signed up. Open it to verify the address, or send a new one."</p>
                                <ErrorSummary error/>
                                {move || sent().then(|| view! { <p class="alert success" role="status">"A new verification email is on its way."</p> })}
                                <ActionForm action=resend attr:class="form">
                                    <button type="submit" class="primary" disabled=move || resend.pending().get()>"Send verification email"</button>
                                </ActionForm>
                            })}
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// `/auth/verify-email/{token}/`: confirms an address with one click. Opening the link
/// changes nothing (mail scanners open links too).
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let address = Resource::new_blocking(token, inspect_verification);
    let confirm = ServerAction::<ConfirmEmail>::new();
    let error = Signal::derive(move || confirm.value().get().and_then(Result::err));
    view! {
        <Title text="Verify your email"/>
        <section class="card narrow">
            <h1>"Verify your email address"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match address.await {
                        Err(err) => view! { <p class="alert error" role="alert" data-testid="verify-message">{err.summary()}</p> }.into_any(),
                        Ok(email) => view! {
                            <p>"Confirm that " <strong>{email}</strong> " is your email address."</p>
                            <ErrorSummary error/>
                            <ActionForm action=confirm attr:class="form">
                                <input type="hidden" name="token" value=token()/>
                                <button type="submit" class="primary" disabled=move || confirm.pending().get()>"Confirm my email address"</button>
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
