//! Email addresses as the product stores them: trimmed, lower-cased, validated.

use super::REQUIRED;

/// The longest address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// An email address that has been trimmed, lower-cased and validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses what a user typed. Errors are the sentences shown beside the field.
    pub fn parse(raw: &str) -> Result<Self, Vec<String>> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(vec![REQUIRED.to_owned()]);
        }
        if email.chars().count() > MAX_EMAIL_LEN {
            return Err(vec![format!("Ensure this field has no more than {MAX_EMAIL_LEN} characters.")]);
        }
        if !is_deliverable_shape(&email) {
            return Err(vec!["Enter a valid email address.".to_owned()]);
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parts of the address split on non-word characters, for the password
    /// similarity rule (`ada.lovelace@example.com` → `ada`, `lovelace`, `example`, `com`).
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.0.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty())
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The most addresses one bulk invite takes (SPEC §5.9).
pub const MAX_BULK: usize = 50;

/// The addresses of a paste (SPEC §5.9): separated by commas, semicolons, spaces or new
/// lines; empty pieces dropped. Nothing is validated here: each address gets its own
/// outcome.
pub fn split_addresses(pasted: &str) -> Vec<String> {
    pasted
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|piece| !piece.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The addresses of a bulk invite, each once (compared trimmed and lower-cased, first
/// occurrence kept), or the sentence for the `emails` field when there are none or more
/// than [`MAX_BULK`].
pub fn bulk_addresses(given: &[String]) -> Result<Vec<String>, Vec<String>> {
    if given.iter().all(|a| a.trim().is_empty()) {
        return Err(vec![REQUIRED.to_owned()]);
    }
    if given.len() > MAX_BULK {
        return Err(vec![format!("Ensure this field has no more than {MAX_BULK} addresses.")]);
    }
    let mut seen = std::collections::HashSet::new();
    Ok(given.iter().map(|a| a.trim().to_lowercase()).filter(|a| !a.is_empty() && seen.insert(a.clone())).collect())
}

/// RFC 5322 syntax (via `email_address`) plus what a mail system actually delivers to:
/// a dotted domain name, no IP literals, no quoted or commented local parts.
fn is_deliverable_shape(email: &str) -> bool {
    if !email_address::EmailAddress::is_valid(email) {
        return false;
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let domain_ok = domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && !domain.rsplit('.').next().unwrap_or("").chars().all(|c| c.is_ascii_digit());
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_trimmed_and_lower_cased() {
        let email = EmailAddress::parse("  Ada.Lovelace@Example.COM \n").unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn an_empty_address_is_required() {
        assert_eq!(EmailAddress::parse("   ").unwrap_err(), vec![REQUIRED]);
    }

    #[test]
    fn an_address_longer_than_254_characters_is_refused() {
        let domain = format!("{}.{}.{}.{}.com", "a".repeat(61), "b".repeat(61), "c".repeat(61), "d".repeat(60));
        let fits = format!("ada@{domain}");
        assert_eq!(fits.len(), 254);
        assert!(EmailAddress::parse(&fits).is_ok());
        let long = format!("adam@{domain}");
        assert_eq!(EmailAddress::parse(&long).unwrap_err(), vec!["Ensure this field has no more than 254 characters."]);
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "plainaddress",
            "@example.com",
            "ada@",
            "ada@localhost",
            "ada@@example.com",
            "ada lovelace@example.com",
            "ada@exa mple.com",
            ".ada@example.com",
            "ada..l@example.com",
            "ada@-example.com",
            "ada@example..com",
            "ada@[127.0.0.1]",
            "ada@127.0.0.1",
            "\"ada\"@example.com",
        ] {
            assert_eq!(
                EmailAddress::parse(bad).unwrap_err(),
                vec!["Enter a valid email address."],
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn ordinary_addresses_are_accepted() {
        for good in ["a@b.co", "ada+tag@example.com", "o'brien@example.ie", "x_y-z@sub.example.org"] {
            assert!(EmailAddress::parse(good).is_ok(), "{good} should be accepted");
        }
    }

    #[test]
    fn a_paste_splits_on_commas_spaces_and_new_lines() {
        let pasted = " a@x.io, b@x.io\nc@x.io;d@x.io\t\r\ne@x.io ,, ";
        assert_eq!(split_addresses(pasted), ["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"]);
        assert!(split_addresses(" \n ,").is_empty());
    }

    #[test]
    fn bulk_addresses_are_collapsed_case_insensitively_and_limited() {
        let given: Vec<String> = ["A@x.io", "b@x.io", " a@X.io ", "not an address"].map(str::to_owned).into();
        assert_eq!(bulk_addresses(&given).unwrap(), ["a@x.io", "b@x.io", "not an address"]);
        assert_eq!(bulk_addresses(&[]).unwrap_err(), vec![REQUIRED]);
        assert_eq!(bulk_addresses(&[" ".to_owned()]).unwrap_err(), vec![REQUIRED]);
        let fifty: Vec<String> = (0..50).map(|i| format!("p{i}@x.io")).collect();
        assert_eq!(bulk_addresses(&fifty).unwrap().len(), 50);
        let fifty_one: Vec<String> = (0..51).map(|i| format!("p{i}@x.io")).collect();
        assert_eq!(bulk_addresses(&fifty_one).unwrap_err(), vec!["Ensure this field has no more than 50 addresses."]);
    }

    #[test]
    fn words_split_on_non_word_characters() {
        let email = EmailAddress::parse("ada.lovelace@example.com").unwrap();
        assert_eq!(email.words().collect::<Vec<_>>(), ["ada", "lovelace", "example", "com"]);
    }
}
