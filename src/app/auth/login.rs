use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::actions::{login_page_data, Login};
use crate::app::components::{ErrorSummary, Field, FormError};

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let page = Resource::new_blocking(|| (), |_| login_page_data());
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let form = FormError::new(Signal::derive(move || action.value().get().and_then(Result::err)));

    view! {
        <Title text="Sign in"/>
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let notice = page.await.ok()?.notice?;
                    Some(view! { <p class="alert info" role="alert" data-testid="sso-notice">{notice}</p> })
                })}
            </Suspense>
            <ErrorSummary error=form.error()/>
            <ActionForm action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="next" value=next/>
                <Field label="Email" name="username" kind="email" autocomplete="username"
                    errors=form.field("username") value=form.value("username") autofocus=true/>
                <Field label="Password" name="password" kind="password" autocomplete="current-password"
                    errors=form.field("password")/>
                <p class="field-aside"><a href="/account/recover/">"Forgot your password?"</a></p>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Sign in"</button>
            </ActionForm>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let data = page.await.ok()?;
                    data.registration_possible.then(|| view! {
                        <p class="aside">"New here? " <a href="/auth/register/">"Create an account"</a></p>
                    })
                })}
            </Suspense>
        </section>
    }
}
