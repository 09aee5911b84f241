//! When registration is possible (SPEC §4.1).

use std::str::FromStr;

/// The instance's registration setting (`APP_REGISTRATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistrationMode {
    /// Anyone may register.
    #[default]
    Open,
    /// Only a browser session that has opened a valid invite link, once.
    InviteOnly,
    /// Nobody may register.
    Closed,
}

impl RegistrationMode {
    /// Whether a registration may go ahead, given whether the session holds the
    /// one registration that opening a valid invite link grants.
    pub fn allows(self, session_has_invite_pass: bool) -> bool {
        match self {
            Self::Open => true,
            Self::InviteOnly => session_has_invite_pass,
            Self::Closed => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InviteOnly => "invite_only",
            Self::Closed => "closed",
        }
    }
}

impl FromStr for RegistrationMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(Self::Open),
            "invite_only" | "invite-only" => Ok(Self::InviteOnly),
            "closed" => Ok(Self::Closed),
            other => Err(format!("unknown registration mode {other:?} (open, invite_only, closed)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RegistrationMode::*;

    #[test]
    fn open_registration_needs_nothing() {
        assert!(Open.allows(false));
    }

    #[test]
    fn invite_only_registration_needs_the_pass_from_an_invite_link() {
        assert!(!InviteOnly.allows(false));
        assert!(InviteOnly.allows(true));
    }

    #[test]
    fn closed_registration_refuses_even_with_an_invite() {
        assert!(!Closed.allows(true));
    }

    #[test]
    fn modes_parse_from_their_names() {
        assert_eq!("invite_only".parse(), Ok(InviteOnly));
        assert_eq!(" Closed ".parse(), Ok(Closed));
        assert!("sometimes".parse::<super::RegistrationMode>().is_err());
    }
}
