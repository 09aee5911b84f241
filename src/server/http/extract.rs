//! Extractors the JSON API's handlers share: a JSON body whose every rejection is an API
//! error, and the signed-in user.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use super::client_ip::ClientIp;
use super::reply::ApiError;
use crate::server::db::users::UserRow;
use crate::server::service::accounts;
use crate::server::state::AppState;

/// `axum::Json` whose rejections are JSON errors: 415 for a wrong content type, 400 for
/// malformed JSON, invalid UTF-8, wrong types or unknown fields, 413 for a huge body. Every
/// body of the API is a JSON object: an array is refused too (serde would otherwise read it
/// as the fields in order, `[1]` as the first field).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => return Err(json_rejection(rejection)),
        };
        if !value.is_object() {
            return Err(ApiError::http(
                StatusCode::BAD_REQUEST,
                "The request body must be a JSON object.",
                "parse_error",
            ));
        }
        serde_path_to_error::deserialize(value).map(Self).map_err(|err| {
            ApiError::http(StatusCode::BAD_REQUEST, format!("Invalid request body: {err}"), "parse_error")
        })
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::http(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send a JSON body with Content-Type: application/json.",
            "unsupported_media_type",
        ),
        JsonRejection::JsonSyntaxError(err) => {
            ApiError::http(StatusCode::BAD_REQUEST, format!("Malformed JSON: {}", err.body_text()), "parse_error")
        }
        JsonRejection::JsonDataError(err) => {
            ApiError::http(StatusCode::BAD_REQUEST, format!("Invalid request body: {}", err.body_text()), "parse_error")
        }
        JsonRejection::BytesRejection(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::http(StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large.", "too_large")
        }
        other => ApiError::http(StatusCode::BAD_REQUEST, other.body_text(), "bad_request"),
    }
}

/// The signed-in, active user (`accounts::current_user`), or the API's 401.
pub struct SignedIn(pub UserRow);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await.map_err(|(_, why)| {
            ApiError::from(crate::server::service::problem::Problem::internal(anyhow::anyhow!(
                "session layer missing: {why}"
            )))
        })?;
        let user = accounts::current_user(state, &session).await?;
        let ip = ClientIp::from_request_parts(parts, state).await.ok().map(|ip| ip.to_string());
        Ok(Self(UserRow { client_ip: ip, ..user }))
    }
}
