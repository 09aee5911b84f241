//! Organization roles: `member` < `manager` < `owner`.

use std::str::FromStr;

/// A member's role. The order is the order of power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Member,
    Manager,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Manager => "manager",
            Self::Owner => "owner",
        }
    }

    /// Owners and managers invite; members may only request an invite (SPEC §5.1).
    pub fn can_invite(self) -> bool {
        self >= Self::Manager
    }

    /// The roles this role may hand out: a manager cannot grant `owner`.
    pub fn can_grant(self, role: Role) -> bool {
        self.can_invite() && (self == Self::Owner || role < Self::Owner)
    }
}

impl FromStr for Role {
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

#[cfg(test)]
mod tests {
    use super::Role::*;

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Member < Manager && Manager < Owner);
    }

    #[test]
    fn a_member_cannot_invite() {
        assert!(!Member.can_invite());
        assert!(!Member.can_grant(Member));
    }

    #[test]
    fn a_manager_cannot_grant_owner() {
        assert!(Manager.can_grant(Member));
        assert!(Manager.can_grant(Manager));
        assert!(!Manager.can_grant(Owner));
    }

    #[test]
    fn an_owner_can_grant_every_role() {
        assert!([Member, Manager, Owner].into_iter().all(|r| Owner.can_grant(r)));
    }

    #[test]
    fn unknown_roles_do_not_parse() {
        assert!("admin".parse::<super::Role>().is_err());
        assert_eq!("manager".parse(), Ok(Manager));
    }
}
