//! Server functions of member administration (SPEC §5.10): the members page and what it
//! changes (roles, removals, leaving, invites resent or regenerated, teams), and the
//! ownership transfer of the settings page. Adapters over `server::service`; each success
//! ends in a redirect, so a form posted without JavaScript lands where a hydrated one does.

use leptos::prelude::*;

use crate::app::wire::{AppError, MembersView};

/// One page of the members page: members, then pending invites (`cursor` from the
/// Previous/Next links; an unreadable one is the first page), the requests for owners and
/// managers, the teams. Remembered as the organization last opened.
#[server(prefix = "/_fn", endpoint = "orgs/members-page")]
pub async fn members_page(slug: String, cursor: Option<String>) -> Result<MembersView, AppError> {
    use crate::server::db::page::{Cursor, Slice};
    use crate::server::server_fns::{self as sfn, views};
    use crate::server::service::organizations as orgs;
    let (state, _, user) = sfn::user_context().await?;
    let membership = orgs::open(&state, &user, &slug).await?;
    let slice = Slice { cursor: cursor.as_deref().and_then(Cursor::parse), ..Slice::default() };
    let page = orgs::members(&state, &membership, &slice).await?;
    // Requesters' addresses are for owners and managers only (SPEC §5.7).
    let requests = if membership.role.can_invite() { orgs::requests(&state, &membership).await? } else { Vec::new() };
    let teams = orgs::teams(&state, &membership).await?;
    let owners = orgs::owners(&state, &membership).await?;
    Ok(views::members_page(&membership, page, &requests, teams, owners))
}

/// The members page after a change, `done` naming the notice it shows.
#[cfg(feature = "ssr")]
fn members_path(slug: &str, done: &str) -> String {
    format!("/organizations/{slug}/members/?done={done}")
}

/// Gives a member another role (errors under `role`, with the member's id kept so the
/// page shows them in that member's row).
#[server(prefix = "/_fn", endpoint = "orgs/member-role")]
pub async fn change_member_role(slug: String, member_id: i64, role: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::members;
    let (state, _, user) = sfn::user_context().await?;
    let id = member_id.to_string();
    let values = sfn::values([("member_id", &id), ("role", &role)]);
    match members::change_role(&state, &user, &slug, member_id, &role).await {
        Ok(_) => {
            leptos_axum::redirect(&members_path(&slug, "role"));
            Ok(())
        }
        Err(err) => Err(sfn::with_values(err, values)),
    }
}

/// Removes a member (after the page's confirmation step).
#[server(prefix = "/_fn", endpoint = "orgs/member-remove")]
pub async fn remove_member(slug: String, member_id: i64) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::members;
    let (state, _, user) = sfn::user_context().await?;
    members::remove(&state, &user, &slug, member_id).await?;
    leptos_axum::redirect(&members_path(&slug, "removed"));
    Ok(())
}

/// The signed-in member leaves the organization, and goes to the start page.
#[server(prefix = "/_fn", endpoint = "orgs/leave")]
pub async fn leave_organization(slug: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::members;
    let (state, _, user) = sfn::user_context().await?;
    members::leave(&state, &user, &slug).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Sends a pending invite again: `mode` `resend` mails the same link, `regenerate` a new
/// one (the old link stops working).
#[server(prefix = "/_fn", endpoint = "orgs/invite-reissue")]
pub async fn reissue_invite(slug: String, member_id: i64, mode: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::invites;
    let (state, _, user) = sfn::user_context().await?;
    let regenerate = mode == "regenerate";
    invites::reissue(&state, &user, &slug, member_id, regenerate).await?;
    leptos_axum::redirect(&members_path(&slug, if regenerate { "regenerated" } else { "resent" }));
    Ok(())
}

/// Creates a team (its slug made from the name).
#[server(prefix = "/_fn", endpoint = "orgs/team-create")]
pub async fn create_team(slug: String, name: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::organizations as orgs;
    let (state, _, user) = sfn::user_context().await?;
    let values = sfn::values([("name", &name)]);
    match orgs::create_team(&state, &user, &slug, &name, None).await {
        Ok(_) => {
            leptos_axum::redirect(&members_path(&slug, "team"));
            Ok(())
        }
        Err(err) => Err(sfn::with_values(err, values)),
    }
}

/// Puts a member or invite on a team (`on` = `on`) or takes them off it.
#[server(prefix = "/_fn", endpoint = "orgs/team-member")]
pub async fn set_member_team(slug: String, member_id: i64, team: String, on: String) -> Result<(), AppError> {
    use crate::server::server_fns as sfn;
    use crate::server::service::members;
    let (state, _, user) = sfn::user_context().await?;
    members::set_team(&state, &user, &slug, member_id, &team, on == "on").await?;
    leptos_axum::redirect(&members_path(&slug, "teams"));
    Ok(())
}

/// An owner hands the organization to another member with their password, stays as a
/// manager, and lands on the members page.
#[server(prefix = "/_fn", endpoint = "orgs/transfer")]
pub async fn transfer_ownership(slug: String, member_id: i64, password: String) -> Result<(), AppError> {
    use crate::server::domain::Password;
    use crate::server::server_fns as sfn;
    use crate::server::service::members;
    let (state, _, user) = sfn::user_context().await?;
    let id = member_id.to_string();
    let values = sfn::values([("member_id", &id)]);
    match members::transfer_ownership(&state, &user, &slug, member_id, &Password::new(password)).await {
        Ok(_) => {
            leptos_axum::redirect(&members_path(&slug, "transferred"));
            Ok(())
        }
        Err(err) => Err(sfn::with_values(err, values)),
    }
}
