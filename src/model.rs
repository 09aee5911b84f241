//! The enums the server and the browser share: they travel in server-function answers, so
//! they are compiled for both. Their rules (who may do what, in which order) live in
//! `server::domain`; here they are only names.

use serde::{Deserialize, Serialize};

/// Why an invite link cannot be accepted now (SPEC §5.2, §5.3), in the order the checks
/// run. The serialized name is the machine reason the API answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    Invalid,
    Expired,
    AlreadyUsed,
    NeedsAuthentication,
    ExistingMember,
    EmailMismatch,
    #[serde(rename = "needs_2fa")]
    Needs2fa,
    NeedsEmailVerification,
    NeedsSso,
    SeatLimit,
}

impl Refusal {
    /// The machine reason (`expired`, `needs_2fa`, …).
    pub fn reason(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Expired => "expired",
            Self::AlreadyUsed => "already_used",
            Self::NeedsAuthentication => "needs_authentication",
            Self::ExistingMember => "existing_member",
            Self::EmailMismatch => "email_mismatch",
            Self::Needs2fa => "needs_2fa",
            Self::NeedsEmailVerification => "needs_email_verification",
            Self::NeedsSso => "needs_sso",
            Self::SeatLimit => "seat_limit",
        }
    }

    /// The link itself cannot be used (SPEC §5.2), whoever follows it.
    pub fn ends_the_link(self) -> bool {
        matches!(self, Self::Invalid | Self::Expired | Self::AlreadyUsed)
    }
}
