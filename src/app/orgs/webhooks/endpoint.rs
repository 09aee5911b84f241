//! One endpoint of the webhooks page: its URL, events and state, its buttons (enable or
//! disable, rotate the secret, delete after a confirmation) and its newest deliveries,
//! each with its attempts and Redeliver.

use leptos::prelude::*;

use super::actions::{DeleteWebhook, RedeliverWebhook, RotateWebhookSecret, UpdateWebhook};
use crate::app::wire::{WebhookAttemptView, WebhookDeliveryView, WebhookState, WebhookView};

/// The forms an endpoint's buttons post to.
#[derive(Clone, Copy)]
pub(super) struct Forms {
    pub update: ServerAction<UpdateWebhook>,
    pub rotate: ServerAction<RotateWebhookSecret>,
    pub delete: ServerAction<DeleteWebhook>,
    pub redeliver: ServerAction<RedeliverWebhook>,
    /// The endpoint whose deletion waits for confirmation (`?delete={id}`).
    pub deleting: Memo<Option<i64>>,
}

fn page_href(slug: &str, query: &str) -> String {
    format!("/organizations/{slug}/settings/webhooks/{query}")
}

#[component]
pub(super) fn EndpointCard(
    slug: String,
    e: WebhookView,
    /// The signing secret just made for this endpoint, shown this once.
    secret: Option<String>,
    forms: Forms,
) -> impl IntoView {
    let id = e.id;
    let title_id = format!("webhook-{id}-url");
    let enabled = e.state == WebhookState::Enabled;
    let url = e.url.clone();
    let (update, rotate) = (forms.update, forms.rotate);
    let toggle = if enabled { "Disable" } else { "Enable" };
    let (toggle_label, rotate_label, delete_label) =
        (format!("{toggle} {url}"), format!("Rotate secret for {url}"), format!("Delete {url}"));
    let delete_href = page_href(&slug, &format!("?delete={id}#confirm-delete-{id}"));
    let (slug_update, slug_rotate, slug_confirm) = (slug.clone(), slug.clone(), slug.clone());
    let events = e.events.clone();
    let (failing_since, previous_until) = (e.failing_since.clone(), e.previous_secret_until.clone());
    view! {
        <article class="webhook" id=format!("webhook-{id}") aria-labelledby=title_id
            data-testid=format!("webhook-{id}")>
            <header class="webhook-head">
                <h3 id=title_id.clone()><code class="webhook-url">{url.clone()}</code></h3>
                <span class=format!("badge webhook-state state-{}", e.state.as_str()) data-testid="webhook-state">
                    {e.state.label()}
                </span>
            </header>
            {secret.map(|secret| view! { <NewSecret secret/> })}
            <dl class="facts webhook-facts">
                <dt>"Events"</dt>
                <dd>
                    <ul class="chips" data-testid="webhook-events">
                        {events.into_iter().map(|ev| view! { <li class="chip"><code>{ev}</code></li> }).collect_view()}
                    </ul>
                </dd>
                <dt>"Added"</dt>
                <dd>{e.created_on.clone()}</dd>
                {failing_since.map(|since| view! {
                    <dt>"Failing since"</dt>
                    <dd class="failing" data-testid="failing-since">{since}</dd>
                })}
                {previous_until.map(|until| view! {
                    <dt>"Previous secret"</dt>
                    <dd data-testid="previous-secret">"Still signs until " {until}</dd>
                })}
            </dl>
            <div class="row-actions webhook-actions">
                <ActionForm action=update attr:class="inline-form">
                    <input type="hidden" name="slug" value=slug_update/>
                    <input type="hidden" name="webhook_id" value=id.to_string()/>
                    <input type="hidden" name="enabled" value=if enabled { "false" } else { "true" }/>
                    <button type="submit" class="small" aria-label=toggle_label
                        disabled=move || update.pending().get()>{toggle}</button>
                </ActionForm>
                <ActionForm action=rotate attr:class="inline-form">
                    <input type="hidden" name="slug" value=slug_rotate/>
                    <input type="hidden" name="webhook_id" value=id.to_string()/>
                    <button type="submit" class="small" aria-label=rotate_label
                        disabled=move || rotate.pending().get()>"Rotate secret"</button>
                </ActionForm>
                <a class="danger-link" href=delete_href aria-label=delete_label>"Delete"</a>
            </div>
            <ConfirmDelete slug=slug_confirm id url forms/>
            <Deliveries slug e forms/>
        </article>
    }
}

/// The signing secret just made (the endpoint added or its secret rotated): the page
/// shows it this once.
#[component]
fn NewSecret(secret: String) -> impl IntoView {
    view! {
        <div class="created-link new-secret" role="status" data-testid="new-secret">
            <p class="new-secret-title">"Copy this signing secret now: it is not shown again."</p>
            <label for="webhook-secret">"Signing secret"</label>
            <input id="webhook-secret" class="copy-field" type="text" readonly=true value=secret
                data-testid="webhook-secret" aria-describedby="webhook-secret-hint" autocomplete="off" spellcheck="false"/>
            <p class="hint" id="webhook-secret-hint">
                "Your receiver checks the " <code>"webhook-signature"</code> " header of each delivery with it."
            </p>
        </div>
    }
}

/// The confirmation of a deletion, open on `?delete={id}`.
#[component]
fn ConfirmDelete(slug: String, id: i64, url: String, forms: Forms) -> impl IntoView {
    let delete = forms.delete;
    move || {
        (forms.deleting.get() == Some(id)).then(|| {
            let text_id = format!("confirm-delete-{id}-text");
            let (slug, url, cancel) = (slug.clone(), url.clone(), page_href(&slug, &format!("#webhook-{id}")));
            view! {
                <div class="confirm" id=format!("confirm-delete-{id}") tabindex="-1" role="group"
                    aria-labelledby=text_id>
                    <p id=text_id.clone()>
                        <strong>"Delete the endpoint " {url} "?"</strong>
                        " Deliveries to it stop at once, and its delivery log goes with it."
                    </p>
                    <ActionForm action=delete attr:class="inline-form confirm-actions">
                        <input type="hidden" name="slug" value=slug/>
                        <input type="hidden" name="webhook_id" value=id.to_string()/>
                        <button type="submit" class="danger" disabled=move || delete.pending().get()>"Delete endpoint"</button>
                        <a href=cancel>"Cancel"</a>
                    </ActionForm>
                </div>
            }
        })
    }
}

fn delivery_state(state: &str) -> &'static str {
    match state {
        "queued" => "Queued",
        "delivering" => "Sending",
        "delivered" => "Delivered",
        "failed" => "Failed",
        _ => "Unknown",
    }
}

/// The endpoint's newest deliveries, each with its attempts (oldest first).
#[component]
fn Deliveries(slug: String, e: WebhookView, forms: Forms) -> impl IntoView {
    let WebhookView { id, url, deliveries, more_deliveries, .. } = e;
    if deliveries.is_empty() {
        return view! {
            <p class="empty-state" data-testid="no-deliveries">
                "No deliveries yet. One appears here when an event this endpoint asks for happens."
            </p>
        }
        .into_any();
    }
    view! {
        <h4 class="deliveries-title">"Recent deliveries"</h4>
        <div class="table-scroll">
            <table class="deliveries-table" aria-label=format!("Recent deliveries to {url}")>
                <thead>
                    <tr>
                        <th>"Event"</th><th>"webhook-id"</th><th>"State"</th><th>"Attempts"</th><th>"Created"</th>
                        <th><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                {deliveries.into_iter().map(|d| delivery(d, slug.clone(), id, forms)).collect_view()}
            </table>
        </div>
        {more_deliveries.then(|| view! { <p class="hint">"Showing the 10 newest deliveries."</p> })}
    }
    .into_any()
}

fn delivery(d: WebhookDeliveryView, slug: String, endpoint_id: i64, forms: Forms) -> impl IntoView {
    let redeliver = forms.redeliver;
    let label = format!("Redeliver {} delivery {}", d.event_type, d.webhook_id);
    let button = d.can_redeliver.then(|| {
        view! {
            <ActionForm action=redeliver attr:class="inline-form">
                <input type="hidden" name="slug" value=slug/>
                <input type="hidden" name="webhook_id" value=endpoint_id.to_string()/>
                <input type="hidden" name="delivery_id" value=d.id.to_string()/>
                <button type="submit" class="small" aria-label=label disabled=move || redeliver.pending().get()>
                    "Redeliver"
                </button>
            </ActionForm>
        }
    });
    let attempts = d.log.len();
    view! {
        <tbody class="delivery" data-testid=format!("delivery-{}", d.webhook_id)>
            <tr>
                <td><code>{d.event_type.clone()}</code></td>
                <td><code class="msg-id">{d.webhook_id.clone()}</code></td>
                <td>
                    <span class=format!("delivery-state state-{}", d.state) data-testid="delivery-state">
                        {delivery_state(&d.state)}
                    </span>
                    {d.next_attempt.map(|at| view! { <span class="next-attempt">"Next try " {at}</span> })}
                </td>
                <td data-testid="delivery-attempts">{attempts}</td>
                <td><time datetime=d.date>{d.created}</time></td>
                <td class="row-end">{button}</td>
            </tr>
            {(!d.log.is_empty()).then(|| view! {
                <tr class="attempts-row">
                    <td colspan="6">
                        <ol class="attempt-log" aria-label=format!("Attempts of {}", d.webhook_id)>
                            {d.log.into_iter().map(attempt).collect_view()}
                        </ol>
                    </td>
                </tr>
            })}
        </tbody>
    }
}

fn attempt(a: WebhookAttemptView) -> impl IntoView {
    let ok = a.status.is_some_and(|s| (200..300).contains(&s));
    let outcome = match (a.status, a.error) {
        (Some(status), _) => format!("HTTP {status}"),
        (None, Some(error)) => error,
        (None, None) => "no answer".to_owned(),
    };
    let answer = if a.response.is_empty() { None } else { Some(a.response) };
    view! {
        <li class="attempt" data-testid="attempt">
            <time datetime=a.date>{a.at}</time>
            <span class="attempt-outcome" class:ok=ok data-testid="attempt-outcome">{outcome}</span>
            <span class="attempt-duration">{a.duration_ms} " ms"</span>
            {match answer {
                Some(text) => {
                    let title = text.clone();
                    view! { <code class="attempt-answer" title=title>{text}</code> }.into_any()
                }
                None => view! { <span class="attempt-answer empty">"Empty answer"</span> }.into_any(),
            }}
        </li>
    }
}
