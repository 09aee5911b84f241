use leptos::prelude::*;
use leptos_meta::Title;

use super::actions::{register_page_data, Register, RegisterPageInfo};
use crate::app::components::{ErrorSummary, Field};

#[component]
pub fn RegisterPage() -> impl IntoView {
    let page = Resource::new_blocking(|| (), |_| register_page_data());
    view! {
        <Title text="Create your account"/>
        <section class="card narrow">
            <h1>"Create your account"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(data) if data.signed_in => view! {
                            <p>"You are already signed in. " <a href="/">"Continue"</a></p>
                        }.into_any(),
                        Ok(data) if !data.possible => view! {
                            <p class="alert info">
                                "Registration is by invitation only on this site. "
                                "Open the invite link you received, or ask an organization owner to invite you."
                            </p>
                            <p class="aside">"Already have an account? " <a href="/auth/login/">"Sign in"</a></p>
                        }.into_any(),
                        Ok(data) => view! { <RegisterForm data/> }.into_any(),
                        Err(err) => view! { <p class="alert error" role="alert">{err.summary()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RegisterForm(data: RegisterPageInfo) -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let field = move |name: &'static str| Signal::derive(move || error.get().map(|e| e.field(name)).unwrap_or_default());
    let prefill = data.email.clone();
    let value = move |name: &'static str| {
        let prefill = prefill.clone();
        Signal::derive(move || {
            error.get().and_then(|e| e.value(name)).or_else(|| (name == "email").then(|| prefill.clone()).flatten())
        })
    };
    view! {
        <ActionForm action attr:class="form" attr:novalidate=true>
            <ErrorSummary error/>
            <Field label="Email" name="email" kind="email" autocomplete="email"
                errors=field("email") value=value("email") autofocus=true/>
            <Field label="Name" name="name" autocomplete="name" errors=field("name") value=value("name")/>
            <Field label="Password" name="password" kind="password" autocomplete="new-password"
                errors=field("password")
                hint="At least 8 characters; not a common password, not all digits, not like your email."/>
            <button type="submit" class="primary" disabled=move || action.pending().get()>"Create account"</button>
        </ActionForm>
        <p class="aside">"Already have an account? " <a href="/auth/login/">"Sign in"</a></p>
    }
}
