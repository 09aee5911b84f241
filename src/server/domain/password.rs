//! The password rules of SPEC §4.2, every failing rule reported together.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::{EmailAddress, REQUIRED};

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 256;
/// Similarity at or above which a password is "too similar" to the email (as Django).
pub const MAX_SIMILARITY: f64 = 0.7;

pub const TOO_SHORT: &str = "This password is too short. It must contain at least 8 characters.";
pub const TOO_LONG: &str = "This password is too long. It must contain at most 256 characters.";
pub const ENTIRELY_NUMERIC: &str = "This password is entirely numeric.";
pub const TOO_COMMON: &str = "This password is too common.";
pub const TOO_SIMILAR: &str = "The password is too similar to the email.";

/// The 20,000 most common passwords (see `common-passwords.LICENSE`), lower-cased.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().filter(|l| !l.is_empty()).collect());

/// A password as typed. It never appears in `Debug` output and cannot be serialized.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// The local rules a new password must pass. The breached-password check is a separate,
/// networked step that runs only when these pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordPolicy;

impl PasswordPolicy {
    /// Checks every rule and returns all failures, in a stable order.
    pub fn check(&self, password: &Password, email: Option<&EmailAddress>) -> Result<(), Vec<String>> {
        let pw = password.expose();
        if pw.is_empty() {
            return Err(vec![REQUIRED.to_owned()]);
        }
        let mut errors = Vec::new();
        let len = pw.chars().count();
        if len < MIN_PASSWORD_LEN {
            errors.push(TOO_SHORT.to_owned());
        }
        if len > MAX_PASSWORD_LEN {
            errors.push(TOO_LONG.to_owned());
        }
        if pw.chars().all(|c| c.is_ascii_digit()) {
            errors.push(ENTIRELY_NUMERIC.to_owned());
        }
        if is_common(pw) {
            errors.push(TOO_COMMON.to_owned());
        }
        if let Some(email) = email {
            if too_similar(pw, email) {
                errors.push(TOO_SIMILAR.to_owned());
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Case-insensitive membership in the common-password list.
pub fn is_common(password: &str) -> bool {
    COMMON_PASSWORDS.contains(password.trim().to_lowercase().as_str())
}

/// Whether the password is too similar to the whole email or to one of its words.
fn too_similar(password: &str, email: &EmailAddress) -> bool {
    let pw = password.to_lowercase();
    std::iter::once(email.as_str())
        .chain(email.words())
        .filter(|part| !exceeds_length_ratio(&pw, part))
        .any(|part| quick_ratio(&pw, part) >= MAX_SIMILARITY)
}

/// A password much longer than the attribute cannot be similar to it (the quick ratio is
/// bounded by the length ratio); skipping those avoids flagging long passphrases that merely
/// contain a short word of the address.
fn exceeds_length_ratio(password: &str, part: &str) -> bool {
    let (pw, part) = (password.chars().count() as f64, part.chars().count() as f64);
    pw >= 10.0 * part && part < MAX_SIMILARITY / 2.0 * pw
}

/// The share of characters two strings have in common, counted as multisets:
/// `2 * matches / (len(a) + len(b))` (the upper bound of a sequence-matcher ratio).
pub fn quick_ratio(a: &str, b: &str) -> f64 {
    let total = a.chars().count() + b.chars().count();
    if total == 0 {
        return 1.0;
    }
    let mut available: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
    for c in b.chars() {
        *available.entry(c).or_default() += 1;
    }
    let matches = a
        .chars()
        .filter(|c| match available.get_mut(c) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        })
        .count();
    2.0 * matches as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pw: &str, email: &str) -> Result<(), Vec<String>> {
        PasswordPolicy.check(&Password::new(pw), Some(&EmailAddress::parse(email).unwrap()))
    }

    #[test]
    fn a_strong_password_passes() {
        assert_eq!(check("correct horse battery staple", "ada@example.com"), Ok(()));
    }

    #[test]
    fn an_empty_password_is_required() {
        assert_eq!(check("", "ada@example.com").unwrap_err(), vec![REQUIRED]);
    }

    #[test]
    fn a_password_under_eight_characters_is_too_short() {
        assert_eq!(check("Zq9#vLt", "ada@example.com").unwrap_err(), vec![TOO_SHORT]);
        assert_eq!(check("Zq9#vLtW", "ada@example.com"), Ok(()));
    }

    #[test]
    fn a_password_over_256_characters_is_too_long() {
        let long = "Zq9#vLtW".repeat(33);
        assert_eq!(check(&long, "ada@example.com").unwrap_err(), vec![TOO_LONG]);
        assert_eq!(check(&long[..256], "ada@example.com"), Ok(()));
    }

    #[test]
    fn an_all_digit_password_is_entirely_numeric() {
        assert!(check("80923461825", "ada@example.com").unwrap_err().contains(&ENTIRELY_NUMERIC.to_owned()));
    }

    #[test]
    fn a_common_password_is_refused_whatever_its_case() {
        assert_eq!(check("PassWord1", "ada@example.com").unwrap_err(), vec![TOO_COMMON]);
        assert_eq!(check("baseball", "ada@example.com").unwrap_err(), vec![TOO_COMMON]);
    }

    #[test]
    fn the_common_list_holds_at_least_ten_thousand_passwords() {
        assert!(COMMON_PASSWORDS.len() >= 10_000);
    }

    #[test]
    fn a_password_like_the_email_or_a_part_of_it_is_too_similar() {
        assert_eq!(check("Lovelace!", "ada.lovelace@example.com").unwrap_err(), vec![TOO_SIMILAR]);
        assert_eq!(check("ada.lovelace@example", "ada.lovelace@example.com").unwrap_err(), vec![TOO_SIMILAR]);
    }

    #[test]
    fn every_failing_rule_is_reported_together() {
        // short, numeric and common at once
        assert_eq!(check("123456", "ada@example.com").unwrap_err(), vec![TOO_SHORT, ENTIRELY_NUMERIC, TOO_COMMON]);
    }

    #[test]
    fn quick_ratio_counts_shared_characters() {
        assert_eq!(quick_ratio("abcd", "abcd"), 1.0);
        assert_eq!(quick_ratio("abcd", "wxyz"), 0.0);
        assert!((quick_ratio("abcd", "abzz") - 0.5).abs() < 1e-9);
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        assert_eq!(format!("{:?}", Password::new("hunter22")), "Password(<redacted>)");
    }
}
