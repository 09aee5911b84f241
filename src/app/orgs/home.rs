//! `/organizations/{slug}/`: the organization's overview.

use leptos::prelude::*;
use leptos_meta::Title;

use super::actions::organization;
use super::{org_nav, refusal_view, slug_param};
use crate::app::layout::use_current_user;
use crate::app::wire::MemberView;

/// `/organizations/{slug}/`: who you are, the members, and the getting-started checklist.
#[component]
pub fn OrganizationPage() -> impl IntoView {
    let slug = slug_param();
    let org = Resource::new_blocking(move || slug.get(), organization);
    let user = use_current_user();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let me = user.await;
                match org.await {
                    Err(err) => refusal_view(err),
                    Ok(org) => {
                        let members: Vec<MemberView> = org.members.iter().filter(|m| !m.pending).cloned().collect();
                        view! {
                            <Title text=org.name.clone()/>
                            <section class="card">
                                <h1>{org.name.clone()}</h1>
                                {org_nav(&org.slug, org.role, org.can_invite, "Overview")}
                                <p>
                                    "You are " <strong>{me.map(|u| u.name).unwrap_or_default()}</strong>
                                    ", " <span data-testid="my-role">{org.role.as_str()}</span> " of this organization."
                                </p>
                                <h2>"Getting started"</h2>
                                <ul class="checklist">
                                    <li class="done">"Create your organization"</li>
                                    <li class:done=org.invitee_joined data-testid="step-invite">
                                        {if org.invitee_joined { "Invite your team — a teammate has joined" } else { "Invite your team" }}
                                    </li>
                                </ul>
                                <h2>"Teams"</h2>
                                {if org.teams.is_empty() {
                                    view! { <p class="hint">"No teams yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="org-list" data-testid="teams">
                                            {org.teams.clone().into_iter().map(|(slug, name)| view! { <li>{name} " " <code>{slug}</code></li> }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                                <h2>"Members"</h2>
                                <div class="table-scroll">
                                    <table>
                                        <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th></tr></thead>
                                        <tbody>
                                            {members.into_iter().map(|m| view! {
                                                <tr><td>{m.name}</td><td>{m.email}</td><td>{m.role.as_str()}</td></tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
