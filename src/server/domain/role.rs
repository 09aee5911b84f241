//! Organization roles: `member` < `manager` < `owner`. The enum itself is shared with the
//! browser (`crate::model::Role`); its rules live here.

use std::cmp::Ordering;

pub use crate::model::Role;

impl Role {
    /// The rank of the role in the order of power.
    fn power(self) -> u8 {
        match self {
            Self::Member => 0,
            Self::Manager => 1,
            Self::Owner => 2,
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

    /// Whether this role may change the role of, or remove, someone holding `other`
    /// (SPEC §5.10): only a role it could grant, so a manager never touches an owner.
    pub fn can_manage(self, other: Role) -> bool {
        self.can_grant(other)
    }
}

/// The order of power.
impl Ord for Role {
    fn cmp(&self, other: &Self) -> Ordering {
        self.power().cmp(&other.power())
    }
}

impl PartialOrd for Role {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
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
    fn a_manager_manages_members_and_managers_but_not_owners() {
        assert!(Manager.can_manage(Member) && Manager.can_manage(Manager) && !Manager.can_manage(Owner));
        assert!(Owner.can_manage(Owner) && !Member.can_manage(Member));
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
