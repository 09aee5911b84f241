//! `/organizations/{slug}/settings/webhooks/` (owners, SPEC §8): the endpoints that get a
//! signed POST when something happens in the organization, the form that adds one, the
//! signing secret just made (shown once), and each endpoint's newest deliveries with their
//! attempts. Every button is a small form, so the page works with JavaScript off as well
//! as hydrated; the confirmation of a deletion is an address (`?delete={id}`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

mod actions;
mod endpoint;

use self::actions::{org_webhooks, CreateWebhook, DeleteWebhook, RedeliverWebhook, RotateWebhookSecret, UpdateWebhook};
use self::endpoint::EndpointCard;
use super::{org_nav, refusal_view, slug_param};
use crate::app::components::{ErrorSummary, Field, FormError};
use crate::app::wire::{AppError, Role, WebhooksPageView};

/// Every form of the page, and the endpoint whose deletion waits for confirmation.
#[derive(Clone, Copy)]
struct Forms {
    create: ServerAction<CreateWebhook>,
    update: ServerAction<UpdateWebhook>,
    rotate: ServerAction<RotateWebhookSecret>,
    delete: ServerAction<DeleteWebhook>,
    redeliver: ServerAction<RedeliverWebhook>,
    /// `?delete={id}`.
    deleting: Memo<Option<i64>>,
}

impl Forms {
    fn new() -> Self {
        let query = use_query_map();
        Self {
            create: ServerAction::new(),
            update: ServerAction::new(),
            rotate: ServerAction::new(),
            delete: ServerAction::new(),
            redeliver: ServerAction::new(),
            deleting: Memo::new(move |_| query.read().get("delete").and_then(|id| id.parse().ok())),
        }
    }

    /// Changes whenever a form has done something: the page is read again.
    fn changes(self) -> usize {
        self.create.version().get()
            + self.update.version().get()
            + self.rotate.version().get()
            + self.delete.version().get()
            + self.redeliver.version().get()
    }

    /// The forms of the endpoints' buttons.
    fn of_endpoints(self) -> endpoint::Forms {
        endpoint::Forms {
            update: self.update,
            rotate: self.rotate,
            delete: self.delete,
            redeliver: self.redeliver,
            deleting: self.deleting,
        }
    }

    /// The errors of the endpoints' buttons (the add form shows its own).
    fn button_errors(self) -> [Signal<Option<AppError>>; 4] {
        [error_of(self.update), error_of(self.rotate), error_of(self.delete), error_of(self.redeliver)]
    }

    /// Whether the last use of any form of the page failed.
    fn failed(self) -> bool {
        failed(self.create)
            || failed(self.update)
            || failed(self.rotate)
            || failed(self.delete)
            || failed(self.redeliver)
    }
}

fn failed<T>(action: ServerAction<T>) -> bool
where
    T: leptos::server_fn::ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    action.value().with(|v| matches!(v, Some(Err(_))))
}

/// The error of an action's last use, as a signal.
fn error_of<T>(action: ServerAction<T>) -> Signal<Option<AppError>>
where
    T: leptos::server_fn::ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let slug = slug_param();
    let forms = Forms::new();
    let page = Resource::new_blocking(move || (slug.get(), forms.changes()), |(slug, _)| org_webhooks(slug));
    view! {
        <Title text="Webhooks"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => refusal_view(err),
                    Ok(page) => webhooks_card(page, forms).into_any(),
                }
            })}
        </Suspense>
    }
}

fn webhooks_card(page: WebhooksPageView, forms: Forms) -> impl IntoView {
    let WebhooksPageView { slug, org_name, event_types, endpoints, new_secret } = page;
    let empty = endpoints.is_empty();
    // The form is folded away once there are endpoints, unless it has an error to show.
    let unfolded = empty || forms.create.value().with_untracked(|v| matches!(v, Some(Err(_))));
    view! {
        <section class="card">
            <h1>{org_name.clone()} " · Webhooks"</h1>
            {org_nav(&slug, Role::Owner, true, "Webhooks")}
            <Notice forms/>
            <p class="hint webhooks-intro">
                "When something happens in " {org_name} ", Gatehouse sends a signed POST to each endpoint that "
                "asked for it (Standard Webhooks: the " <code>"webhook-id"</code> ", " <code>"webhook-timestamp"</code>
                " and " <code>"webhook-signature"</code> " headers). A delivery that gets no 2xx answer is tried again "
                "later; an endpoint that keeps failing for 5 days is disabled."
            </p>
            <details class="add-endpoint" open=unfolded>
                <summary><h2 id="add-endpoint-title">"Add an endpoint"</h2></summary>
                <AddEndpointForm slug=slug.clone() event_types create=forms.create/>
            </details>
            <h2 id="endpoints-title">"Endpoints"</h2>
            {forms.button_errors().map(|error| view! { <ErrorSummary error/> })}
            {if empty {
                view! { <p class="empty-state" data-testid="no-webhooks">"No endpoints yet."</p> }.into_any()
            } else {
                view! {
                    <div class="webhook-list">
                        {endpoints.into_iter().map(|e| {
                            let secret = new_secret.as_ref().filter(|s| s.endpoint_id == e.id).map(|s| s.secret.clone());
                            view! { <EndpointCard slug=slug.clone() e secret forms=forms.of_endpoints()/> }
                        }).collect_view()}
                    </div>
                }.into_any()
            }}
        </section>
    }
}

/// What the last change did (the redirect's `?done=`), unless a form has an error to show.
#[component]
fn Notice(forms: Forms) -> impl IntoView {
    let query = use_query_map();
    let text = move || {
        if forms.failed() {
            return None;
        }
        Some(match query.read().get("done")?.as_str() {
            "created" => "Endpoint added.",
            "enabled" => "Endpoint enabled: it receives the next events it asks for.",
            "disabled" => "Endpoint disabled: it receives nothing until you enable it again.",
            "rotated" => "New signing secret made. The previous one keeps signing for 24 hours, so your receiver can switch without missing a delivery.",
            "deleted" => "Endpoint deleted, with its deliveries.",
            "redelivered" => "Delivery queued again: it is sent in a moment, with the same webhook-id.",
            _ => return None,
        })
    };
    move || text().map(|t| view! { <p class="alert success" role="status" data-testid="notice">{t}</p> })
}

/// What an event type means, for the checkbox that asks for it.
fn event_meaning(event: &str) -> &'static str {
    match event {
        "member.invited" => "Someone was invited",
        "member.joined" => "Someone joined",
        "member.removed" => "A member was removed",
        "member.role_changed" => "A member's role changed",
        "member.left" => "A member left",
        "invite.revoked" => "An invite was revoked",
        "invite.declined" => "An invite was declined",
        "invite_request.created" => "A member asked for an invite",
        "join_request.created" => "Someone asked to join",
        "organization.ownership_transferred" => "Ownership was handed over",
        _ => "",
    }
}

/// The form that adds an endpoint: its URL, the events it gets, whether it starts enabled.
/// After an error it shows what was sent (the post without JavaScript comes back with it).
#[component]
fn AddEndpointForm(slug: String, event_types: Vec<String>, create: ServerAction<CreateWebhook>) -> impl IntoView {
    let form = FormError::new(error_of(create));
    let event_errors = form.field("events");
    let ticked =
        move |event: &str| form.value("events").get().is_some_and(|typed| typed.split(',').any(|e| e == event));
    let enabled = move || form.value("enabled").get().is_none_or(|typed| typed == "on");
    view! {
        <ActionForm action=create attr:class="form webhook-form" attr:novalidate=true
            attr:aria-labelledby="add-endpoint-title">
            <ErrorSummary error=form.error()/>
            <input type="hidden" name="slug" value=slug/>
            <Field label="Endpoint URL" name="url" kind="url" errors=form.field("url") value=form.value("url")
                hint="An https:// address that accepts POST requests with a JSON body."/>
            <fieldset class="event-choices" class:invalid=move || !event_errors.get().is_empty()
                aria-describedby="events-hint events-errors">
                <legend>"Events to send"</legend>
                <p class="hint" id="events-hint">"Choose at least one."</p>
                <div class="event-grid">
                    {event_types.into_iter().map(|event| {
                        let id = format!("event-{}", event.replace('.', "-"));
                        let meaning = event_meaning(&event);
                        let name = event.clone();
                        view! {
                            <div class="event-choice">
                                <input type="checkbox" id=id.clone() name="events[]" value=event.clone()
                                    checked=move || ticked(&name)/>
                                <label for=id>
                                    <code>{event}</code>
                                    <span class="event-meaning">{meaning}</span>
                                </label>
                            </div>
                        }
                    }).collect_view()}
                </div>
                <ul class="field-errors" id="events-errors">
                    {move || event_errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                </ul>
            </fieldset>
            <div class="field check">
                <input type="checkbox" id="webhook-enabled" name="enabled" value="on" checked=enabled
                    aria-describedby="webhook-enabled-hint"/>
                <label for="webhook-enabled">"Enabled"</label>
                <p class="hint" id="webhook-enabled-hint">"Deliveries start with the next event. You can turn it off at any time."</p>
            </div>
            <div>
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Add endpoint"</button>
            </div>
        </ActionForm>
    }
}
