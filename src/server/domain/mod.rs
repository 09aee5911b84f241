//! Pure rules of the product: parsing and validation with no database, HTTP or UI.
//!
//! Everything here is a plain function or a newtype that parses; the unit tests beside each
//! rule are named as sentences.

pub mod audit;
pub mod email;
pub mod errors;
pub mod invite;
pub mod join_link;
pub mod name;
pub mod next;
pub mod outbound;
pub mod password;
pub mod registration;
pub mod role;
pub mod seats;
pub mod sessions;
pub mod slug;
pub mod sso;
pub mod totp;
pub mod webhook;

pub use email::EmailAddress;
pub use errors::FieldErrors;
pub use name::DisplayName;
pub use password::{Password, PasswordPolicy};
pub use registration::RegistrationMode;
pub use role::Role;
pub use slug::Slug;

/// HMAC-SHA256 keyed with `key`, for the keys and signatures derived from the instance
/// secret (invite tokens, sealing keys, verification links).
pub fn hmac_sha256(key: &[u8]) -> hmac::Hmac<sha2::Sha256> {
    <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(key).expect("HMAC-SHA256 takes a key of any length")
}

/// The message of a required field left empty (the same wording everywhere).
pub const REQUIRED: &str = "This field is required.";

/// A required text field: trimmed, not empty, at most `max` characters.
pub fn required_text(raw: &str, max: usize) -> Result<String, Vec<String>> {
    let value = raw.trim();
    if value.is_empty() {
        Err(vec![REQUIRED.to_owned()])
    } else if value.chars().count() > max {
        Err(vec![format!("Ensure this field has no more than {max} characters.")])
    } else {
        Ok(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_is_trimmed_required_and_bounded() {
        assert_eq!(required_text("  Acme SSO ", 64).unwrap(), "Acme SSO");
        assert_eq!(required_text("   ", 64), Err(vec![REQUIRED.to_owned()]));
        assert_eq!(
            required_text(&"x".repeat(65), 64),
            Err(vec!["Ensure this field has no more than 64 characters.".to_owned()])
        );
        assert!(required_text(&"é".repeat(64), 64).is_ok(), "characters, not bytes");
    }
}
