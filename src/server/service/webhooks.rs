//! Organization webhooks (SPEC §8): an owner's endpoints, their secrets (shown once, rotated
//! with a day of overlap), their deliveries and redelivery by hand. Delivering is the
//! worker's (`server::webhooks`).

use serde_json::json;
use tower_sessions::Session;

use super::organizations::{self as orgs, Membership, OrgError};
use super::problem::{Failure, Kind, Problem};
use crate::server::auth::sealed::SealingKey;
use crate::server::auth::session;
use crate::server::db::page::{Paged, Slice};
use crate::server::db::users::UserRow;
use crate::server::db::webhooks::{self, DeliveryRow, EndpointRow, NewEndpoint};
use crate::server::db::{self, audit, organizations};
use crate::server::domain::webhook::{self as rules, WebhookSecret};
use crate::server::domain::{FieldErrors, Role};
use crate::server::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Org(#[from] OrgError),
    #[error("{}", super::problem::INVALID)]
    Invalid(FieldErrors),
    #[error("Only owners can manage webhooks.")]
    NotOwner,
    #[error("There is no such webhook endpoint or delivery in this organization.")]
    NotFound,
    #[error("{0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Internal(anyhow::Error),
}
super::internal_errors!(WebhookError: sqlx::Error, tower_sessions::session::Error);

impl Failure for WebhookError {
    fn problem(self) -> Problem {
        let sentence = self.to_string();
        match self {
            Self::Org(err) => err.problem(),
            Self::Invalid(fields) => Problem::invalid(fields),
            Self::NotOwner => Problem::new(Kind::Forbidden, "forbidden", sentence),
            Self::NotFound => Problem::new(Kind::NotFound, "not_found", sentence),
            Self::Conflict(_) => Problem::new(Kind::Conflict, "conflict", sentence),
            Self::Internal(err) => Problem::internal(err),
        }
    }
}

/// What an owner sends: every part optional on a change; on creation `enabled` defaults
/// to on.
#[derive(Debug, Default, Clone)]
pub struct EndpointInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

fn key(state: &AppState) -> SealingKey {
    SealingKey::webhooks(&state.secret)
}

/// The secrets that sign for endpoint `row` at `now`: the current one first, then the
/// previous one while it still signs.
pub fn signing_secrets(key: &SealingKey, row: &EndpointRow, now: i64) -> Result<Vec<WebhookSecret>, anyhow::Error> {
    let open = |sealed: &str| {
        key.open(row.id, sealed)
            .ok()
            .and_then(|text| WebhookSecret::parse(&text))
            .ok_or_else(|| anyhow::anyhow!("the secret of webhook endpoint {} cannot be opened", row.id))
    };
    let mut secrets = vec![open(&row.secret)?];
    if let (Some(_), Some(previous)) = (row.previous_until(now), &row.previous_secret) {
        secrets.push(open(previous)?);
    }
    Ok(secrets)
}

async fn owning(state: &AppState, actor: &UserRow, slug: &str) -> Result<Membership, WebhookError> {
    let membership = orgs::membership(state, actor, slug).await?;
    if membership.role != Role::Owner {
        return Err(WebhookError::NotOwner);
    }
    Ok(membership)
}

/// The URL and the event types of `input`, checked; `current` fills in what a change
/// leaves out.
async fn checked(
    state: &AppState,
    input: &EndpointInput,
    current: Option<&EndpointRow>,
) -> Result<(String, Vec<&'static str>), WebhookError> {
    let allow = &state.config.outbound_allowlist;
    let mut errors = FieldErrors::new();
    let url = match (&input.url, current) {
        (None, Some(row)) => Some(row.url.clone()),
        (raw, _) => errors.check(
            "url",
            rules::endpoint_url(raw.as_deref().unwrap_or_default(), allow).map(String::from).map_err(|e| vec![e]),
        ),
    };
    let events = match (&input.events, current) {
        (None, Some(row)) => errors.check("events", rules::event_types(row.events.as_slice()).map_err(|e| vec![e])),
        (raw, _) => errors.check("events", rules::event_types(raw.as_deref().unwrap_or_default()).map_err(|e| vec![e])),
    };
    let (Some(url), Some(events), true) = (url, events, errors.is_empty()) else {
        return Err(WebhookError::Invalid(errors));
    };
    // A name that resolves to a private address now is refused now (it would be at every
    // delivery); one that does not resolve yet is accepted.
    if let Err(reason) = crate::server::outbound::resolves_allowed(allow, &url).await {
        return Err(WebhookError::Invalid(FieldErrors::single("url", rules::private_address_refused(reason))));
    }
    Ok((url, events))
}

/// Creates an endpoint; returns it with its secret, the one time the secret is given.
#[tracing::instrument(skip_all, fields(org = slug))]
pub async fn create(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    input: EndpointInput,
) -> Result<(EndpointRow, String), WebhookError> {
    let membership = owning(state, actor, slug).await?;
    let (url, events) = checked(state, &input, None).await?;
    let org = &membership.org;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    organizations::lock(&mut tx, state.db.kind(), org.id).await?;
    if webhooks::count(&mut tx, org.id).await? >= rules::MAX_ENDPOINTS {
        return Err(WebhookError::Conflict(
            "This organization has 20 webhook endpoints, the most it may have. Delete one first.",
        ));
    }
    let enabled = input.enabled.unwrap_or(true);
    let new = NewEndpoint { org_id: org.id, url: &url, events: &events, enabled, created_by: actor.id, now };
    let id = webhooks::insert(&mut tx, new).await?;
    let secret = WebhookSecret::generate();
    webhooks::set_secret(&mut tx, id, &key(state).seal(id, &secret.expose()), None, None, now).await?;
    let data = json!({"webhook": id, "url": url, "events": events, "enabled": enabled});
    audit::insert(&mut tx, audit::NewEntry::about_org(org.id, Some(actor), "webhook.create", data, now)).await?;
    let row = webhooks::find(&mut tx, org.id, id).await?.ok_or(WebhookError::NotFound)?;
    tx.commit().await?;
    tracing::info!(webhook = id, "webhook endpoint created");
    Ok((row, secret.expose()))
}

/// The organization's endpoints, newest first.
pub async fn list(state: &AppState, actor: &UserRow, slug: &str) -> Result<Vec<EndpointRow>, WebhookError> {
    let membership = owning(state, actor, slug).await?;
    Ok(webhooks::list(&mut *state.db.conn().await?, membership.org.id).await?)
}

pub async fn get(state: &AppState, actor: &UserRow, slug: &str, id: i64) -> Result<EndpointRow, WebhookError> {
    let membership = owning(state, actor, slug).await?;
    webhooks::find(&mut *state.db.conn().await?, membership.org.id, id).await?.ok_or(WebhookError::NotFound)
}

/// Changes the URL, the event types or the enabled flag. Enabling an endpoint the server
/// disabled (gone, failing) gives it a fresh start.
#[tracing::instrument(skip_all, fields(org = slug, webhook = id))]
pub async fn update(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    id: i64,
    input: EndpointInput,
) -> Result<EndpointRow, WebhookError> {
    let membership = owning(state, actor, slug).await?;
    let org = &membership.org;
    let current = webhooks::find(&mut *state.db.conn().await?, org.id, id).await?.ok_or(WebhookError::NotFound)?;
    let (url, events) = checked(state, &input, Some(&current)).await?;
    let enabled = input.enabled.unwrap_or(current.enabled);
    let now = db::now();
    let mut tx = state.db.begin().await?;
    webhooks::find(&mut tx, org.id, id).await?.ok_or(WebhookError::NotFound)?;
    webhooks::update(&mut tx, id, &url, &events, enabled, now).await?;
    let data = json!({"webhook": id, "url": url, "events": events, "enabled": enabled});
    audit::insert(&mut tx, audit::NewEntry::about_org(org.id, Some(actor), "webhook.update", data, now)).await?;
    let row = webhooks::find(&mut tx, org.id, id).await?.ok_or(WebhookError::NotFound)?;
    tx.commit().await?;
    Ok(row)
}

/// Deletes an endpoint with its deliveries and their log.
pub async fn delete(state: &AppState, actor: &UserRow, slug: &str, id: i64) -> Result<(), WebhookError> {
    let membership = owning(state, actor, slug).await?;
    let org = &membership.org;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let row = webhooks::find(&mut tx, org.id, id).await?.ok_or(WebhookError::NotFound)?;
    if !webhooks::delete(&mut tx, org.id, id).await? {
        return Err(WebhookError::NotFound);
    }
    audit::insert(
        &mut tx,
        audit::NewEntry::about_org(org.id, Some(actor), "webhook.delete", json!({"webhook": id, "url": row.url}), now),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A new secret; the one it replaces keeps signing for [`rules::ROTATION_OVERLAP_SECS`], so
/// receivers can switch without losing a delivery. Returns the endpoint and the new secret.
#[tracing::instrument(skip_all, fields(org = slug, webhook = id))]
pub async fn rotate(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    id: i64,
) -> Result<(EndpointRow, String), WebhookError> {
    let membership = owning(state, actor, slug).await?;
    let org = &membership.org;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let row = webhooks::find(&mut tx, org.id, id).await?.ok_or(WebhookError::NotFound)?;
    let secret = WebhookSecret::generate();
    let until = now + rules::ROTATION_OVERLAP_SECS;
    webhooks::set_secret(
        &mut tx,
        id,
        &key(state).seal(id, &secret.expose()),
        Some(row.secret.as_str()),
        Some(until),
        now,
    )
    .await?;
    audit::insert(
        &mut tx,
        audit::NewEntry::about_org(org.id, Some(actor), "webhook.rotate-secret", json!({"webhook": id}), now),
    )
    .await?;
    let row = webhooks::find(&mut tx, org.id, id).await?.ok_or(WebhookError::NotFound)?;
    tx.commit().await?;
    Ok((row, secret.expose()))
}

/// One page of an endpoint's deliveries, newest first, each with its attempts.
pub async fn deliveries(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    id: i64,
    slice: &Slice,
) -> Result<Paged<DeliveryRow>, WebhookError> {
    let membership = owning(state, actor, slug).await?;
    let mut conn = state.db.conn().await?;
    webhooks::find(&mut conn, membership.org.id, id).await?.ok_or(WebhookError::NotFound)?;
    let rows = webhooks::deliveries(&mut conn, id, slice).await?;
    Ok(slice.keyset_page(rows, |d| d.id))
}

/// Sends a delivery again, now: same `webhook-id`, same body, a fresh retry schedule.
#[tracing::instrument(skip_all, fields(org = slug, webhook = id, delivery = delivery_id))]
pub async fn redeliver(
    state: &AppState,
    actor: &UserRow,
    slug: &str,
    id: i64,
    delivery_id: i64,
) -> Result<DeliveryRow, WebhookError> {
    let membership = owning(state, actor, slug).await?;
    let org = &membership.org;
    let now = db::now();
    let mut tx = state.db.begin().await?;
    let endpoint = webhooks::find(&mut tx, org.id, id).await?.ok_or(WebhookError::NotFound)?;
    webhooks::find_delivery(&mut tx, id, delivery_id).await?.ok_or(WebhookError::NotFound)?;
    if !endpoint.enabled {
        return Err(WebhookError::Conflict("This endpoint is disabled. Enable it before redelivering."));
    }
    if !webhooks::redeliver(&mut tx, id, delivery_id, now).await? {
        return Err(WebhookError::Conflict("This delivery is being sent right now."));
    }
    let data = json!({"webhook": id, "delivery": delivery_id});
    audit::insert(&mut tx, audit::NewEntry::about_org(org.id, Some(actor), "webhook.redeliver", data, now)).await?;
    let row = webhooks::find_delivery(&mut tx, id, delivery_id).await?.ok_or(WebhookError::NotFound)?;
    tx.commit().await?;
    // This instance's worker takes it at once (another instance's at its next poll).
    state.db.outbox_wake().wake();
    Ok(row)
}

/// [`create`] from a page: the secret is shown once by the page the form lands on (the
/// session keeps the endpoint's id only).
pub async fn create_from_page(
    state: &AppState,
    session: &Session,
    actor: &UserRow,
    slug: &str,
    input: EndpointInput,
) -> Result<EndpointRow, WebhookError> {
    let (row, _) = create(state, actor, slug, input).await?;
    session::set_new_webhook_secret(session, row.organization_id, row.id).await?;
    Ok(row)
}

/// [`rotate`] from a page (see [`create_from_page`]).
pub async fn rotate_from_page(
    state: &AppState,
    session: &Session,
    actor: &UserRow,
    slug: &str,
    id: i64,
) -> Result<EndpointRow, WebhookError> {
    let (row, _) = rotate(state, actor, slug, id).await?;
    session::set_new_webhook_secret(session, row.organization_id, row.id).await?;
    Ok(row)
}

/// The secret this session has just made, to show once: `(endpoint id, whsec_…)`.
pub async fn new_secret(
    state: &AppState,
    session: &Session,
    actor: &UserRow,
    slug: &str,
) -> Result<Option<(i64, String)>, WebhookError> {
    let membership = owning(state, actor, slug).await?;
    let Some(id) = session::take_new_webhook_secret(session, membership.org.id).await? else {
        return Ok(None);
    };
    let Some(row) = webhooks::find(&mut *state.db.conn().await?, membership.org.id, id).await? else {
        return Ok(None);
    };
    let secret = signing_secrets(&key(state), &row, db::now()).map_err(WebhookError::Internal)?;
    Ok(secret.first().map(|s| (id, s.expose())))
}
