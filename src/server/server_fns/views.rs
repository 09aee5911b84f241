//! Rows and use-case results as the wire types the pages render (`crate::app::wire`).

use crate::app::wire::{
    AccountView, AppError, AuditPageView, AuditView, BulkOutcomeView, IdentityView, InvitationView, InvitationsView,
    InviteToolsView, InviteView, JoinLinkPageView, JoinLinkView, JoinView, LinkableView, MemberView, MembersView,
    OrgSettingsView, OrgView, SessionView, UserView,
};
use crate::server::auth::session::BulkFlash;
use crate::server::db;
use crate::server::db::audit::EntryRow;
use crate::server::db::join_links::JoinLinkRow;
use crate::server::db::organizations::OrgRow;
use crate::server::db::page::Paged;
use crate::server::db::users::UserRow;
use crate::server::domain::Role;
use crate::server::http::json::rfc3339;
use crate::server::service::accept::{AcceptError, Details};
use crate::server::service::account;
use crate::server::service::invitations::Invitation;
use crate::server::service::invites::BulkResult;
use crate::server::service::join_links::JoinDetails;
use crate::server::service::members::LAST_OWNER_LEAVING;
use crate::server::service::organizations::{self, MemberEntry, Membership, Settings};

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

pub fn organization(
    membership: &Membership,
    entries: &[MemberEntry],
    teams: Vec<(String, String)>,
    owners: i64,
) -> OrgView {
    OrgView {
        teams,
        slug: membership.org.slug.clone(),
        name: membership.org.name.clone(),
        role: membership.role,
        can_invite: membership.role.can_invite(),
        invitee_joined: membership.org.first_invitee_joined_at.is_some(),
        members: entries.iter().map(|e| member(e, membership, owners)).collect(),
    }
}

/// The members page: memberships and invites of one page, the requests (only given to
/// owners and managers) and what the reader may do with each row.
pub fn members_page(
    membership: &Membership,
    page: Paged<MemberEntry>,
    requests: &[MemberEntry],
    teams: Vec<(String, String)>,
    owners: i64,
) -> MembersView {
    let role = membership.role;
    let (invites, members): (Vec<MemberView>, Vec<MemberView>) =
        page.rows.iter().map(|e| member(e, membership, owners)).partition(|m| m.pending);
    MembersView {
        slug: membership.org.slug.clone(),
        name: membership.org.name.clone(),
        role,
        can_invite: role.can_invite(),
        default_role: membership.org.default_role,
        grantable: [Role::Member, Role::Manager, Role::Owner].into_iter().filter(|r| role.can_grant(*r)).collect(),
        members,
        invites,
        requests: requests.iter().map(|e| member(e, membership, owners)).collect(),
        teams,
        cannot_leave: (role == Role::Owner && owners <= 1).then(|| LAST_OWNER_LEAVING.to_owned()),
        previous: page.previous.cursor_if_results(),
        next: page.next.cursor_if_results(),
    }
}

/// A row as `reader` sees it: who may change it is decided here, from the roles' rules.
fn member(e: &MemberEntry, reader: &Membership, owners: i64) -> MemberView {
    let pending = e.row.is_pending();
    let you = e.row.id == reader.member.id;
    let last_owner = !pending && e.row.role == Role::Owner && owners <= 1;
    // An invite of a role the reader could not give is not theirs to resend or revoke either.
    let can_manage = reader.role.can_manage(e.row.role) && !you && !last_owner;
    MemberView {
        id: e.row.id,
        name: e.user.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
        // A member's own address as it is now; an invite's, the one it was sent to.
        email: e.user.as_ref().map(|u| u.email.clone()).or_else(|| e.row.email.clone()).unwrap_or_default(),
        role: e.row.role,
        pending,
        expired: e.expired,
        inviter_name: e.inviter_name.clone(),
        mail_status: e.mail_state.clone(),
        invite_status: e.row.invite_status,
        teams: e.teams.clone(),
        you,
        can_manage,
        last_owner,
        expires_on: e.row.token_expires_at.filter(|_| pending).and_then(utc_day),
    }
}

/// The audit-log page: entries written out for `now`, the filters the log offers.
pub fn audit_page(
    membership: &Membership,
    page: Paged<EntryRow>,
    (events, people): (Vec<String>, Vec<(i64, String)>),
) -> AuditPageView {
    let now = db::now();
    AuditPageView {
        slug: membership.org.slug.clone(),
        name: membership.org.name.clone(),
        role: membership.role,
        can_invite: membership.role.can_invite(),
        previous: page.previous.cursor_if_results(),
        next: page.next.cursor_if_results(),
        entries: page.rows.into_iter().map(|e| audit_entry(e, now)).collect(),
        events,
        people,
    }
}

pub fn audit_entry(e: EntryRow, now: i64) -> AuditView {
    AuditView {
        note: organizations::audit_note(&e),
        data: serde_json::to_string_pretty(&e.data).unwrap_or_default(),
        utc: utc_minute(e.created_at).unwrap_or_default(),
        ago: ago(e.created_at, now),
        date: rfc3339(e.created_at),
        id: e.id,
        event: e.event,
        actor: e.actor_name.or(e.actor_email),
        ip: e.ip,
    }
}

/// How long ago `then` was, as a reader says it: "just now", "5 minutes ago", "3 hours
/// ago", "yesterday", else the day (UTC).
fn ago(then: i64, now: i64) -> String {
    let secs = (now - then).max(0);
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit} ago") } else { format!("{n} {unit}s ago") };
    match secs {
        0..60 => "just now".to_owned(),
        60..3_600 => plural(secs / 60, "minute"),
        3_600..86_400 => plural(secs / 3_600, "hour"),
        _ if utc_day(then) == utc_day(now - 86_400) => "yesterday".to_owned(),
        _ => utc_day(then).unwrap_or_default(),
    }
}

/// A day, `YYYY-MM-DD` (UTC).
fn utc_day(unix: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).ok()?;
    Some(format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
}

/// The settings page; `transfer_to` lists whom an owner may hand the organization to.
pub fn settings(settings: Settings, transfer_to: &[MemberEntry]) -> OrgSettingsView {
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
        transfer_to: transfer_to
            .iter()
            .filter_map(|e| e.user.as_ref().map(|u| (e.row.id, format!("{} ({})", u.name, u.email))))
            .collect(),
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

/// The invitations page: none are listed for an unverified address (the service gives
/// none); the page says why.
pub fn invitations(user: &UserRow, list: Vec<Invitation>) -> InvitationsView {
    InvitationsView {
        email: user.email.clone(),
        verified: user.email_verified,
        invitations: list
            .into_iter()
            .map(|i| InvitationView {
                member_id: i.member_id,
                org_slug: i.org.slug,
                org_name: i.org.name,
                role: i.role,
                inviter_name: i.inviter_name,
                email: i.email,
                expires_on: utc_day(i.expires_at).unwrap_or_default(),
                needs: i.needs,
            })
            .collect(),
    }
}

/// A bulk invite's results as kept in the session for the members page.
pub fn bulk_flash(results: Vec<BulkResult>) -> Vec<BulkFlash> {
    results.into_iter().map(|r| BulkFlash { email: r.email, status: r.status, reason: r.reason }).collect()
}

/// A join link as its organization's owners and managers see it, at `now`.
pub fn join_link_row(link: JoinLinkRow, now: i64) -> JoinLinkView {
    JoinLinkView {
        id: link.id,
        role: link.role,
        state: link.state(now).as_str().to_owned(),
        uses_left: link.uses_left(),
        max_uses: link.max_uses,
        uses: link.uses,
        expires: utc_minute(link.expires_at).unwrap_or_default(),
        created_by: link.created_by_name,
        email_domain: link.email_domain,
    }
}

/// The members page's tools for owners and managers; the roles a link may give decided
/// by the join-link rule (`domain::join_link::may_create`).
pub fn invite_tools(
    membership: &Membership,
    links: Vec<JoinLinkRow>,
    created_url: Option<String>,
    bulk: Option<Vec<BulkFlash>>,
) -> InviteToolsView {
    let now = db::now();
    InviteToolsView {
        links: links.into_iter().map(|l| join_link_row(l, now)).collect(),
        link_roles: [Role::Member, Role::Manager, Role::Owner]
            .into_iter()
            .filter(|r| crate::server::domain::join_link::may_create(membership.role, *r))
            .collect(),
        created_url,
        bulk_outcome: bulk.map(|outcome| {
            outcome
                .into_iter()
                .map(|f| BulkOutcomeView { email: f.email, status: f.status, reason: f.reason })
                .collect()
        }),
    }
}

/// The join-link page: what the server's checks decided stands between this visitor and
/// joining, or why the link cannot be used at all. Only an internal failure is an error.
pub fn join_link(details: Result<JoinDetails, AcceptError>) -> Result<JoinLinkPageView, AppError> {
    match details {
        Ok(d) => Ok(JoinLinkPageView {
            refusal: d.refusal,
            org_slug: d.org.slug,
            org_name: d.org.name,
            role: d.link.role,
            email_domain: d.link.email_domain,
            expires_on: utc_day(d.link.expires_at).unwrap_or_default(),
            signed_in_email: d.signed_in_email,
            sso_provider: d.sso.map(|s| s.provider_name),
        }),
        Err(err) => match err.refusal() {
            Some(refusal) => Ok(JoinLinkPageView::unusable(refusal)),
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

    #[test]
    fn audit_times_are_said_as_a_reader_would_say_them() {
        let now = 1_796_029_920; // 2026-11-30 09:12 UTC
        assert_eq!(ago(now - 5, now), "just now");
        assert_eq!(ago(now + 30, now), "just now");
        assert_eq!(ago(now - 60, now), "1 minute ago");
        assert_eq!(ago(now - 5 * 60, now), "5 minutes ago");
        assert_eq!(ago(now - 3_600, now), "1 hour ago");
        assert_eq!(ago(now - 23 * 3_600, now), "23 hours ago");
        assert_eq!(ago(now - 30 * 3_600, now), "yesterday");
        assert_eq!(ago(now - 40 * 3_600, now), "2026-11-28");
        assert_eq!(ago(now - 10 * 86_400, now), "2026-11-20");
    }
}
