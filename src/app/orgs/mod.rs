//! Organization pages: create, home, members (invite, revoke), audit log (SPEC §2, §5).

mod actions;
mod pages;

pub use actions::*;
pub use pages::{AuditLogPage, JoinRequestPage, MembersPage, NewOrganizationPage, OrgSettingsPage, OrganizationPage};
