//! Server functions of the organization pages: adapters over `server::service`.

use leptos::prelude::*;

use crate::app::wire::{AppError, AuditView, OrgView};

/// Creates an organization and goes to its page.
#[server(prefix = "/_fn", endpoint = "orgs/create")]
pub async fn create_organization(name: String, slug: String) -> Result<(), AppError> {
    use crate::server::http::sfn;
    use crate::server::service::organizations as orgs;
    let (state, session) = sfn::context().await?;
    let user = sfn::require_user(&state, &session).await?;
    let values = sfn::values([("name", &name), ("slug", &slug)]);
    match orgs::create(&state, &user, &name, Some(&slug)).await {
        Ok(org) => {
            leptos_axum::redirect(&format!("/organizations/{}/", org.slug));
            Ok(())
        }
        Err(err) => Err(sfn::with_values(sfn::org_error(err), values)),
    }
}

/// The organizations the signed-in user belongs to: `(slug, name)`.
#[server(prefix = "/_fn", endpoint = "orgs/mine")]
pub async fn my_organizations() -> Result<Vec<(String, String)>, AppError> {
    use crate::server::http::sfn;
    use crate::server::service::organizations as orgs;
    let (state, session) = sfn::context().await?;
    let user = sfn::require_user(&state, &session).await?;
    let list = orgs::for_user(&state, &user).await.map_err(sfn::org_error)?;
    Ok(list.into_iter().map(|o| (o.slug, o.name)).collect())
}

/// An organization with its members and pending invites, for one of its members.
#[server(prefix = "/_fn", endpoint = "orgs/overview")]
pub async fn organization(slug: String) -> Result<OrgView, AppError> {
    use crate::server::http::sfn;
    use crate::server::service::organizations as orgs;
    let (state, session) = sfn::context().await?;
    let user = sfn::require_user(&state, &session).await?;
    let (membership, entries) = orgs::members(&state, &user, &slug).await.map_err(sfn::org_error)?;
    let teams = orgs::teams(&state, &user, &slug).await.map_err(sfn::org_error)?;
    Ok(sfn::org_view(&membership, &entries, teams))
}

/// Invites an address from the members page.
#[server(prefix = "/_fn", endpoint = "orgs/invite")]
pub async fn invite_member(slug: String, email: String, role: String) -> Result<(), AppError> {
    use crate::server::http::sfn;
    use crate::server::service::invites::{self, InviteInput};
    let (state, session) = sfn::context().await?;
    let user = sfn::require_user(&state, &session).await?;
    let values = sfn::values([("email", &email), ("role", &role)]);
    let input = InviteInput { email, role: Some(role), send_invite: true, ..InviteInput::default() };
    match invites::create(&state, &user, &slug, input).await {
        Ok(_) => {
            leptos_axum::redirect(&format!("/organizations/{slug}/members/"));
            Ok(())
        }
        Err(err) => Err(sfn::with_values(sfn::invite_error(err), values)),
    }
}

/// Revokes a pending invite.
#[server(prefix = "/_fn", endpoint = "orgs/revoke")]
pub async fn revoke_invite(slug: String, member_id: i64) -> Result<(), AppError> {
    use crate::server::http::sfn;
    use crate::server::service::invites;
    let (state, session) = sfn::context().await?;
    let user = sfn::require_user(&state, &session).await?;
    invites::revoke(&state, &user, &slug, member_id).await.map_err(sfn::invite_error)?;
    leptos_axum::redirect(&format!("/organizations/{slug}/members/"));
    Ok(())
}

/// The audit log, newest first (owners and managers).
#[server(prefix = "/_fn", endpoint = "orgs/audit")]
pub async fn audit_log(slug: String) -> Result<Vec<AuditView>, AppError> {
    use crate::server::http::sfn;
    let (state, session) = sfn::context().await?;
    let user = sfn::require_user(&state, &session).await?;
    sfn::audit_views(&state, &user, &slug).await
}
