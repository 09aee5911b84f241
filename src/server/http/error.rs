//! The JSON API's error bodies (SPEC §3) and a JSON extractor whose every rejection is one
//! of them.

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::server::auth::password::BUSY_RETRY_AFTER_SECS;
use crate::server::domain::FieldErrors;
use crate::server::service::limits::Limited;

/// What a client is told when the password-hashing queue is full (SPEC §9.4).
pub const BUSY: &str = "The server is busy. Try again in a moment.";

/// An error answer of the JSON API.
#[derive(Debug)]
pub enum ApiError {
    /// `{"<field>": ["<message>", ...]}` with 400.
    Fields(BTreeMap<String, Vec<String>>),
    /// `{"details": "...", "reason": "..."}` with the given status.
    Flow { status: StatusCode, details: String, reason: &'static str },
    /// A `Flow` the client may retry after `retry_after_secs` (`Retry-After`): a rate limit
    /// (429) or a full password-hashing queue (503).
    Later { status: StatusCode, details: String, reason: &'static str, retry_after_secs: u64 },
    /// 500 with a generic sentence; the cause is logged here, never sent.
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn flow(status: StatusCode, details: impl Into<String>, reason: &'static str) -> Self {
        Self::Flow { status, details: details.into(), reason }
    }

    pub fn fields(errors: FieldErrors) -> Self {
        Self::Fields(errors.into_map())
    }

    /// 429 with the limit's sentence and `Retry-After`.
    pub fn rate_limited(limited: Limited) -> Self {
        Self::Later {
            status: StatusCode::TOO_MANY_REQUESTS,
            details: limited.message.to_owned(),
            reason: "rate_limited",
            retry_after_secs: limited.retry_after_secs,
        }
    }

    /// 503 with `Retry-After`: the password-hashing queue is full.
    pub fn busy() -> Self {
        Self::Later {
            status: StatusCode::SERVICE_UNAVAILABLE,
            details: BUSY.to_owned(),
            reason: "busy",
            retry_after_secs: BUSY_RETRY_AFTER_SECS,
        }
    }

    pub fn unauthenticated() -> Self {
        Self::flow(StatusCode::UNAUTHORIZED, "Authentication credentials were not provided.", "not_authenticated")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Fields(fields) => (StatusCode::BAD_REQUEST, axum::Json(fields)).into_response(),
            Self::Flow { status, details, reason } => {
                (status, axum::Json(json!({"details": details, "reason": reason}))).into_response()
            }
            Self::Later { status, details, reason, retry_after_secs } => (
                status,
                [(header::RETRY_AFTER, retry_after_secs.to_string())],
                axum::Json(json!({"details": details, "reason": reason})),
            )
                .into_response(),
            Self::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    axum::Json(json!({"details": "Internal error.", "reason": "internal"})),
                )
                    .into_response()
            }
        }
    }
}

/// `axum::Json` whose rejections are JSON errors: 415 for a wrong content type, 400 for
/// malformed JSON, invalid UTF-8, wrong types or unknown fields, 413 for a huge body.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::flow(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send a JSON body with Content-Type: application/json.",
            "unsupported_media_type",
        ),
        JsonRejection::JsonSyntaxError(err) => {
            ApiError::flow(StatusCode::BAD_REQUEST, format!("Malformed JSON: {}", err.body_text()), "parse_error")
        }
        JsonRejection::JsonDataError(err) => {
            ApiError::flow(StatusCode::BAD_REQUEST, format!("Invalid request body: {}", err.body_text()), "parse_error")
        }
        JsonRejection::BytesRejection(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::flow(StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large.", "too_large")
        }
        other => ApiError::flow(StatusCode::BAD_REQUEST, other.body_text(), "bad_request"),
    }
}
