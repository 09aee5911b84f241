//! Rate limits (SPEC §9.4), counted in the database so that they hold across every app
//! instance sharing it. Fixed windows: a limit of N per window allows N hits in each
//! window, and lifts when the window ends.

use super::internal_errors;
use crate::server::db::{self, rate_limits};
use crate::server::state::AppState;

/// One limit: how many hits per window, and what the user is told when it is reached.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub name: &'static str,
    pub max: i64,
    pub window_secs: i64,
    pub message: &'static str,
}

/// Failed logins per account (5 per minute).
pub const LOGIN_ACCOUNT: Limit = Limit {
    name: "login-account",
    max: 5,
    window_secs: 60,
    message: "Too many failed sign-in attempts for this account. Wait a minute and try again.",
};
/// Failed logins per client address (5 per minute).
pub const LOGIN_IP: Limit = Limit {
    name: "login-ip",
    max: 5,
    window_secs: 60,
    message: "Too many failed sign-in attempts from your network. Wait a minute and try again.",
};
/// Wrong second-factor codes per account (5 per minute).
pub const TWO_FACTOR_ACCOUNT: Limit = Limit {
    name: "2fa-account",
    max: 5,
    window_secs: 60,
    message: "Too many wrong codes. Wait a minute and try again.",
};
/// Registrations per client address (20 per hour).
pub const REGISTER_IP: Limit = Limit {
    name: "register-ip",
    max: 20,
    window_secs: 3600,
    message: "Too many accounts were created from your network. Try again in an hour.",
};
/// Join requests per client address (5 per day, SPEC §5.7).
pub const JOIN_REQUEST_IP: Limit = Limit {
    name: "join-request-ip",
    max: 5,
    window_secs: 86_400,
    message: "Too many join requests were sent from your network today. Try again tomorrow.",
};
/// Verification emails a user can ask for (5 per hour).
pub const VERIFY_EMAIL_USER: Limit = Limit {
    name: "verify-email-user",
    max: 5,
    window_secs: 3600,
    message: "Too many verification emails were sent. Try again in an hour.",
};

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("{0}")]
    Limited(&'static str),
    #[error(transparent)]
    Internal(anyhow::Error),
}
internal_errors!(LimitError: sqlx::Error);

impl Limit {
    fn bucket(&self, key: &str) -> String {
        format!("{}:{key}", self.name)
    }

    fn window_start(&self, now: i64) -> i64 {
        now - now.rem_euclid(self.window_secs)
    }

    /// Counts one hit and refuses it when it goes over the limit (registrations, join
    /// requests, emails: every attempt counts).
    pub async fn consume(&self, state: &AppState, key: &str) -> Result<(), LimitError> {
        let hits = rate_limits::hit(&mut *state.db.conn().await?, &self.bucket(key), self.window_start(db::now())).await?;
        if hits > self.max {
            tracing::info!(limit = self.name, "rate limit reached");
            return Err(LimitError::Limited(self.message));
        }
        Ok(())
    }

    /// Refuses when the window already holds `max` hits, without counting (logins check
    /// first and count only failures). Returns the hits so far.
    pub async fn check(&self, state: &AppState, key: &str) -> Result<i64, LimitError> {
        let hits = rate_limits::hits(&mut *state.db.conn().await?, &self.bucket(key), self.window_start(db::now())).await?;
        if hits >= self.max {
            tracing::info!(limit = self.name, "rate limit reached");
            return Err(LimitError::Limited(self.message));
        }
        Ok(hits)
    }

    /// Counts a hit (a failure) without refusing anything.
    pub async fn record(&self, state: &AppState, key: &str) -> Result<(), LimitError> {
        rate_limits::hit(&mut *state.db.conn().await?, &self.bucket(key), self.window_start(db::now())).await?;
        Ok(())
    }

    /// Forgets this key's hits.
    pub async fn clear(&self, state: &AppState, key: &str) -> Result<(), LimitError> {
        rate_limits::clear(&mut *state.db.conn().await?, &self.bucket(key)).await?;
        Ok(())
    }
}

/// Deletes counters older than two days (run periodically).
pub async fn sweep(state: &AppState) -> Result<u64, sqlx::Error> {
    rate_limits::sweep(&mut *state.db.conn().await?, db::now() - 2 * 86_400).await
}
