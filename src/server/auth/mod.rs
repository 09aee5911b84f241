//! Authentication mechanics: password hashing and the session's keys.

pub mod password;
pub mod session;
