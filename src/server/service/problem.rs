//! The one error vocabulary of the use cases.
//!
//! Every use-case error says once what kind of failure it is, its machine reason and its
//! sentence, by implementing [`Failure`]. The sentence is the error's `Display` (its
//! `#[error("…")]`), the kind and the reason are its [`Failure::problem`]. The adapters never
//! look inside a use-case error: the JSON API turns any `Failure` into its answer
//! (`http::reply`), the server functions into an `AppError` (`server_fns::answer`), and
//! both take the HTTP status of a kind from one function (`http::reply::status`).

use std::borrow::Cow;

use super::limits::Limited;
use crate::server::auth::password::BUSY_RETRY_AFTER_SECS;
use crate::server::domain::FieldErrors;

/// What a form with errors says above its fields (the browser shows the same words).
pub use crate::model::FORM_HAS_ERRORS as INVALID;

/// What a client is told when the password-hashing queue is full (SPEC §9.4).
pub const BUSY: &str = "The server is busy. Try again in a moment.";

/// What kind of failure a use case ended in. The HTTP status of each is decided in one
/// place (`http::reply::status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Who is asking is not established: not signed in, wrong credentials, or a sign-in
    /// through the organization's provider is needed.
    NotAuthenticated,
    /// No such thing, or not visible to this user (the same answer, so outsiders learn
    /// nothing).
    NotFound,
    /// Known, but this user's role or the instance's settings do not allow it.
    Forbidden,
    /// The state of things does not allow it: already a member, already done, no seat.
    Conflict,
    /// The input has errors, by field.
    Invalid,
    /// A rule of the flow refuses it, with a machine reason (`expired`, `needs_2fa`, …).
    Refused,
    /// A rate limit: try again after a while.
    Limited,
    /// The server cannot take it now (the hashing queue is full): try again in a moment.
    Unavailable,
    /// Our fault: logged with its cause, answered with a generic sentence.
    Internal,
}

impl Kind {
    /// The kind's name in metrics labels.
    pub fn name(self) -> &'static str {
        match self {
            Self::NotAuthenticated => "not_authenticated",
            Self::NotFound => "not_found",
            Self::Forbidden => "forbidden",
            Self::Conflict => "conflict",
            Self::Invalid => "invalid",
            Self::Refused => "refused",
            Self::Limited => "limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

/// A use case's failure as every adapter sees it.
#[derive(Debug)]
pub struct Problem {
    pub kind: Kind,
    /// The machine reason (`registration_disabled`, `seat_limit`, …).
    pub reason: &'static str,
    /// The sentence the user reads.
    pub sentence: Cow<'static, str>,
    /// `Invalid`: messages by field.
    pub fields: FieldErrors,
    /// The form field the sentence is about, for forms that show it there (the JSON API
    /// answers `details`/`reason` as for any other problem).
    pub field: Option<&'static str>,
    /// `Limited`, `Unavailable`: when to try again.
    pub retry_after_secs: Option<u64>,
    /// `Internal`: the cause, with the step that failed; logged, never answered.
    pub cause: Option<anyhow::Error>,
}

impl Problem {
    pub fn new(kind: Kind, reason: &'static str, sentence: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            reason,
            sentence: sentence.into(),
            fields: FieldErrors::new(),
            field: None,
            retry_after_secs: None,
            cause: None,
        }
    }

    /// The input has errors.
    pub fn invalid(fields: FieldErrors) -> Self {
        Self { fields, ..Self::new(Kind::Invalid, "invalid", INVALID) }
    }

    /// A rate limit was reached.
    pub fn limited(limited: Limited) -> Self {
        Self {
            retry_after_secs: Some(limited.retry_after_secs),
            ..Self::new(Kind::Limited, "rate_limited", limited.message)
        }
    }

    /// The password-hashing queue is full.
    pub fn busy() -> Self {
        Self { retry_after_secs: Some(BUSY_RETRY_AFTER_SECS), ..Self::new(Kind::Unavailable, "busy", BUSY) }
    }

    /// Our fault. The cause goes to the log only.
    pub fn internal(cause: anyhow::Error) -> Self {
        Self { cause: Some(cause), ..Self::new(Kind::Internal, "internal", "Internal error.") }
    }

    /// The sentence belongs beside `field` on a form.
    pub fn at_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }
}

/// A use-case error: says once its kind, reason and sentence.
pub trait Failure {
    fn problem(self) -> Problem;
}

impl Failure for Problem {
    fn problem(self) -> Problem {
        self
    }
}

/// The session store failing is never the user's fault.
impl Failure for tower_sessions::session::Error {
    fn problem(self) -> Problem {
        Problem::internal(anyhow::Error::new(self).context("session store"))
    }
}
