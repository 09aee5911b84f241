//! The JSON API's error answers (SPEC §3) and the one map from a use-case failure's kind to
//! an HTTP status, which the server functions use too (`server_fns::answer`).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::server::service::problem::{Failure, Kind, Problem};

/// The HTTP status of each kind of failure: the one place that decides it.
pub fn status(kind: Kind) -> StatusCode {
    match kind {
        Kind::NotAuthenticated => StatusCode::UNAUTHORIZED,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::Invalid | Kind::Refused => StatusCode::BAD_REQUEST,
        Kind::Limited => StatusCode::TOO_MANY_REQUESTS,
        Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// What both adapters do with every failure before answering it: count it by kind and
/// reason (metrics), and log an internal one with its cause (which step failed, and why;
/// nothing of it reaches the answer).
pub fn observe(problem: &Problem) {
    crate::server::metrics::refused(problem.kind.name(), problem.reason);
    if problem.kind == Kind::Internal {
        match &problem.cause {
            Some(cause) => tracing::error!(error = format!("{cause:#}"), "internal error"),
            None => tracing::error!("internal error"),
        }
    }
}

/// An error answer of the JSON API: a use case's [`Problem`], or an answer of the HTTP
/// layer itself (a wrong content type, malformed JSON, a body too large, a cross-site
/// request), which no use case saw.
#[derive(Debug)]
pub enum ApiError {
    Problem(Problem),
    /// `{"details", "reason"}` with a status of its own.
    Http {
        status: StatusCode,
        details: String,
        reason: &'static str,
    },
}

impl ApiError {
    /// An answer of the HTTP layer itself.
    pub fn http(status: StatusCode, details: impl Into<String>, reason: &'static str) -> Self {
        Self::Http { status, details: details.into(), reason }
    }
}

/// Any use-case error becomes an API answer through its [`Failure`] impl.
impl<E: Failure> From<E> for ApiError {
    fn from(err: E) -> Self {
        Self::Problem(err.problem())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = match self {
            Self::Http { status, details, reason } => {
                return (status, axum::Json(json!({"details": details, "reason": reason}))).into_response();
            }
            Self::Problem(problem) => problem,
        };
        observe(&problem);
        let status = status(problem.kind);
        let mut response = match problem.kind {
            Kind::Invalid => (status, axum::Json(problem.fields.into_map())).into_response(),
            _ => (status, axum::Json(json!({"details": problem.sentence, "reason": problem.reason}))).into_response(),
        };
        if let Some(secs) = problem.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        response
    }
}
