//! Seats (SPEC §5.1, §5.3 step 8): every membership and every pending approved invite holds
//! one (requests hold none); an organization's member limit caps them. Counted by
//! `db::members::seats_used`, decided here.

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
