//! Authentication mechanics: password hashing, the breached-password check, the
//! OpenID Connect client, sealed provider secrets and the session's keys.

pub mod breached;
pub mod oidc;
pub mod password;
pub mod sealed;
pub mod session;
