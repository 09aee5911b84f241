//! The `?next=` redirect target: honoured only for paths on this site.

/// Returns `next` when it is a path on this site, `None` for anything that could leave it
/// (absolute URLs, scheme-relative `//host`, backslash tricks, control characters).
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 2048
        && !next.chars().any(|c| c.is_control() || c == '\\' || c.is_whitespace());
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn a_path_on_this_site_is_kept() {
        assert_eq!(safe_next("/organizations/acme/?tab=1"), Some("/organizations/acme/?tab=1"));
    }

    #[test]
    fn anything_that_leaves_the_site_is_dropped() {
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/ok\r\nLocation: https://evil.example",
            "/\tevil",
            "",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?} must be refused");
        }
    }
}
