//! Helpers for the `#[server]` functions in `crate::app`: reach the state and the session,
//! and map use-case errors to [`AppError`] with the right HTTP status.

use std::collections::BTreeMap;

use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use crate::app::wire::{AppError, UserView};
use crate::server::db::users::UserRow;
use crate::server::service::accounts::{self, LoginError, RegisterError};
use crate::server::state::AppState;

/// The application state and the request's session.
pub async fn context() -> Result<(AppState, Session), AppError> {
    let state = use_context::<AppState>().ok_or_else(|| internal(anyhow::anyhow!("AppState not in context")))?;
    let session: Session = leptos_axum::extract()
        .await
        .map_err(|e| internal(anyhow::anyhow!("session missing from request: {e}")))?;
    Ok((state, session))
}

/// Sets the status of a failed server-function response. A form posted without
/// JavaScript keeps the 302 back to its page (the error travels in the URL); a call from
/// the hydrated app gets the real status instead of the default 500.
pub fn set_error_status(status: StatusCode) {
    let Some(parts) = use_context::<Parts>() else { return };
    let accepts_html = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if !accepts_html {
        if let Some(res) = use_context::<ResponseOptions>() {
            res.set_status(status);
        }
    }
}

/// An error with its status set.
pub fn fail(status: StatusCode, err: AppError) -> AppError {
    set_error_status(status);
    err
}

/// Logs an unexpected failure and answers a generic 500.
pub fn internal(err: anyhow::Error) -> AppError {
    tracing::error!(error = ?err, "server function failed");
    fail(StatusCode::INTERNAL_SERVER_ERROR, AppError::Unexpected)
}

/// The values a form sent, to give back with its errors.
pub fn values<const N: usize>(pairs: [(&str, &String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v.clone())).collect()
}

/// Attaches the typed values to an `Invalid` error.
pub fn with_values(err: AppError, typed: BTreeMap<String, String>) -> AppError {
    match err {
        AppError::Invalid { fields, .. } => AppError::Invalid { fields, values: typed },
        other => other,
    }
}

fn invalid(fields: BTreeMap<String, Vec<String>>) -> AppError {
    fail(StatusCode::BAD_REQUEST, AppError::Invalid { fields, values: BTreeMap::new() })
}

pub fn register_error(err: RegisterError) -> AppError {
    match err {
        RegisterError::Invalid(fields) => invalid(fields.into_map()),
        RegisterError::NotAllowed => fail(
            StatusCode::FORBIDDEN,
            AppError::refused("Registration is not open on this site; use an invite link.", "registration_disabled"),
        ),
        RegisterError::AlreadySignedIn => {
            fail(StatusCode::CONFLICT, AppError::refused("You are already signed in.", "already_authenticated"))
        }
        RegisterError::Internal(err) => internal(err),
    }
}

pub fn login_error(err: LoginError) -> AppError {
    match err {
        LoginError::BadCredentials => fail(
            StatusCode::UNAUTHORIZED,
            AppError::Invalid {
                fields: BTreeMap::from([("form".to_owned(), vec![accounts::BAD_CREDENTIALS.to_owned()])]),
                values: BTreeMap::new(),
            },
        ),
        LoginError::Internal(err) => internal(err),
    }
}

pub fn user_view(user: &UserRow) -> UserView {
    UserView { id: user.id, email: user.email.clone(), name: user.name.clone(), email_verified: user.email_verified }
}
