//! Organization webhooks in the JSON API (SPEC §3, §8): endpoints, secret rotation,
//! deliveries and redelivery. Owners only (the use cases decide).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::server::db;
use crate::server::http::extract::{ApiJson, SignedIn};
use crate::server::http::json;
use crate::server::http::paging::{self, PageQuery};
use crate::server::http::reply::ApiError;
use crate::server::service::webhooks::{self, EndpointInput, WebhookError};
use crate::server::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organizations/{slug}/webhooks/", get(list).post(create))
        .route("/organizations/{slug}/webhooks/{id}/", get(details).put(update).delete(remove))
        .route("/organizations/{slug}/webhooks/{id}/rotate-secret/", post(rotate))
        .route("/organizations/{slug}/webhooks/{id}/deliveries/", get(deliveries))
        .route("/organizations/{slug}/webhooks/{id}/deliveries/{delivery_id}/redeliver/", post(redeliver))
}

/// An id from a path: one that is not a number names nothing.
fn id_of(raw: &str) -> Result<i64, WebhookError> {
    raw.parse().map_err(|_| WebhookError::NotFound)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointBody {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    events: Option<Vec<String>>,
    #[serde(default)]
    enabled: Option<bool>,
}

impl From<EndpointBody> for EndpointInput {
    fn from(body: EndpointBody) -> Self {
        Self { url: body.url, events: body.events, enabled: body.enabled }
    }
}

/// An endpoint's JSON with the secret that was just made.
fn with_secret(row: &db::webhooks::EndpointRow, secret: String) -> Value {
    let mut body = json::webhook(row, db::now());
    body["secret"] = json!(secret);
    body
}

async fn list(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let now = db::now();
    let rows = webhooks::list(&state, &user, &slug).await?;
    Ok(Json(Value::Array(rows.iter().map(|r| json::webhook(r, now)).collect())))
}

async fn create(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<EndpointBody>,
) -> Result<Response, ApiError> {
    let (row, secret) = webhooks::create(&state, &user, &slug, body.into()).await?;
    Ok((StatusCode::CREATED, Json(with_secret(&row, secret))).into_response())
}

async fn details(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let row = webhooks::get(&state, &user, &slug, id_of(&id)?).await?;
    Ok(Json(json::webhook(&row, db::now())))
}

async fn update(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<EndpointBody>,
) -> Result<Json<Value>, ApiError> {
    let row = webhooks::update(&state, &user, &slug, id_of(&id)?, body.into()).await?;
    Ok(Json(json::webhook(&row, db::now())))
}

async fn remove(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((slug, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    webhooks::delete(&state, &user, &slug, id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (row, secret) = webhooks::rotate(&state, &user, &slug, id_of(&id)?).await?;
    Ok(Json(with_secret(&row, secret)))
}

async fn deliveries(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((slug, id)): Path<(String, String)>,
    Query(paging_query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let slice = paging_query.page()?;
    let id = id_of(&id)?;
    let page = webhooks::deliveries(&state, &user, &slug, id, &slice).await?;
    let url = format!("{}/api/0/organizations/{slug}/webhooks/{id}/deliveries/", state.config.public_url());
    Ok(paging::answer(&url, slice.per_page, page.map(|d| json::webhook_delivery(&d))))
}

async fn redeliver(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((slug, id, delivery_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let row = webhooks::redeliver(&state, &user, &slug, id_of(&id)?, id_of(&delivery_id)?).await?;
    Ok((StatusCode::ACCEPTED, Json(json::webhook_delivery(&row))).into_response())
}
