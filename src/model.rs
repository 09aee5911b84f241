//! The enums the server and the browser share: they travel in server-function answers, so
//! they are compiled for both. Their rules (who may do what, in which order) live in
//! `server::domain`; here they are only names.

use serde::{Deserialize, Serialize};

/// What a form with errors says above its fields.
pub const FORM_HAS_ERRORS: &str = "Please correct the errors below.";

/// Why an invite link (or a join link, §5.9) cannot be used now (SPEC §5.2, §5.3), in the
/// order the checks run. The machine reason the API answers is [`Refusal::reason`]; the
/// serialized name is the same except for `LinkExpired` (`link_expired` on the wire between
/// server and page, reason `expired`), so that the page can tell a join link's expiry from
/// an invite's.
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
    /// A join link whose uses are all taken (SPEC §5.9).
    UsedUp,
    /// A join link an owner or manager revoked.
    Revoked,
    /// A join link past its expiry (reason `expired`, like an invite's; its own sentence).
    LinkExpired,
    /// A join link limited to an email domain, followed by an address at another one.
    DomainMismatch,
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
            Self::UsedUp => "used_up",
            Self::Revoked => "revoked",
            Self::LinkExpired => "expired",
            Self::DomainMismatch => "domain_mismatch",
        }
    }

    /// The sentence the API answers with this reason.
    pub fn details(self) -> &'static str {
        match self {
            Self::Invalid => "Invalid invite code",
            Self::Expired => "This invite has expired.",
            Self::AlreadyUsed => "This invite has already been accepted.",
            Self::NeedsAuthentication => "Sign in or create an account to accept this invite.",
            Self::ExistingMember => "member already exists",
            Self::EmailMismatch => "This invite was sent to another email address.",
            Self::Needs2fa => "This organization requires two-factor authentication.",
            Self::NeedsEmailVerification => "This organization requires a verified email address.",
            Self::NeedsSso => "This organization requires signing in through its identity provider.",
            Self::SeatLimit => "This organization has no seats left.",
            Self::UsedUp => "This join link has been used up.",
            Self::Revoked => "This join link has been revoked.",
            Self::LinkExpired => "This join link has expired.",
            Self::DomainMismatch => "This join link is only for verified addresses at its email domain.",
        }
    }

    /// The link itself cannot be used (SPEC §5.2), whoever follows it.
    pub fn ends_the_link(self) -> bool {
        matches!(
            self,
            Self::Invalid | Self::Expired | Self::AlreadyUsed | Self::UsedUp | Self::Revoked | Self::LinkExpired
        )
    }
}

/// What happened to one address of a bulk invite (SPEC §5.9). The serialized name is the
/// `status` the API answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkStatus {
    Invited,
    AlreadyMember,
    AlreadyInvited,
    Invalid,
    Limited,
    SeatLimit,
}

impl BulkStatus {
    /// The machine name (`invited`, `already_member`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::AlreadyMember => "already_member",
            Self::AlreadyInvited => "already_invited",
            Self::Invalid => "invalid",
            Self::Limited => "limited",
            Self::SeatLimit => "seat_limit",
        }
    }

    /// The words a person reads for it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Invited => "Invited",
            Self::AlreadyMember => "Already a member",
            Self::AlreadyInvited => "Already invited",
            Self::Invalid => "Not a valid address",
            Self::Limited => "Limit reached",
            Self::SeatLimit => "No seats left",
        }
    }
}

/// A member's role in an organization. The serialized name is the one stored and shown
/// (`member`, `manager`, `owner`); the order of power and who may grant what are rules of
/// `server::domain::role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Manager,
    Owner,
}

impl Role {
    /// The stored and shown name (`member`, `manager`, `owner`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Manager => "manager",
            Self::Owner => "owner",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "member" => Ok(Self::Member),
            "manager" => Ok(Self::Manager),
            "owner" => Ok(Self::Owner),
            other => Err(format!("\"{other}\" is not a valid choice (member, manager, owner).")),
        }
    }
}

/// Where a row of the member table stands: a membership or an invite sent by an owner or
/// manager (`approved`), or a request still waiting for one (SPEC §5.7). The serialized
/// name is the one stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteStatus {
    /// A membership, or an invite with a token.
    Approved,
    /// A member asked for the address to be invited.
    RequestedToBeInvited,
    /// Someone asked to join.
    RequestedToJoin,
}

impl InviteStatus {
    /// The stored name (`approved`, `requested_to_be_invited`, `requested_to_join`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::RequestedToBeInvited => "requested_to_be_invited",
            Self::RequestedToJoin => "requested_to_join",
        }
    }
}

impl std::str::FromStr for InviteStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "approved" => Ok(Self::Approved),
            "requested_to_be_invited" => Ok(Self::RequestedToBeInvited),
            "requested_to_join" => Ok(Self::RequestedToJoin),
            other => Err(format!(
                "\"{other}\" is not a valid invite status (approved, requested_to_be_invited, requested_to_join)."
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_from_str() {
        for role in [Role::Member, Role::Manager, Role::Owner] {
            assert_eq!(serde_json::to_value(role).unwrap(), serde_json::json!(role.as_str()));
            assert_eq!(role.as_str().parse(), Ok(role));
        }
        for status in [InviteStatus::Approved, InviteStatus::RequestedToBeInvited, InviteStatus::RequestedToJoin] {
            assert_eq!(serde_json::to_value(status).unwrap(), serde_json::json!(status.as_str()));
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        use BulkStatus::*;
        for status in [Invited, AlreadyMember, AlreadyInvited, Invalid, Limited, SeatLimit] {
            assert_eq!(serde_json::to_value(status).unwrap(), serde_json::json!(status.as_str()));
        }
    }

    #[test]
    fn unknown_names_do_not_parse() {
        assert!("admin".parse::<Role>().is_err());
        assert!("Owner".parse::<Role>().is_err());
        assert!("pending".parse::<InviteStatus>().is_err());
    }
}
