//! Organization pages: create, home, members (invite, revoke), settings, single sign-on,
//! audit log (SPEC §2, §5).

mod actions;
mod pages;
mod sso;

pub use actions::*;
pub use pages::{AuditLogPage, JoinRequestPage, MembersPage, NewOrganizationPage, OrgSettingsPage, OrganizationPage};
pub use sso::{auth_provider, AuthProviderPage, RemoveAuthProvider, SaveAuthProvider};
