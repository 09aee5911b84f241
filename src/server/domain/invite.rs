//! Invite tokens and the validity rules of an invite link (SPEC §5.1, §5.2, §9.5).

use hmac::Mac;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// An invite token: 256 bits as 64 lower-case hex characters. Only its hash is stored;
/// the token itself exists only in the invite email (SPEC §9.5).
pub struct InviteToken(String);

impl InviteToken {
    /// 32 bytes from the OS CSPRNG (tokens that need not be derived again).
    pub fn generate() -> Self {
        Self(hex::encode(rand::random::<[u8; 32]>()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> String {
        hash_token(&self.0)
    }
}

impl std::fmt::Debug for InviteToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InviteToken(<redacted>)")
    }
}

/// The key invite tokens are derived under (SPEC §5.1): a token is the HMAC-SHA256 of the
/// invite's id and generation, so that resending mails the same link and the server can
/// name an invite's page again from the row while storing only the token's hash. Without
/// the instance secret nothing at rest yields a token.
#[derive(Clone)]
pub struct InviteKey([u8; 32]);

impl std::fmt::Debug for InviteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InviteKey(<redacted>)")
    }
}

impl InviteKey {
    /// HMAC-SHA256 of a fixed label under the instance secret: unrelated to its other uses.
    pub fn derive(instance_secret: &[u8]) -> Self {
        Self::derive_for(instance_secret, b"gatehouse/invite-token/v1")
    }

    /// The key of join-link tokens (SPEC §5.9): the same construction under its own label,
    /// so that no invite token is ever a join link's and the other way round.
    pub fn join_links(instance_secret: &[u8]) -> Self {
        Self::derive_for(instance_secret, b"gatehouse/join-link-token/v1")
    }

    fn derive_for(instance_secret: &[u8], label: &[u8]) -> Self {
        let mut mac = super::hmac_sha256(instance_secret);
        mac.update(label);
        Self(mac.finalize().into_bytes().into())
    }

    /// The token of invite `member_id` at `generation` (a regenerate moves to the next one).
    pub fn token(&self, member_id: i64, generation: i64) -> InviteToken {
        let mut mac = super::hmac_sha256(&self.0);
        mac.update(&member_id.to_be_bytes());
        mac.update(&generation.to_be_bytes());
        InviteToken(hex::encode(mac.finalize().into_bytes()))
    }
}

/// The stored form of a token: hex SHA-256. A 256-bit random token needs no salt or
/// slow hash; a leaked table gives nothing usable.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `presented` has a token's shape: 64 hex digits.
pub fn is_token_shaped(presented: &str) -> bool {
    presented.len() == 64 && presented.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `presented` is the token whose hash is `stored`, in constant time.
pub fn token_matches(presented: &str, stored: Option<&str>) -> bool {
    let Some(stored) = stored else { return false };
    // Shape check first: a link with a malformed token never matches.
    if !is_token_shaped(presented) {
        return false;
    }
    hash_token(&presented.to_ascii_lowercase()).as_bytes().ct_eq(stored.as_bytes()).into()
}

/// Expiry in days, `expiresInDays` (1–30) or the instance default.
pub fn validity_days(requested: Option<i64>, default: u32) -> Result<i64, String> {
    match requested {
        None => Ok(i64::from(default)),
        Some(days) if (1..=30).contains(&days) => Ok(days),
        Some(_) => Err("Ensure this value is between 1 and 30.".to_owned()),
    }
}

pub const DAY_SECS: i64 = 86_400;

/// Whether an invite with this expiry has expired at `now`.
pub fn is_expired(expires_at: Option<i64>, now: i64) -> bool {
    expires_at.is_some_and(|at| at <= now)
}

pub use crate::model::Refusal;

/// What the accept checks after the link's validity need to know about the visitor.
#[derive(Debug, Clone, Copy, Default)]
pub struct Visitor {
    pub signed_in: bool,
    pub existing_member: bool,
    pub email_matches: bool,
    pub allow_email_mismatch: bool,
    /// A join link limited to an email domain, and the user's address is at another one.
    pub domain_mismatch: bool,
    pub needs_2fa: bool,
    pub needs_email_verification: bool,
    pub needs_sso: bool,
    pub at_seat_limit: bool,
}

impl Visitor {
    /// Someone not signed in: they need to sign in first, and are told what the
    /// organization will ask of any account (2FA, its provider).
    pub fn anonymous(require_2fa: bool, require_sso: bool) -> Self {
        Self { signed_in: false, needs_2fa: require_2fa, needs_sso: require_sso, ..Self::default() }
    }
}

/// The first failing check of SPEC §5.3 steps 2–8, or `None` when the invite can be accepted.
pub fn first_refusal(v: &Visitor) -> Option<Refusal> {
    if !v.signed_in {
        Some(Refusal::NeedsAuthentication)
    } else if v.existing_member {
        Some(Refusal::ExistingMember)
    } else if !v.email_matches && !v.allow_email_mismatch {
        Some(Refusal::EmailMismatch)
    } else if v.domain_mismatch {
        Some(Refusal::DomainMismatch)
    } else if v.needs_2fa {
        Some(Refusal::Needs2fa)
    } else if v.needs_email_verification {
        Some(Refusal::NeedsEmailVerification)
    } else if v.needs_sso {
        Some(Refusal::NeedsSso)
    } else if v.at_seat_limit {
        Some(Refusal::SeatLimit)
    } else {
        None
    }
}

#[cfg(test)]
mod check_order {
    use super::*;

    fn ok() -> Visitor {
        Visitor { signed_in: true, email_matches: true, ..Visitor::default() }
    }

    #[test]
    fn a_signed_in_invitee_with_nothing_missing_can_accept() {
        assert_eq!(first_refusal(&ok()), None);
    }

    #[test]
    fn an_anonymous_visitor_needs_authentication_before_anything_else() {
        let v = Visitor { signed_in: false, existing_member: true, needs_2fa: true, ..ok() };
        assert_eq!(first_refusal(&v), Some(Refusal::NeedsAuthentication));
    }

    #[test]
    fn an_existing_member_is_told_so_before_a_mismatch() {
        let v = Visitor { existing_member: true, email_matches: false, ..ok() };
        assert_eq!(first_refusal(&v), Some(Refusal::ExistingMember));
    }

    #[test]
    fn a_mismatch_is_refused_unless_the_organization_allows_it() {
        let v = Visitor { email_matches: false, ..ok() };
        assert_eq!(first_refusal(&v), Some(Refusal::EmailMismatch));
        assert_eq!(first_refusal(&Visitor { allow_email_mismatch: true, ..v }), None);
    }

    #[test]
    fn policies_come_in_order_two_factor_email_sso_then_seats() {
        let all =
            Visitor { needs_2fa: true, needs_email_verification: true, needs_sso: true, at_seat_limit: true, ..ok() };
        assert_eq!(first_refusal(&all), Some(Refusal::Needs2fa));
        assert_eq!(first_refusal(&Visitor { needs_2fa: false, ..all }), Some(Refusal::NeedsEmailVerification));
        assert_eq!(
            first_refusal(&Visitor { needs_2fa: false, needs_email_verification: false, ..all }),
            Some(Refusal::NeedsSso)
        );
        assert_eq!(first_refusal(&Visitor { at_seat_limit: true, ..ok() }), Some(Refusal::SeatLimit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_64_lower_case_hex_characters_and_fresh_each_time() {
        let (a, b) = (InviteToken::generate(), InviteToken::generate());
        assert_eq!(a.expose().len(), 64);
        assert!(a.expose().bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn a_derived_token_is_stable_per_generation_and_secret() {
        let key = InviteKey::derive(b"instance secret");
        let token = key.token(7, 0);
        assert_eq!(token.expose().len(), 64);
        assert!(token.expose().bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(key.token(7, 0).expose(), token.expose(), "a resend mails the same link");
        assert_ne!(key.token(7, 1).expose(), token.expose(), "a regenerate makes a new one");
        assert_ne!(key.token(8, 0).expose(), token.expose());
        assert_ne!(InviteKey::derive(b"another secret").token(7, 0).expose(), token.expose());
        assert!(token_matches(token.expose(), Some(&token.hash())));
    }

    #[test]
    fn only_the_right_token_matches_its_hash() {
        let token = InviteToken::generate();
        let stored = token.hash();
        assert_ne!(stored, token.expose(), "the token itself is never stored");
        assert!(token_matches(token.expose(), Some(&stored)));
        assert!(token_matches(&token.expose().to_uppercase(), Some(&stored)));
        assert!(!token_matches(InviteToken::generate().expose(), Some(&stored)));
        assert!(!token_matches("short", Some(&stored)));
        assert!(!token_matches(&"z".repeat(64), Some(&stored)));
        assert!(!token_matches(token.expose(), None));
    }

    #[test]
    fn validity_is_between_one_and_thirty_days() {
        assert_eq!(validity_days(None, 30), Ok(30));
        assert_eq!(validity_days(Some(7), 30), Ok(7));
        assert!(validity_days(Some(0), 30).is_err());
        assert!(validity_days(Some(31), 30).is_err());
    }

    #[test]
    fn an_invite_expires_at_its_expiry_time() {
        assert!(!is_expired(Some(100), 99));
        assert!(is_expired(Some(100), 100));
        assert!(!is_expired(None, 100));
    }
}
