//! Small building blocks shared by the pages.

pub mod form;

pub use form::{Checkbox, ErrorSummary, Field, FormError};
