//! Account pages: two-factor enrolment, the second login step, email verification
//! (SPEC §6, §7).

mod actions;
mod pages;

pub use actions::*;
pub use pages::{EmailsPage, SecurityPage, TwoFactorPage, VerifyEmailPage};
