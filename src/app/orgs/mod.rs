//! Organization pages: create, home, members (invites, roles, removal, teams, leaving),
//! settings (and the ownership transfer), single sign-on, webhooks, audit log (SPEC §2, §5, §8). One page a file; this module holds what they share: the slug
//! of the address, the refusal shown in place of a page and the organization's tabs.

mod actions;
mod audit;
mod create;
mod home;
mod join;
mod manage;
mod member_rows;
mod members;
mod settings;
mod sso;
mod teams;
mod webhooks;

pub use actions::*;
pub use audit::AuditLogPage;
pub use create::NewOrganizationPage;
pub use home::OrganizationPage;
pub use join::JoinRequestPage;
pub use manage::*;
pub use members::MembersPage;
pub use settings::OrgSettingsPage;
pub use sso::{auth_provider, AuthProviderPage, RemoveAuthProvider, SaveAuthProvider};
pub use webhooks::WebhooksPage;

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;

use crate::app::wire::{AppError, Role};

fn slug_param() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("slug").unwrap_or_default())
}

/// A refusal shown in place of a page (not a member, not signed in …).
fn refusal_view(err: AppError) -> AnyView {
    match err {
        AppError::Refused { reason, .. } if reason == "not_authenticated" => {
            view! { <Redirect path="/auth/login/"/> }.into_any()
        }
        AppError::Refused { reason, details } if reason == "sso_required" => {
            // A member of an organization that requires SSO, without a linked identity.
            let slug = slug_param().get_untracked();
            view! {
                <section class="card narrow">
                    <p class="alert info" role="alert" data-testid="sso-required">{details}</p>
                    <p><a class="button primary" rel="external" href=format!("/auth/login/{slug}/")>"Continue to single sign-on"</a></p>
                </section>
            }
            .into_any()
        }
        err => view! { <section class="card narrow"><p class="alert error" role="alert">{err.summary()}</p></section> }
            .into_any(),
    }
}

/// The organization's tabs, `current` marked as the page shown.
fn org_nav(slug: &str, role: Role, can_invite: bool, current: &'static str) -> impl IntoView {
    let slug = slug.to_owned();
    let link = move |label: &'static str, path: String| {
        let active = label == current;
        view! { <a href=path aria-current=if active { Some("page") } else { None }>{label}</a> }
    };
    view! {
        <nav class="tabs" aria-label="Organization">
            {link("Overview", format!("/organizations/{slug}/"))}
            {link("Members", format!("/organizations/{slug}/members/"))}
            {can_invite.then(|| link("Settings", format!("/organizations/{slug}/settings/")))}
            {can_invite.then(|| link("Audit log", format!("/organizations/{slug}/audit-log/")))}
            {(role == Role::Owner).then(|| link("Single sign-on", format!("/organizations/{slug}/settings/auth/")))}
            {(role == Role::Owner).then(|| link("Webhooks", format!("/organizations/{slug}/settings/webhooks/")))}
        </nav>
    }
}
