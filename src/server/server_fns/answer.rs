//! How a server function answers a failure. A call from the hydrated app gets the HTTP
//! status of the failure's kind (`http::reply::status`, the one map) and `Retry-After`
//! where there is one; a form posted without JavaScript keeps its 302 back to the page,
//! with the error in the URL (a Leptos feature), whatever happened.

use std::collections::BTreeMap;

use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use crate::app::wire::AppError;
use crate::server::http::reply;
use crate::server::service::problem::{Failure, Kind, Problem};

/// Any use-case failure becomes an `AppError` through its [`Failure`] impl: the status is
/// set on the response, an internal cause is logged, and only what the user may see
/// crosses the wire.
impl<E: Failure> From<E> for AppError {
    fn from(err: E) -> Self {
        answer(err.problem())
    }
}

fn answer(problem: Problem) -> AppError {
    reply::observe(&problem);
    if let Some(res) = hydrated_call() {
        res.set_status(reply::status(problem.kind));
        if let Some(secs) = problem.retry_after_secs {
            res.insert_header(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
    }
    match (problem.kind, problem.field) {
        (Kind::Invalid, _) => AppError::Invalid { fields: problem.fields.into_map(), values: BTreeMap::new() },
        (Kind::Internal, _) => AppError::Unexpected,
        // A sentence about one field of the form is shown beside it.
        (_, Some(field)) => AppError::Invalid {
            fields: BTreeMap::from([(field.to_owned(), vec![problem.sentence.into_owned()])]),
            values: BTreeMap::new(),
        },
        (_, None) => AppError::refused(problem.sentence, problem.reason),
    }
}

/// Sets the status of a failed server-function response (hydrated calls only).
pub fn set_error_status(status: StatusCode) {
    if let Some(res) = hydrated_call() {
        res.set_status(status);
    }
}

/// The response of a call from the hydrated app; `None` for a form posted without
/// JavaScript (it answers with a redirect whatever happens).
fn hydrated_call() -> Option<ResponseOptions> {
    let parts = use_context::<Parts>()?;
    let accepts_html =
        parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    if accepts_html {
        return None;
    }
    use_context::<ResponseOptions>()
}

/// The values a form sent, to give back with its errors.
pub fn values<const N: usize>(pairs: [(&str, &String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v.clone())).collect()
}

/// A failure with the typed values attached, when it is about the form's fields.
pub fn with_values(err: impl Into<AppError>, typed: BTreeMap<String, String>) -> AppError {
    match err.into() {
        AppError::Invalid { fields, .. } => AppError::Invalid { fields, values: typed },
        other => other,
    }
}
