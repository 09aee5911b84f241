//! Authentication mechanics: password hashing, the breached-password check and the
//! session's keys.

pub mod breached;
pub mod password;
pub mod session;
