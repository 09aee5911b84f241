//! Field-level validation errors, collected so that every failing rule is reported together.

use std::collections::BTreeMap;

/// Validation messages by field name, in the shape of the JSON API's 400 body
/// (`{"<field>": ["<message>", ...]}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// One error for one field.
    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_owned()).or_default().push(message.into());
    }

    /// Records the outcome of parsing one field and gives back its value when it parsed.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, Vec<String>>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(messages) => {
                for message in messages {
                    self.add(field, message);
                }
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> &[String] {
        self.0.get(field).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn into_map(self) -> BTreeMap<String, Vec<String>> {
        self.0
    }
}
