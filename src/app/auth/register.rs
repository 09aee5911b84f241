use leptos::prelude::*;
use leptos_meta::Title;

use super::actions::{register_page_data, Register, RegisterPageInfo};
use crate::app::components::{ErrorSummary, Field, FormError};
use crate::app::wire::AppError;

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
    let form = FormError::new(Signal::derive(move || action.value().get().and_then(Result::err)));
    let typed_email = form.value("email");
    let email = Signal::derive(move || typed_email.get().or_else(|| data.email.clone()));
    // Never ticked in advance: the link pending in the session may have been planted by
    // another site's navigation, so joining must be the user's own tick. A form that came
    // back with errors keeps the tick it was sent with.
    let join_ticked = move || match form.error().get() {
        Some(err @ AppError::Invalid { .. }) => err.value("join").is_some(),
        _ => false,
    };
    let joining = data.joining.clone().map(|org| {
        view! {
            <p class="alert info" data-testid="joining">"You are joining " <strong>{org.clone()}</strong> "."</p>
        }
    });
    let join_box = data.joining.map(|org| {
        view! {
            <div class="field check">
                <input type="checkbox" id="join" name="join" value="on" checked=join_ticked/>
                <label for="join">{format!("Join {org} after creating my account")}</label>
            </div>
        }
    });
    view! {
        {joining}
        <ActionForm action attr:class="form" attr:novalidate=true>
            <ErrorSummary error=form.error()/>
            <Field label="Email" name="email" kind="email" autocomplete="email"
                errors=form.field("email") value=email autofocus=true/>
            <Field label="Name" name="name" autocomplete="name" errors=form.field("name") value=form.value("name")/>
            <Field label="Password" name="password" kind="password" autocomplete="new-password"
                errors=form.field("password")
                hint="At least 8 characters; not a common password, not all digits, not like your email."/>
            {join_box}
            <button type="submit" class="primary" disabled=move || action.pending().get()>"Create account"</button>
        </ActionForm>
        <p class="aside">"Already have an account? " <a href="/auth/login/">"Sign in"</a></p>
    }
}
