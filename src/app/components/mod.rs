//! Small building blocks shared by the pages.

pub mod form;

pub use form::{Checkbox, ErrorSummary, Field, FormError};

/// Percent-encodes a value for a query string: unreserved characters, `/` and `:` (both
/// allowed in a query) stay as they are, everything else is encoded.
pub fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b':' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
