//! Organization slugs: `[a-z0-9-]`, 1–50 characters.

/// The longest slug.
pub const MAX_SLUG_LEN: usize = 50;

/// A valid organization slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    /// Parses a slug the user typed (trimmed, lower-cased).
    pub fn parse(raw: &str) -> Result<Self, Vec<String>> {
        let slug = raw.trim().to_lowercase();
        if slug.is_empty() {
            return Err(vec![super::REQUIRED.to_owned()]);
        }
        if slug.chars().count() > MAX_SLUG_LEN {
            return Err(vec![format!("Ensure this field has no more than {MAX_SLUG_LEN} characters.")]);
        }
        if !slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            || slug.starts_with('-')
            || slug.ends_with('-')
        {
            return Err(vec![
                "Enter a valid slug: lowercase letters, numbers and hyphens, not starting or ending with a hyphen."
                    .to_owned(),
            ]);
        }
        Ok(Self(slug))
    }

    /// A slug derived from an organization's name ("Acme Corp." → "acme-corp").
    pub fn from_name(name: &str) -> Option<Self> {
        let mut slug = String::new();
        for c in name.trim().to_lowercase().chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        let slug: String = slug.chars().take(MAX_SLUG_LEN).collect();
        Self::parse(slug.trim_end_matches('-')).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_is_lower_case_letters_digits_and_hyphens() {
        assert_eq!(Slug::parse(" Acme-42 ").unwrap().as_str(), "acme-42");
        for bad in ["", "acme corp", "acme_corp", "-acme", "acme-", "ácme"] {
            assert!(Slug::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Slug::parse(&"a".repeat(51)).is_err());
        assert!(Slug::parse(&"a".repeat(50)).is_ok());
    }

    #[test]
    fn a_slug_is_derived_from_a_name() {
        assert_eq!(Slug::from_name("Acme Corp.").unwrap().as_str(), "acme-corp");
        assert_eq!(Slug::from_name("  Ünïcode  Ltd ").unwrap().as_str(), "n-code-ltd");
        assert!(Slug::from_name("!!!").is_none());
    }
}
