//! Session rules (SPEC §4.6): how long a session lives, how often its last activity is
//! recorded, how it is named to its user, and its readable device line.

use sha2::{Digest, Sha256};

use super::invite::DAY_SECS;

/// A session unused for this long is over.
pub const IDLE_SECS: i64 = 14 * DAY_SECS;
/// Any session is over this long after it signed in.
pub const MAX_AGE_SECS: i64 = 90 * DAY_SECS;
/// Last activity is recorded at most this often per session: one session write per five
/// minutes of use, not one per request.
pub const TOUCH_EVERY_SECS: i64 = 300;
/// The longest user agent kept (the rest is cut).
pub const MAX_USER_AGENT: usize = 512;

/// Whether a session that signed in at `created_at` and was last seen at `last_seen_at` is
/// over at `now`.
pub fn is_over(created_at: i64, last_seen_at: i64, now: i64) -> bool {
    now - created_at >= MAX_AGE_SECS || now - last_seen_at >= IDLE_SECS
}

/// Whether the last activity recorded at `last_seen_at` should be recorded again at `now`
/// (or the client's address changed).
pub fn needs_touch(last_seen_at: i64, now: i64) -> bool {
    now - last_seen_at >= TOUCH_EVERY_SECS
}

/// The name of a session shown to its user and used to sign it out: a digest of the
/// session id, which is a secret (it is the cookie) and never leaves the server.
pub fn public_id(session_id: &str) -> String {
    hex::encode(&Sha256::digest(format!("session\n{session_id}").as_bytes())[..16])
}

/// Browser and operating system read from a user agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub browser: String,
    pub os: String,
}

impl Device {
    /// Parses a user agent (through a maintained parser); unknown parts are "Unknown".
    pub fn parse(user_agent: &str) -> Self {
        let unknown = || "Unknown".to_owned();
        match woothee::parser::Parser::new().parse(user_agent) {
            Some(found) => Self {
                browser: Some(found.name)
                    .filter(|n| !n.is_empty() && *n != "UNKNOWN")
                    .map_or_else(unknown, str::to_owned),
                os: Some(found.os).filter(|n| !n.is_empty() && *n != "UNKNOWN").map_or_else(unknown, str::to_owned),
            },
            None => Self { browser: unknown(), os: unknown() },
        }
    }

    /// "Firefox on Windows 10".
    pub fn line(&self) -> String {
        format!("{} on {}", self.browser, self.os)
    }
}

/// A user agent as kept: control characters dropped, at most [`MAX_USER_AGENT`] characters.
pub fn clean_user_agent(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_over_after_fourteen_idle_days_or_ninety_days_in_all() {
        let start = 1_000_000;
        assert!(!is_over(start, start, start + IDLE_SECS - 1));
        assert!(is_over(start, start, start + IDLE_SECS));
        let busy = start + MAX_AGE_SECS - 10;
        assert!(!is_over(start, busy, start + MAX_AGE_SECS - 1));
        assert!(is_over(start, busy, start + MAX_AGE_SECS), "activity does not extend the 90 days");
    }

    #[test]
    fn last_activity_is_recorded_at_most_every_five_minutes() {
        assert!(!needs_touch(100, 100 + TOUCH_EVERY_SECS - 1));
        assert!(needs_touch(100, 100 + TOUCH_EVERY_SECS));
    }

    #[test]
    fn the_public_id_is_stable_and_never_the_session_id() {
        let id = "abcdefghijklmnopqrstuv";
        assert_eq!(public_id(id), public_id(id));
        assert_ne!(public_id(id), public_id("another"));
        assert!(!public_id(id).contains(id));
        assert_eq!(public_id(id).len(), 32);
    }

    #[test]
    fn browsers_and_systems_are_read_from_user_agents() {
        let firefox = Device::parse("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0");
        assert_eq!(firefox.browser, "Firefox");
        assert!(firefox.os.starts_with("Windows"), "{firefox:?}");
        let chrome = Device::parse(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
        );
        assert_eq!(chrome.line(), "Chrome on Linux");
        assert_eq!(Device::parse("").line(), "Unknown on Unknown");
    }

    #[test]
    fn user_agents_are_kept_short_and_without_control_characters() {
        assert_eq!(clean_user_agent("a\nb\u{1b}c"), "abc");
        assert_eq!(clean_user_agent(&"x".repeat(2000)).len(), MAX_USER_AGENT);
    }
}
