//! `/organizations/new/`: create an organization.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::actions::{my_organizations, CreateOrganization};
use crate::app::components::{ErrorSummary, Field, FormError};
use crate::app::layout::use_current_user;

/// `/organizations/new/`: create an organization; lists the ones you belong to.
#[component]
pub fn NewOrganizationPage() -> impl IntoView {
    let user = use_current_user();
    let action = ServerAction::<CreateOrganization>::new();
    let mine = Resource::new_blocking(|| (), |_| my_organizations());
    let form = FormError::new(Signal::derive(move || action.value().get().and_then(Result::err)));
    view! {
        <Title text="Create an organization"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    None => view! { <Redirect path="/auth/login/?next=/organizations/new/"/> }.into_any(),
                    Some(user) => {
                        let orgs = mine.await.unwrap_or_default();
                        view! {
                            <section class="card narrow">
                                <h1>"Welcome, " {user.name.clone()}</h1>
                                <dl class="facts">
                                    <dt>"Name"</dt><dd data-testid="user-name">{user.name.clone()}</dd>
                                    <dt>"Email"</dt><dd data-testid="user-email">{user.email.clone()}</dd>
                                    <dt>"Email verified"</dt>
                                    <dd>{if user.email_verified { "yes" } else { "not yet" }}</dd>
                                </dl>
                                {(!orgs.is_empty()).then(|| view! {
                                    <h2>"Your organizations"</h2>
                                    <ul class="org-list">
                                        {orgs.into_iter().map(|(slug, name)| view! {
                                            <li><a href=format!("/organizations/{slug}/")>{name}</a></li>
                                        }).collect_view()}
                                    </ul>
                                })}
                                <h2>"Create an organization"</h2>
                                <ActionForm action attr:class="form" attr:novalidate=true>
                                    <ErrorSummary error=form.error()/>
                                    <Field label="Organization name" name="name" errors=form.field("name") value=form.value("name")/>
                                    <Field label="Slug" name="slug" errors=form.field("slug") value=form.value("slug")
                                        hint="Lowercase letters, numbers and hyphens; used in addresses. Leave empty to derive it from the name."/>
                                    <button type="submit" class="primary" disabled=move || action.pending().get()>"Create organization"</button>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
