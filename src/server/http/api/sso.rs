//! Single sign-on in the JSON API: an organization's provider settings
//! (`/api/0/organizations/{slug}/auth-provider/`) and the identities linked to the signed-in
//! account (`/api/0/users/me/identities/`). The browser flow is `http::sso_flow`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::server::http::client_ip::ClientIp;
use crate::server::http::extract::{ApiJson, SignedIn};
use crate::server::http::json::rfc3339;
use crate::server::http::reply::ApiError;
use crate::server::service::sso::{self, ProviderInput, ProviderSettings, SsoError};
use crate::server::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organizations/{slug}/auth-provider/", get(get_provider).put(put_provider).delete(delete_provider))
        .route("/users/me/identities/", get(my_identities))
        .route("/users/me/identities/{slug}/", delete(unlink))
}

/// The provider as the API shows it: the client secret is write-only.
fn provider_json(settings: &ProviderSettings) -> Result<Value, ApiError> {
    let Some(p) = &settings.provider else { return Err(SsoError::NotFound.into()) };
    Ok(json!({
        "issuer": p.issuer,
        "clientId": p.client_id,
        "clientSecretSet": true,
        "displayName": p.display_name,
        "requireSso": p.require_sso,
        "allowJitMembership": p.allow_jit_membership,
        "redirectUri": settings.redirect_uri,
        "loginUrl": format!("/auth/login/{}/", settings.org.slug),
        "youAreLinked": settings.actor_linked,
        "dateCreated": rfc3339(p.created_at),
        "dateUpdated": rfc3339(p.updated_at),
    }))
}

async fn get_provider(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(provider_json(&sso::settings(&state, &user, &slug).await?)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProviderBody {
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    require_sso: Option<bool>,
    #[serde(default)]
    allow_jit_membership: Option<bool>,
}

async fn put_provider(
    State(state): State<AppState>,
    ClientIp(peer): ClientIp,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<ProviderBody>,
) -> Result<Json<Value>, ApiError> {
    let input = ProviderInput {
        issuer: body.issuer,
        client_id: body.client_id,
        client_secret: body.client_secret,
        display_name: body.display_name,
        require_sso: body.require_sso,
        allow_jit_membership: body.allow_jit_membership,
    };
    let saved = sso::save(&state, &user, &slug, input, Some(&peer.to_string())).await?;
    Ok(Json(provider_json(&saved)?))
}

async fn delete_provider(
    State(state): State<AppState>,
    ClientIp(peer): ClientIp,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
) -> Result<StatusCode, ApiError> {
    sso::remove(&state, &user, &slug, Some(&peer.to_string())).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn my_identities(State(state): State<AppState>, SignedIn(user): SignedIn) -> Result<Json<Value>, ApiError> {
    let identities = sso::identities(&state, &user).await?;
    Ok(Json(Value::Array(
        identities
            .iter()
            .map(|i| {
                json!({
                    "organization": {"slug": i.org_slug, "name": i.org_name},
                    "provider": i.provider_name,
                    "email": i.email,
                    "dateLinked": rfc3339(i.linked_at),
                })
            })
            .collect(),
    )))
}

/// `DELETE /api/0/users/me/identities/{slug}/`: unlinks the signed-in user's identity at
/// that organization's provider.
async fn unlink(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
) -> Result<StatusCode, ApiError> {
    sso::unlink(&state, &user, &slug, Some(&ip.to_string())).await?;
    Ok(StatusCode::NO_CONTENT)
}
