//! Governed join links (SPEC §5.9): their limits, their states and the domain rule.

use super::Role;

/// How long a join link may work, in days.
pub const DAYS: std::ops::RangeInclusive<i64> = 1..=30;
/// How many people one link may let in.
pub const USES: std::ops::RangeInclusive<i64> = 1..=1000;
/// Without an expiry in the request: a week.
pub const DEFAULT_DAYS: i64 = 7;
/// Without a maximum in the request.
pub const DEFAULT_USES: i64 = 10;
/// Active links one organization may have at once (a bound on what a manager can hand out).
pub const MAX_ACTIVE: i64 = 50;

/// Expiry in days: `expiresInDays` (1–30) or the default.
pub fn days(requested: Option<i64>) -> Result<i64, String> {
    in_range(requested.unwrap_or(DEFAULT_DAYS), &DAYS)
}

/// Maximum uses: `maxUses` (1–1000) or the default.
pub fn max_uses(requested: Option<i64>) -> Result<i64, String> {
    in_range(requested.unwrap_or(DEFAULT_USES), &USES)
}

fn in_range(value: i64, range: &std::ops::RangeInclusive<i64>) -> Result<i64, String> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(format!("Ensure this value is between {} and {}.", range.start(), range.end()))
    }
}

/// The role a link may grant: at most `member` unless an owner creates it (SPEC §5.9) —
/// stricter than an invite, since a link is not bound to a person.
pub fn may_create(actor: Role, role: Role) -> bool {
    actor.can_invite() && (actor == Role::Owner || role == Role::Member)
}

/// An email domain a link is limited to: lower-cased, a leading `@` dropped, a dotted name
/// of ASCII letters, digits and hyphens (an international domain in its `xn--` form; no IP
/// literals, at most 253 characters).
pub fn email_domain(raw: &str) -> Result<String, String> {
    let domain = raw.trim().trim_start_matches('@').to_lowercase();
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let shape_ok = domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(label_ok)
        && !domain.rsplit('.').next().unwrap_or("").chars().all(|c| c.is_ascii_digit());
    if shape_ok {
        Ok(domain)
    } else {
        Err("Enter a domain such as example.com.".to_owned())
    }
}

/// Whether `email` (stored lower-cased) is at exactly `domain` (no subdomains: a link for
/// `example.com` is not one for `mail.example.com`).
pub fn at_domain(email: &str, domain: &str) -> bool {
    email.rsplit_once('@').is_some_and(|(_, at)| at == domain)
}

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Active,
    UsedUp,
    Expired,
    Revoked,
}

impl LinkState {
    /// A link's state at `now`; a revoked link says so before it says it expired, an
    /// expired one before it says it is used up.
    pub fn of(uses: i64, max_uses: i64, expires_at: i64, revoked: bool, now: i64) -> Self {
        if revoked {
            Self::Revoked
        } else if expires_at <= now {
            Self::Expired
        } else if uses >= max_uses {
            Self::UsedUp
        } else {
            Self::Active
        }
    }

    /// The name the API answers (`active`, `used_up`, `expired`, `revoked`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::UsedUp => "used_up",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }

    /// Why the link cannot be used, when it cannot.
    pub fn refusal(self) -> Option<super::invite::Refusal> {
        use super::invite::Refusal;
        match self {
            Self::Active => None,
            Self::UsedUp => Some(Refusal::UsedUp),
            Self::Expired => Some(Refusal::LinkExpired),
            Self::Revoked => Some(Refusal::Revoked),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_inclusive_with_defaults() {
        assert_eq!(days(None), Ok(7));
        assert_eq!(days(Some(1)), Ok(1));
        assert_eq!(days(Some(30)), Ok(30));
        assert!(days(Some(0)).is_err() && days(Some(31)).is_err() && days(Some(-5)).is_err());
        assert_eq!(max_uses(None), Ok(10));
        assert_eq!(max_uses(Some(1000)), Ok(1000));
        assert!(max_uses(Some(0)).is_err() && max_uses(Some(1001)).is_err());
    }

    #[test]
    fn only_owners_create_links_above_member() {
        assert!(may_create(Role::Manager, Role::Member));
        assert!(!may_create(Role::Manager, Role::Manager));
        assert!(!may_create(Role::Manager, Role::Owner));
        assert!(may_create(Role::Owner, Role::Manager));
        assert!(may_create(Role::Owner, Role::Owner));
        assert!(!may_create(Role::Member, Role::Member));
    }

    #[test]
    fn domains_are_normalised_and_checked() {
        assert_eq!(email_domain(" @Example.COM "), Ok("example.com".to_owned()));
        assert_eq!(email_domain("sub.example.co.uk"), Ok("sub.example.co.uk".to_owned()));
        for bad in ["", "example", "exa mple.com", "bücher.de", "-x.com", "x..com", "127.0.0.1", "a@b.com", "x.com/"] {
            assert!(email_domain(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn the_domain_must_match_exactly() {
        assert!(at_domain("ada@example.com", "example.com"));
        assert!(!at_domain("ada@mail.example.com", "example.com"));
        assert!(!at_domain("ada@example.com.evil.io", "example.com"));
        assert!(!at_domain("ada@notexample.com", "example.com"));
    }

    #[test]
    fn states_in_their_priority() {
        assert_eq!(LinkState::of(0, 5, 100, false, 50), LinkState::Active);
        assert_eq!(LinkState::of(5, 5, 100, false, 50), LinkState::UsedUp);
        assert_eq!(LinkState::of(5, 5, 100, false, 100), LinkState::Expired);
        assert_eq!(LinkState::of(5, 5, 100, true, 100), LinkState::Revoked);
    }
}
