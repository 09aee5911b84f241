//! Rows and use-case results as the wire types the pages render (`crate::app::wire`).

use crate::app::wire::{
    AccountView, AppError, AuditView, IdentityView, InviteView, JoinView, LinkableView, MemberView, OrgSettingsView,
    OrgView, SessionView, UserView,
};
use crate::server::db::audit::EntryRow;
use crate::server::db::organizations::OrgRow;
use crate::server::db::users::UserRow;
use crate::server::http::json::rfc3339;
use crate::server::service::accept::{AcceptError, Details};
use crate::server::service::account;
use crate::server::service::organizations::{MemberEntry, Membership, Settings};

pub fn user(user: &UserRow) -> UserView {
    UserView { id: user.id, email: user.email.clone(), name: user.name.clone(), email_verified: user.email_verified }
}

/// The account settings page.
pub fn account(user: &UserRow) -> AccountView {
    AccountView {
        name: user.name.clone(),
        email: user.email.clone(),
        email_verified: user.email_verified,
        has_password: user.password_hash.is_some(),
    }
}

/// A signed-in session as its user sees it; a time not recorded (0) is `None`.
pub fn session(s: account::SessionView) -> SessionView {
    SessionView {
        device: s.device.line(),
        signed_in: utc_minute(s.created_at),
        last_active: utc_minute(s.last_seen_at),
        id: s.id,
        current: s.current,
        ip: s.ip,
    }
}

/// A time to the minute, in UTC: "2026-11-30 09:12 UTC" (the same for every reader, and
/// the same on the server and in the browser).
fn utc_minute(unix: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).ok().filter(|_| unix > 0)?;
    Some(format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute()))
}

pub fn organization(membership: &Membership, entries: &[MemberEntry], teams: Vec<(String, String)>) -> OrgView {
    OrgView {
        teams,
        slug: membership.org.slug.clone(),
        name: membership.org.name.clone(),
        role: membership.role,
        can_invite: membership.role.can_invite(),
        invitee_joined: membership.org.first_invitee_joined_at.is_some(),
        members: entries.iter().map(member).collect(),
    }
}

fn member(e: &MemberEntry) -> MemberView {
    MemberView {
        id: e.row.id,
        name: e.user.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
        email: e.row.email.clone().or_else(|| e.user.as_ref().map(|u| u.email.clone())).unwrap_or_default(),
        role: e.row.role,
        pending: e.row.is_pending(),
        expired: e.expired,
        inviter_name: e.inviter_name.clone(),
        mail_status: e.mail_state.clone(),
        invite_status: e.row.invite_status,
    }
}

pub fn audit_entry(e: EntryRow) -> AuditView {
    AuditView {
        id: e.id,
        event: e.event,
        actor: e.actor_name,
        data: e.data.to_string(),
        ip: e.ip,
        date: rfc3339(e.created_at),
    }
}

pub fn settings(settings: Settings) -> OrgSettingsView {
    let Settings { membership, seats_used } = settings;
    let org = membership.org;
    OrgSettingsView {
        slug: org.slug,
        name: org.name,
        role: membership.role,
        can_edit: membership.role.can_invite(),
        can_invite: membership.role.can_invite(),
        require_2fa: org.require_2fa,
        require_email_verification: org.require_email_verification,
        allow_join_requests: org.allow_join_requests,
        default_role: org.default_role,
        allow_email_mismatch: org.allow_email_mismatch,
        member_limit: org.member_limit,
        seats_used,
    }
}

pub fn join_page(org: OrgRow) -> JoinView {
    JoinView { slug: org.slug, name: org.name, accepts_requests: org.allow_join_requests }
}

/// The invite page: what the domain decided stands between this visitor and joining, or
/// why the link cannot be used at all. Only an internal failure is an error.
pub fn invite(details: Result<Details, AcceptError>) -> Result<InviteView, AppError> {
    match details {
        Ok(d) => Ok(InviteView {
            refusal: d.refusal,
            org_slug: d.org.slug.clone(),
            org_name: d.org.name.clone(),
            invited_email: d.invited_email.clone(),
            inviter_name: d.inviter_name.clone(),
            email_mismatch: d.visitor.signed_in && !d.visitor.email_matches,
            signed_in_email: d.signed_in_email.clone(),
            sso_provider: d.sso.as_ref().map(|s| s.provider_name.clone()),
            require_sso: d.sso.as_ref().is_some_and(|s| s.required),
        }),
        Err(err) => match err.refusal() {
            Some(refusal) => Ok(InviteView {
                inviter_name: match err {
                    AcceptError::Expired { inviter_name } => inviter_name,
                    _ => None,
                },
                ..InviteView::unusable(refusal)
            }),
            None => Err(err.into()),
        },
    }
}

pub fn identity(i: crate::server::service::sso::LinkedIdentity) -> IdentityView {
    IdentityView { org_slug: i.org_slug, org_name: i.org_name, provider_name: i.provider_name, email: i.email }
}

pub fn linkable((org_slug, org_name, provider_name): (String, String, String)) -> LinkableView {
    LinkableView { org_slug, org_name, provider_name }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_times_are_written_to_the_minute_in_utc_and_unknown_times_are_none() {
        assert_eq!(utc_minute(1_796_029_920).as_deref(), Some("2026-11-30 09:12 UTC"));
        assert_eq!(utc_minute(0), None);
    }
}
