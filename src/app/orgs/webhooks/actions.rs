//! Server functions of the webhooks page: adapters over `server::service::webhooks`. Each
//! change lands back on the page (`?done=…` names what it did, for the notice), with
//! JavaScript on or off.

use leptos::prelude::*;

use crate::app::wire::{AppError, WebhooksPageView};

/// The page's address, with `done` for the notice and `anchor` to come back to.
#[cfg(feature = "ssr")]
fn back(slug: &str, done: &str, anchor: &str) -> String {
    format!("/organizations/{slug}/settings/webhooks/?done={done}{anchor}")
}

/// The organization's endpoints (owners), each with its 10 newest deliveries, and the
/// secret this session has just made (shown once).
#[server(prefix = "/_fn", endpoint = "orgs/webhooks")]
pub async fn org_webhooks(slug: String) -> Result<WebhooksPageView, AppError> {
    use crate::server::db::page::Slice;
    use crate::server::server_fns as sfn;
    use crate::server::service::webhooks;
    let (state, session, user) = sfn::user_context().await?;
    let endpoints = webhooks::list(&state, &user, &slug).await?;
    let slice = Slice { cursor: None, per_page: 10 };
    let mut listed = Vec::with_capacity(endpoints.len());
    for endpoint in endpoints {
        let deliveries = webhooks::deliveries(&state, &user, &slug, endpoint.id, &slice).await?;
        listed.push((endpoint, deliveries));
    }
    let new_secret = webhooks::new_secret(&state, &session, &user, &slug).await?;
    let org = crate::server::service::organizations::membership(&state, &user, &slug).await?.org;
    Ok(views::page(org.slug, org.name, listed, new_secret))
}

/// Adds an endpoint; its signing secret is shown once by the page it lands on. The event
/// checkboxes arrive as `events[]` (none ticked: none at all); `enabled` only when ticked.
#[server(prefix = "/_fn", endpoint = "orgs/webhook-create")]
pub async fn create_webhook(
    slug: String,
    url: String,
    #[server(default)] events: Vec<String>,
    enabled: Option<String>,
) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::webhooks::{self, EndpointInput};
    let (state, session, user) = sfn::user_context().await?;
    // Given back with an error: the URL, the events ticked and the enabled box.
    let ticked = events.join(",");
    let enabled_box = if enabled.is_some() { "on" } else { "off" }.to_owned();
    let values = sfn::values([("url", &url), ("events", &ticked), ("enabled", &enabled_box)]);
    let input = EndpointInput { url: Some(url), events: Some(events), enabled: Some(enabled.is_some()) };
    match webhooks::create_from_page(&state, &session, &user, &slug, input).await {
        Ok(row) => {
            leptos_axum::redirect(&back(&slug, "created", &format!("#webhook-{}", row.id)));
            Ok(())
        }
        Err(err) => Err(sfn::with_values(err, values)),
    }
}

/// Turns an endpoint on (`enabled` = `true`, which also gives one the server disabled a
/// fresh start) or off.
#[server(prefix = "/_fn", endpoint = "orgs/webhook-update")]
pub async fn update_webhook(slug: String, webhook_id: i64, enabled: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::webhooks::{self, EndpointInput};
    let (state, _, user) = sfn::user_context().await?;
    let on = enabled == "true";
    let input = EndpointInput { enabled: Some(on), ..EndpointInput::default() };
    webhooks::update(&state, &user, &slug, webhook_id, input).await?;
    let done = if on { "enabled" } else { "disabled" };
    leptos_axum::redirect(&back(&slug, done, &format!("#webhook-{webhook_id}")));
    Ok(())
}

/// A new signing secret for an endpoint, shown once; the previous one signs for a day more.
#[server(prefix = "/_fn", endpoint = "orgs/webhook-rotate")]
pub async fn rotate_webhook_secret(slug: String, webhook_id: i64) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::webhooks;
    let (state, session, user) = sfn::user_context().await?;
    webhooks::rotate_from_page(&state, &session, &user, &slug, webhook_id).await?;
    leptos_axum::redirect(&back(&slug, "rotated", &format!("#webhook-{webhook_id}")));
    Ok(())
}

/// Deletes an endpoint with its deliveries.
#[server(prefix = "/_fn", endpoint = "orgs/webhook-delete")]
pub async fn delete_webhook(slug: String, webhook_id: i64) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::webhooks;
    let (state, _, user) = sfn::user_context().await?;
    webhooks::delete(&state, &user, &slug, webhook_id).await?;
    leptos_axum::redirect(&back(&slug, "deleted", ""));
    Ok(())
}

/// Sends a delivery again now (same `webhook-id`, same body).
#[server(prefix = "/_fn", endpoint = "orgs/webhook-redeliver")]
pub async fn redeliver_webhook(slug: String, webhook_id: i64, delivery_id: i64) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::webhooks;
    let (state, _, user) = sfn::user_context().await?;
    webhooks::redeliver(&state, &user, &slug, webhook_id, delivery_id).await?;
    leptos_axum::redirect(&back(&slug, "redelivered", &format!("#webhook-{webhook_id}")));
    Ok(())
}

/// Endpoints and deliveries as the page shows them, times written out on the server so
/// that the page reads the same rendered and hydrated.
#[cfg(feature = "ssr")]
mod views {
    use crate::app::wire::{
        NewWebhookSecretView, WebhookAttemptView, WebhookDeliveryView, WebhookState, WebhookView, WebhooksPageView,
    };
    use crate::server::db::page::Paged;
    use crate::server::db::webhooks::{Attempt, DeliveryRow, EndpointRow};
    use crate::server::domain::webhook::{DisabledReason, EVENT_TYPES};
    use crate::server::http::json::rfc3339;

    pub fn page(
        slug: String,
        org_name: String,
        endpoints: Vec<(EndpointRow, Paged<DeliveryRow>)>,
        new_secret: Option<(i64, String)>,
    ) -> WebhooksPageView {
        let now = crate::server::db::now();
        // Shown in its endpoint's card (one deleted meanwhile has none).
        let new_secret = new_secret
            .filter(|(id, _)| endpoints.iter().any(|(e, _)| e.id == *id))
            .map(|(endpoint_id, secret)| NewWebhookSecretView { endpoint_id, secret });
        WebhooksPageView {
            slug,
            org_name,
            event_types: EVENT_TYPES.iter().map(|e| (*e).to_owned()).collect(),
            endpoints: endpoints.into_iter().map(|(e, d)| endpoint(e, d, now)).collect(),
            new_secret,
        }
    }

    fn endpoint(e: EndpointRow, deliveries: Paged<DeliveryRow>, now: i64) -> WebhookView {
        let state = match (e.enabled, e.disabled_reason) {
            (true, _) => WebhookState::Enabled,
            (false, Some(DisabledReason::Gone)) => WebhookState::Gone,
            (false, Some(DisabledReason::Failing)) => WebhookState::Failing,
            (false, None) => WebhookState::Disabled,
        };
        WebhookView {
            id: e.id,
            failing_since: e.failing_since.map(utc_second),
            previous_secret_until: e.previous_until(now).map(utc_second),
            created_on: utc_day(e.created_at),
            more_deliveries: deliveries.next.results,
            deliveries: deliveries.rows.into_iter().map(|d| delivery(d, e.enabled)).collect(),
            url: e.url,
            events: e.events,
            state,
        }
    }

    fn delivery(d: DeliveryRow, endpoint_enabled: bool) -> WebhookDeliveryView {
        let waiting = matches!(d.status.as_str(), "queued" | "delivering");
        WebhookDeliveryView {
            id: d.id,
            created: utc_second(d.created_at),
            date: rfc3339(d.created_at),
            next_attempt: waiting.then(|| utc_second(d.next_attempt_at)),
            log: d.log.into_iter().map(attempt).collect(),
            can_redeliver: endpoint_enabled && d.status != "delivering",
            webhook_id: d.msg_id,
            event_type: d.event_type,
            state: d.status,
        }
    }

    fn attempt(a: Attempt) -> WebhookAttemptView {
        WebhookAttemptView {
            at: utc_second(a.attempted_at),
            date: rfc3339(a.attempted_at),
            status: a.status_code,
            error: a.error,
            duration_ms: a.duration_ms,
            response: a.response,
        }
    }

    /// "2026-11-30 09:12:05 UTC": deliveries and their retries are seconds apart.
    fn utc_second(unix: i64) -> String {
        let Ok(t) = time::OffsetDateTime::from_unix_timestamp(unix) else { return String::new() };
        format!("{} {:02}:{:02}:{:02} UTC", utc_day(unix), t.hour(), t.minute(), t.second())
    }

    /// A day, `YYYY-MM-DD` (UTC).
    fn utc_day(unix: i64) -> String {
        let Ok(t) = time::OffsetDateTime::from_unix_timestamp(unix) else { return String::new() };
        format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn delivery_times_are_written_to_the_second_in_utc() {
            assert_eq!(utc_second(1_796_029_925), "2026-11-30 09:12:05 UTC");
            assert_eq!(utc_day(1_796_029_925), "2026-11-30");
        }
    }
}
