//! Seats (SPEC §5.1, §5.3 step 8): an organization's member limit caps its seats. Every
//! membership and every pending approved invite holds one (requests hold none), counted by
//! `db::members::seats_used`: sending an invite, approving a request or adding a member
//! just in time needs one more, and the limit cannot be set below them. Accepting an invite
//! turns its reserved seat into a membership: it needs the memberships, with the new one,
//! to fit (`db::members::memberships_count`), so a limit lowered below the invites already
//! out lets the first of them in, not none. Whether seats fit is decided here, once.

/// Whether `seats` seats fit within `limit` (no limit: always).
pub fn fit(limit: Option<i64>, seats: i64) -> bool {
    limit.is_none_or(|limit| seats <= limit)
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn seats_fit_up_to_the_limit() {
        assert!(fit(None, 1_000));
        assert!(fit(Some(3), 3));
        assert!(!fit(Some(3), 4));
        assert!(!fit(Some(0), 1));
    }
}
