//! Rate limits (SPEC §9.4), counted in the database so that they hold across every app
//! instance sharing it. Fixed windows: a limit of N per window allows N hits in each
//! window, and lifts when the window ends.
//!
//! A hit is counted before the work it guards, by one statement that adds it and returns
//! the new count (`rate_limits::hit`); the work is refused when that count is over the
//! limit. Parallel requests are therefore limited exactly like sequential ones: of 40 at
//! once, the counter hands out 1 to 40 and only the first N go on. Limits that count only
//! failures (sign-in, codes) give their hits back when the work succeeds
//! ([`Taken::give_back`]). There is deliberately no "read the count, then decide, then
//! count" API: between such a read and its write, any number of parallel requests see the
//! same count and all go through.

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

/// Failed sign-ins per (account, client address): 5 per minute. Never per account alone,
/// so that one client's failures cannot lock the owner out from another client.
pub const LOGIN_ACCOUNT_IP: Limit = Limit {
    name: "login-account-ip",
    max: 5,
    window_secs: 60,
    message: "Too many failed sign-in attempts for this account. Wait a minute and try again.",
};
/// Failed sign-ins per client address, whatever the account: 20 per minute.
pub const LOGIN_IP: Limit = Limit {
    name: "login-ip",
    max: 20,
    window_secs: 60,
    message: "Too many failed sign-in attempts from your network. Wait a minute and try again.",
};
/// What the second-factor limits say when reached.
const TOO_MANY_CODES: &str = "Too many wrong codes. Wait a minute and try again.";

/// Wrong second-factor codes per pending sign-in (5 per minute).
pub const TWO_FACTOR_PENDING: Limit = Limit { name: "2fa-pending", max: 5, window_secs: 60, message: TOO_MANY_CODES };
/// Wrong second-factor codes per account, at sign-in and enrolment (5 per minute).
pub const TWO_FACTOR_ACCOUNT: Limit = Limit { name: "2fa-account", max: 5, window_secs: 60, message: TOO_MANY_CODES };
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
/// Invite requests a member files per organization (20 per day, SPEC §5.7).
pub const INVITE_REQUEST_MEMBER: Limit = Limit {
    name: "invite-request-member",
    max: 20,
    window_secs: 86_400,
    message: "You have asked for too many invites in this organization today. Try again tomorrow.",
};
/// Verification emails a user can ask for (5 per hour).
pub const VERIFY_EMAIL_USER: Limit = Limit {
    name: "verify-email-user",
    max: 5,
    window_secs: 3600,
    message: "Too many verification emails were sent. Try again in an hour.",
};

/// What the password-reset limits say when reached: nothing about the account.
const TOO_MANY_RESETS: &str = "Too many password reset requests. Wait a while and try again.";
/// Password-reset requests per address, whether or not it has an account (5 per hour, SPEC §4.5).
pub const RESET_ADDRESS: Limit = Limit { name: "reset-address", max: 5, window_secs: 3600, message: TOO_MANY_RESETS };
/// Password-reset requests per client address (5 per minute, SPEC §4.5).
pub const RESET_IP: Limit = Limit { name: "reset-ip", max: 5, window_secs: 60, message: TOO_MANY_RESETS };

/// A refusal by a limit: the sentence for the user, and when trying again can succeed
/// (the `Retry-After` of the 429).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub message: &'static str,
    pub retry_after_secs: u64,
}

impl std::fmt::Display for Limited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message)
    }
}

impl From<Limited> for String {
    fn from(limited: Limited) -> Self {
        limited.message.to_owned()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("{0}")]
    Limited(Limited),
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

    /// The refusal at `now`: seconds until the current window ends (at least 1).
    pub fn refusal(&self, now: i64) -> Limited {
        let left = self.window_start(now) + self.window_secs - now;
        Limited { message: self.message, retry_after_secs: left.max(1) as u64 }
    }

    /// Counts one hit and refuses it when it goes over the limit (registrations, join
    /// requests, emails: every attempt counts; keep the answer to give the hit back).
    pub async fn consume(&self, state: &AppState, key: &str) -> Result<Taken, LimitError> {
        take(state, &[(self, key)]).await
    }
}

/// Hits counted by [`take`], to give back when the work they guarded succeeded (or was not
/// done at all). Dropping it keeps them counted.
#[derive(Debug, Default)]
pub struct Taken(Vec<(String, i64)>);

/// Counts one hit on each limit, in order, before the work, and refuses at the first one
/// that goes over. That hit stays counted (attempts over the limit are attempts); the hits
/// already taken on the limits before it are given back, since the request was stopped
/// before anything those limits guard, so that, say, attempts refused for one account do
/// not use up the allowance of the client's address.
pub async fn take(state: &AppState, hits: &[(&Limit, &str)]) -> Result<Taken, LimitError> {
    let mut taken = Taken::default();
    let mut conn = state.db.conn().await?;
    for (limit, key) in hits {
        let now = db::now();
        let (bucket, window_start) = (limit.bucket(key), limit.window_start(now));
        let hits = rate_limits::hit(&mut conn, &bucket, window_start).await?;
        if hits > limit.max {
            tracing::info!(limit = limit.name, "rate limit reached");
            crate::server::metrics::rate_limited(limit.name);
            return_hits(&mut conn, taken.0).await?;
            return Err(LimitError::Limited(limit.refusal(now)));
        }
        taken.0.push((bucket, window_start));
    }
    Ok(taken)
}

impl Taken {
    /// Gives the hits back, one atomic decrement each, in the windows they were counted
    /// in: the work succeeded (a right password or code) or was not done (the hashing
    /// queue was full), and only failures count.
    pub async fn give_back(self, state: &AppState) -> Result<(), LimitError> {
        if self.0.is_empty() {
            return Ok(());
        }
        return_hits(&mut *state.db.conn().await?, self.0).await
    }
}

/// One atomic decrement per hit, in the window it was counted in.
async fn return_hits(conn: &mut db::Conn, hits: Vec<(String, i64)>) -> Result<(), LimitError> {
    for (bucket, window_start) in hits {
        rate_limits::give_back(conn, &bucket, window_start).await?;
    }
    Ok(())
}

/// Deletes counters older than two days (run periodically).
pub async fn sweep(state: &AppState) -> Result<u64, sqlx::Error> {
    rate_limits::sweep(&mut *state.db.conn().await?, db::now() - 2 * 86_400).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_says_how_long_until_the_window_ends() {
        let minute = Limit { name: "t", max: 1, window_secs: 60, message: "m" };
        assert_eq!(minute.refusal(120).retry_after_secs, 60);
        assert_eq!(minute.refusal(121).retry_after_secs, 59);
        assert_eq!(minute.refusal(179).retry_after_secs, 1);
        assert_eq!(minute.refusal(179).to_string(), "m");
    }
}
