//! Server functions of the organization pages: adapters over `server::service`.

use leptos::prelude::*;

use crate::app::wire::{AppError, AuditPageView, InviteToolsView, JoinView, OrgSettingsView, OrgView};

/// Creates an organization and goes to its page.
#[server(prefix = "/_fn", endpoint = "orgs/create")]
pub async fn create_organization(name: String, slug: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::organizations as orgs;
    let (state, _, user) = sfn::user_context().await?;
    let values = sfn::values([("name", &name), ("slug", &slug)]);
    match orgs::create(&state, &user, &name, Some(&slug)).await {
        Ok(org) => {
            leptos_axum::redirect(&format!("/organizations/{}/", org.slug));
            Ok(())
        }
        Err(err) => Err(sfn::with_values(err, values)),
    }
}

/// The organizations the signed-in user belongs to, `(slug, name)`, the one last opened
/// first; none for an anonymous visitor (the header asks on every page).
#[server(prefix = "/_fn", endpoint = "orgs/mine")]
pub async fn my_organizations() -> Result<Vec<(String, String)>, AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::{accounts, organizations as orgs};
    let (state, session) = sfn::context().await?;
    let Some(user) = accounts::signed_in(&state, &session).await? else { return Ok(Vec::new()) };
    let list = orgs::for_user(&state, &user).await?;
    Ok(list.into_iter().map(|o| (o.slug, o.name)).collect())
}

/// An organization with its members (the first page) and teams, for one of its members;
/// remembered as the one last opened.
#[server(prefix = "/_fn", endpoint = "orgs/overview")]
pub async fn organization(slug: String) -> Result<OrgView, AppError> {
    use crate::server::db::page::Slice;
    use crate::server::server_fns::{self as sfn, views};
    use crate::server::service::organizations as orgs;
    let (state, _, user) = sfn::user_context().await?;
    let membership = orgs::open(&state, &user, &slug).await?;
    let page = orgs::members(&state, &membership, &Slice::default()).await?;
    let teams = orgs::teams(&state, &membership).await?;
    let owners = orgs::owners(&state, &membership).await?;
    Ok(views::organization(&membership, &page.rows, teams, owners))
}

/// Invites an address from the members page.
#[server(prefix = "/_fn", endpoint = "orgs/invite")]
pub async fn invite_member(slug: String, email: String, role: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::invites::{self, InviteInput};
    let (state, _, user) = sfn::user_context().await?;
    let values = sfn::values([("email", &email), ("role", &role)]);
    // No role chosen: the organization's default role.
    let role = Some(role).filter(|r| !r.is_empty());
    let input = InviteInput { email, role, send_invite: true, ..InviteInput::default() };
    match invites::create(&state, &user, &slug, input).await {
        Ok(_) => {
            leptos_axum::redirect(&format!("/organizations/{slug}/members/"));
            Ok(())
        }
        Err(err) => Err(sfn::with_values(err, values)),
    }
}

/// Invites the addresses of a paste (commas, spaces, new lines; up to 50), each with its own
/// outcome, kept in the session for one read so that the members page shows it after the
/// redirect (with JavaScript off as well).
#[server(prefix = "/_fn", endpoint = "orgs/invite-bulk")]
pub async fn bulk_invite(slug: String, emails: String, role: String) -> Result<(), AppError> {
    use crate::server::auth::session;
    use crate::server::domain::email::split_addresses;
    use crate::server::server_fns::{self as sfn, views};
    use crate::server::service::invites::{self, BulkInput};
    let (state, session, user) = sfn::user_context().await?;
    let values = sfn::values([("emails", &emails), ("role", &role)]);
    let input = BulkInput {
        emails: split_addresses(&emails),
        role: Some(role).filter(|r| !r.is_empty()),
        teams: Vec::new(),
        send_invite: true,
    };
    match invites::bulk(&state, &user, &slug, input).await {
        Ok(results) => {
            session::set_bulk_outcome(&session, &slug, &views::bulk_flash(results)).await?;
            leptos_axum::redirect(&format!("/organizations/{slug}/members/#bulk-outcome"));
            Ok(())
        }
        Err(err) => Err(sfn::with_values(err, values)),
    }
}

/// What the members page offers owners and managers besides the lists: the join links,
/// the URL of the link just created and the outcome of the last bulk invite (each shown
/// once); `None` for a member who cannot invite.
#[server(prefix = "/_fn", endpoint = "orgs/invite-tools")]
pub async fn invite_tools(slug: String) -> Result<Option<InviteToolsView>, AppError> {
    use crate::server::auth::session;
    use crate::server::server_fns::{self as sfn, views};
    use crate::server::service::{join_links, organizations as orgs};
    let (state, session, user) = sfn::user_context().await?;
    let membership = orgs::membership(&state, &user, &slug).await?;
    if !membership.role.can_invite() {
        return Ok(None);
    }
    let links = join_links::list(&state, &user, &slug).await?;
    let created_url = join_links::just_created(&state, &session, &user, &slug).await?.map(|(_, url)| url);
    let bulk = session::take_bulk_outcome(&session, &slug).await?;
    Ok(Some(views::invite_tools(&membership, links, created_url, bulk)))
}

/// Creates a join link; its URL is shown once on the members page. Empty numbers take
/// the defaults (7 days, 10 uses), an empty domain none.
#[server(prefix = "/_fn", endpoint = "orgs/join-link-create")]
pub async fn create_join_link(
    slug: String,
    expires_in_days: String,
    max_uses: String,
    role: String,
    email_domain: String,
) -> Result<(), AppError> {
    use crate::server::domain::FieldErrors;
    use crate::server::server_fns as sfn;
    use crate::server::service::invites::InviteError;
    use crate::server::service::join_links::{self, JoinLinkInput};
    let (state, session, user) = sfn::user_context().await?;
    let values = sfn::values([
        ("expires_in_days", &expires_in_days),
        ("max_uses", &max_uses),
        ("role", &role),
        ("email_domain", &email_domain),
    ]);
    let mut errors = FieldErrors::new();
    let expires_in_days = whole_number(&mut errors, "expiresInDays", &expires_in_days);
    let max_uses = whole_number(&mut errors, "maxUses", &max_uses);
    if !errors.is_empty() {
        return Err(sfn::with_values(InviteError::Invalid(errors), values));
    }
    let input = JoinLinkInput {
        expires_in_days,
        max_uses,
        role: Some(role).filter(|r| !r.is_empty()),
        email_domain: Some(email_domain).filter(|d| !d.trim().is_empty()),
    };
    match join_links::create_from_page(&state, &session, &user, &slug, input).await {
        Ok(_) => {
            leptos_axum::redirect(&format!("/organizations/{slug}/members/#join-links"));
            Ok(())
        }
        Err(err) => Err(sfn::with_values(err, values)),
    }
}

/// A number typed into a form: empty is `None`; anything but a whole number is an error
/// of `field`.
#[cfg(feature = "ssr")]
fn whole_number(errors: &mut crate::server::domain::FieldErrors, field: &str, text: &str) -> Option<i64> {
    match text.trim() {
        "" => None,
        text => text.parse().map_err(|_| errors.add(field, "Enter a whole number.")).ok(),
    }
}

/// Revokes a join link: it stops working at once.
#[server(prefix = "/_fn", endpoint = "orgs/join-link-revoke")]
pub async fn revoke_join_link(slug: String, link_id: i64) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::join_links;
    let (state, _, user) = sfn::user_context().await?;
    join_links::revoke(&state, &user, &slug, link_id).await?;
    leptos_axum::redirect(&format!("/organizations/{slug}/members/?done=link-revoked#join-links"));
    Ok(())
}

/// Revokes a pending invite.
#[server(prefix = "/_fn", endpoint = "orgs/revoke")]
pub async fn revoke_invite(slug: String, member_id: i64) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::invites;
    let (state, _, user) = sfn::user_context().await?;
    invites::revoke(&state, &user, &slug, member_id).await?;
    leptos_axum::redirect(&format!("/organizations/{slug}/members/"));
    Ok(())
}

/// One page of the audit log, newest first (owners and managers), filtered by event and
/// by who acted (`actor`, a user id); an empty or unreadable filter or cursor is ignored.
#[server(prefix = "/_fn", endpoint = "orgs/audit")]
pub async fn audit_log(
    slug: String,
    event: Option<String>,
    actor: Option<String>,
    cursor: Option<String>,
) -> Result<AuditPageView, AppError> {
    use crate::server::db::audit::Filter;
    use crate::server::db::page::{Cursor, Slice};
    use crate::server::server_fns::{self as sfn, views};
    use crate::server::service::organizations as orgs;
    let (state, _, user) = sfn::user_context().await?;
    let filter = Filter { event: event.filter(|e| !e.is_empty()), actor_id: actor.and_then(|a| a.parse().ok()) };
    let slice = Slice { cursor: cursor.as_deref().and_then(Cursor::parse), ..Slice::default() };
    let (membership, page) = orgs::audit_log(&state, &user, &slug, &filter, &slice).await?;
    let facets = orgs::audit_facets(&state, &membership).await?;
    Ok(views::audit_page(&membership, page, facets))
}

/// The organization's policy settings, for one of its members; for an owner, also the
/// members ownership can be handed to.
#[server(prefix = "/_fn", endpoint = "orgs/settings")]
pub async fn org_settings(slug: String) -> Result<OrgSettingsView, AppError> {
    use crate::server::domain::Role;
    use crate::server::server_fns::{self as sfn, views};
    use crate::server::service::organizations as orgs;
    let (state, _, user) = sfn::user_context().await?;
    let settings = orgs::settings(&state, &user, &slug).await?;
    let candidates = if settings.membership.role == Role::Owner {
        orgs::transfer_candidates(&state, &settings.membership).await?
    } else {
        Vec::new()
    };
    Ok(views::settings(settings, &candidates))
}

/// Saves the settings form. Checkboxes arrive only when ticked; an empty member limit
/// removes the limit.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/_fn", endpoint = "orgs/settings-save")]
pub async fn update_org_settings(
    slug: String,
    name: String,
    default_role: String,
    member_limit: String,
    require_2fa: Option<String>,
    require_email_verification: Option<String>,
    allow_join_requests: Option<String>,
    allow_email_mismatch: Option<String>,
) -> Result<(), AppError> {
    use crate::server::domain::FieldErrors;
    use crate::server::server_fns as sfn;
    use crate::server::service::organizations::{self as orgs, OrgError, SettingsInput};
    let (state, _, user) = sfn::user_context().await?;
    let values = sfn::values([("name", &name), ("member_limit", &member_limit)]);
    let limit = match member_limit.trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                let err = OrgError::Invalid(FieldErrors::single(
                    "memberLimit",
                    "Enter a whole number, or leave empty for no limit.",
                ));
                return Err(sfn::with_values(err, values));
            }
        },
    };
    let input = SettingsInput {
        name: Some(name),
        require_2fa: Some(require_2fa.is_some()),
        require_email_verification: Some(require_email_verification.is_some()),
        allow_join_requests: Some(allow_join_requests.is_some()),
        default_role: Some(default_role),
        allow_email_mismatch: Some(allow_email_mismatch.is_some()),
        member_limit: Some(limit),
    };
    match orgs::update_settings(&state, &user, &slug, input).await {
        Ok(org) => {
            leptos_axum::redirect(&format!("/organizations/{}/settings/?saved=1", org.slug));
            Ok(())
        }
        Err(err) => Err(sfn::with_values(err, values)),
    }
}

/// A member asks for an address to be invited.
#[server(prefix = "/_fn", endpoint = "orgs/request-invite")]
pub async fn request_invite(slug: String, email: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::requests;
    let (state, _, user) = sfn::user_context().await?;
    let values = sfn::values([("email", &email)]);
    match requests::request_invite(&state, &user, &slug, &email, None).await {
        Ok(_) => {
            leptos_axum::redirect(&format!("/organizations/{slug}/members/?requested=1"));
            Ok(())
        }
        Err(err) => Err(sfn::with_values(err, values)),
    }
}

/// Approves or rejects an invite or join request.
#[server(prefix = "/_fn", endpoint = "orgs/decide-request")]
pub async fn decide_request(slug: String, member_id: i64, decision: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::requests;
    let (state, _, user) = sfn::user_context().await?;
    if decision == "approve" {
        requests::approve(&state, &user, &slug, member_id, None).await?;
    } else {
        requests::reject(&state, &user, &slug, member_id).await?;
    }
    leptos_axum::redirect(&format!("/organizations/{slug}/members/"));
    Ok(())
}

/// What the join-request page shows about an organization.
#[server(prefix = "/_fn", endpoint = "orgs/join-page")]
pub async fn join_page(slug: String) -> Result<JoinView, AppError> {
    use crate::server::server_fns::{self as sfn, views};
    use crate::server::service::requests;
    let (state, _) = sfn::context().await?;
    Ok(views::join_page(requests::join_page(&state, &slug).await?))
}

/// Sends a join request (anyone).
#[server(prefix = "/_fn", endpoint = "orgs/join-request")]
pub async fn send_join_request(slug: String, email: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::requests;
    let (state, _) = sfn::context().await?;
    let values = sfn::values([("email", &email)]);
    let ip = sfn::client_ip().await;
    match requests::join_request(&state, &slug, &email, ip.as_deref()).await {
        Ok(()) => {
            leptos_axum::redirect(&format!("/join-request/{slug}/?sent=1"));
            Ok(())
        }
        Err(err) => Err(sfn::with_values(err, values)),
    }
}
