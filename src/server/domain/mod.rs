//! Pure rules of the product: parsing and validation with no database, HTTP or UI.
//!
//! Everything here is a plain function or a newtype that parses; the unit tests beside each
//! rule are named as sentences.

pub mod email;
pub mod errors;
pub mod invite;
pub mod name;
pub mod next;
pub mod password;
pub mod registration;
pub mod role;
pub mod slug;
pub mod totp;

pub use email::EmailAddress;
pub use errors::FieldErrors;
pub use name::DisplayName;
pub use password::{Password, PasswordPolicy};
pub use registration::RegistrationMode;
pub use role::Role;
pub use slug::Slug;

/// The message of a required field left empty (the same wording everywhere).
pub const REQUIRED: &str = "This field is required.";
