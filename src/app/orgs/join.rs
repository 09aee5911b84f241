//! `/join-request/{slug}/`: ask to join an organization.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::actions::{join_page, SendJoinRequest};
use super::slug_param;
use crate::app::components::{ErrorSummary, Field, FormError};

/// `/join-request/{slug}/`: ask to join an organization that allows it (SPEC §5.7).
#[component]
pub fn JoinRequestPage() -> impl IntoView {
    let slug = slug_param();
    let send = ServerAction::<SendJoinRequest>::new();
    let org = Resource::new_blocking(move || slug.get(), join_page);
    let form = FormError::new(Signal::derive(move || send.value().get().and_then(Result::err)));
    let query = use_query_map();
    let sent = move || query.read().get("sent").is_some() || matches!(send.value().get(), Some(Ok(())));
    view! {
        <Title text="Ask to join"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match org.await {
                    Err(err) => view! { <section class="card narrow"><p class="alert error" role="alert">{err.summary()}</p></section> }.into_any(),
                    Ok(org) => view! {
                        <section class="card narrow">
                            <h1>"Ask to join " {org.name.clone()}</h1>
                            {if !org.accepts_requests {
                                view! { <p class="alert info" data-testid="join-message">{org.name.clone()} " does not accept join requests. Ask one of its members for an invite."</p> }.into_any()
                            } else {
                                view! {
                                    {move || sent().then(|| view! {
                                        <p class="alert success" role="status" data-testid="join-message">
                                            "Thank you. If the organization approves your request, you will receive an invite by email."
                                        </p>
                                    })}
                                    <p>"Owners and managers of " {org.name.clone()} " review requests; an approved request sends you an invite link."</p>
                                    <ActionForm action=send attr:class="form" attr:novalidate=true>
                                        <ErrorSummary error=form.error()/>
                                        <input type="hidden" name="slug" value=org.slug.clone()/>
                                        <Field label="Your email" name="email" kind="email" autocomplete="email" errors=form.field("email") value=form.value("email")/>
                                        <button type="submit" class="primary" disabled=move || send.pending().get()>"Ask to join"</button>
                                    </ActionForm>
                                }.into_any()
                            }}
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
