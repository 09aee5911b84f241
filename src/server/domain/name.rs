//! The display name a user gives at registration.

use super::REQUIRED;

/// The longest name accepted.
pub const MAX_NAME_LEN: usize = 200;

/// A trimmed, non-empty name of at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, Vec<String>> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(vec![REQUIRED.to_owned()]);
        }
        if name.chars().count() > MAX_NAME_LEN {
            return Err(vec![format!("Ensure this field has no more than {MAX_NAME_LEN} characters.")]);
        }
        if name.chars().any(char::is_control) {
            return Err(vec!["Enter a name without control characters.".to_owned()]);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed() {
        assert_eq!(DisplayName::parse("  Ada  ").unwrap().as_str(), "Ada");
    }

    #[test]
    fn an_empty_name_is_required() {
        assert_eq!(DisplayName::parse(" \t").unwrap_err(), vec![REQUIRED]);
    }

    #[test]
    fn a_name_of_201_characters_is_refused_and_200_accepted() {
        assert_eq!(
            DisplayName::parse(&"é".repeat(201)).unwrap_err(),
            vec!["Ensure this field has no more than 200 characters."]
        );
        assert!(DisplayName::parse(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn control_characters_are_refused() {
        assert!(DisplayName::parse("Ada\u{0}Lovelace").is_err());
    }
}
