use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::actions::{audit_log, my_organizations, organization, CreateOrganization, InviteMember, RevokeInvite};
use crate::app::components::{ErrorSummary, Field, FormError};
use crate::app::layout::use_current_user;
use crate::app::wire::{AppError, MemberView, OrgView};
use leptos_router::components::Redirect;

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
        err => view! { <section class="card narrow"><p class="alert error" role="alert">{err.summary()}</p></section> }.into_any(),
    }
}

/// `/organizations/new/`: create an organization; lists the ones you belong to.
#[component]
pub fn NewOrganizationPage() -> impl IntoView {
    let user = use_current_user();
    let action = ServerAction::<CreateOrganization>::new();
    let mine = Resource::new_blocking(|| (), |_| my_organizations());
    let form = FormError::new(Signal::derive(move || action.value().get().and_then(Result::err)));
    view! {
        <Title text="Create an organization"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    None => view! { <Redirect path="/auth/login/?next=/organizations/new/"/> }.into_any(),
                    Some(user) => {
                        let orgs = mine.await.unwrap_or_default();
                        view! {
                            <section class="card narrow">
                                <h1>"Welcome, " {user.name.clone()}</h1>
                                <dl class="facts">
                                    <dt>"Name"</dt><dd data-testid="user-name">{user.name.clone()}</dd>
                                    <dt>"Email"</dt><dd data-testid="user-email">{user.email.clone()}</dd>
                                    <dt>"Email verified"</dt>
                                    <dd>{if user.email_verified { "yes" } else { "not yet" }}</dd>
                                </dl>
                                {(!orgs.is_empty()).then(|| view! {
                                    <h2>"Your organizations"</h2>
                                    <ul class="org-list">
                                        {orgs.into_iter().map(|(slug, name)| view! {
                                            <li><a href=format!("/organizations/{slug}/")>{name}</a></li>
                                        }).collect_view()}
                                    </ul>
                                })}
                                <h2>"Create an organization"</h2>
                                <ActionForm action attr:class="form" attr:novalidate=true>
                                    <ErrorSummary error=form.error()/>
                                    <Field label="Organization name" name="name" errors=form.field("name") value=form.value("name")/>
                                    <Field label="Slug" name="slug" errors=form.field("slug") value=form.value("slug")
                                        hint="Lowercase letters, numbers and hyphens; used in addresses. Leave empty to derive it from the name."/>
                                    <button type="submit" class="primary" disabled=move || action.pending().get()>"Create organization"</button>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn org_nav(org: &OrgView, current: &'static str) -> impl IntoView {
    let slug = org.slug.clone();
    let link = move |label: &'static str, path: String| {
        let active = label == current;
        view! { <a href=path aria-current=if active { Some("page") } else { None }>{label}</a> }
    };
    view! {
        <nav class="tabs" aria-label="Organization">
            {link("Overview", format!("/organizations/{slug}/"))}
            {link("Members", format!("/organizations/{slug}/members/"))}
            {org.can_invite.then(|| link("Audit log", format!("/organizations/{slug}/audit-log/")))}
        </nav>
    }
}

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
                                {org_nav(&org, "Overview")}
                                <p>
                                    "You are " <strong>{me.map(|u| u.name).unwrap_or_default()}</strong>
                                    ", " <span data-testid="my-role">{org.role.clone()}</span> " of this organization."
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
                                <table>
                                    <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th></tr></thead>
                                    <tbody>
                                        {members.into_iter().map(|m| view! {
                                            <tr><td>{m.name}</td><td>{m.email}</td><td>{m.role}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/organizations/{slug}/members/`: the invite form and the member table with pending
/// invites and their delivery state.
#[component]
pub fn MembersPage() -> impl IntoView {
    let slug = slug_param();
    let invite = ServerAction::<InviteMember>::new();
    let revoke = ServerAction::<RevokeInvite>::new();
    let org = Resource::new_blocking(
        move || (slug.get(), invite.version().get(), revoke.version().get()),
        |(slug, _, _)| organization(slug),
    );
    let form = FormError::new(Signal::derive(move || invite.value().get().and_then(Result::err)));
    view! {
        <Title text="Members"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match org.await {
                    Err(err) => refusal_view(err),
                    Ok(org) => {
                        let slug = org.slug.clone();
                        let form_slug = slug.clone();
                        let can_invite = org.can_invite;
                        view! {
                            <section class="card">
                                <h1>{org.name.clone()} " · Members"</h1>
                                {org_nav(&org, "Members")}
                                {can_invite.then(|| view! {
                                    <h2>"Invite a teammate"</h2>
                                    <ActionForm action=invite attr:class="form inline-fields" attr:novalidate=true>
                                        <ErrorSummary error=form.error()/>
                                        <input type="hidden" name="slug" value=form_slug.clone()/>
                                        <Field label="Email" name="email" kind="email" errors=form.field("email") value=form.value("email")/>
                                        <div class="field">
                                            <label for="role">"Role"</label>
                                            <select id="role" name="role">
                                                <option value="member">"Member"</option>
                                                <option value="manager">"Manager"</option>
                                                {(org.role == "owner").then(|| view! { <option value="owner">"Owner"</option> })}
                                            </select>
                                        </div>
                                        <button type="submit" class="primary" disabled=move || invite.pending().get()>"Send invite"</button>
                                    </ActionForm>
                                })}
                                <table>
                                    <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Status"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                                    <tbody>
                                        {org.members.into_iter().map(|m| {
                                            let status = if !m.pending {
                                                "Member".to_owned()
                                            } else if m.expired {
                                                "Invite expired".to_owned()
                                            } else {
                                                format!("Invited{} · email {}",
                                                    m.inviter_name.as_ref().map(|n| format!(" by {n}")).unwrap_or_default(),
                                                    m.mail_status.clone().unwrap_or_else(|| "not sent".into()))
                                            };
                                            let slug = slug.clone();
                                            view! {
                                                <tr data-testid=format!("member-{}", m.email)>
                                                    <td>{m.name.clone()}</td>
                                                    <td>{m.email.clone()}</td>
                                                    <td>{m.role.clone()}</td>
                                                    <td>{status}</td>
                                                    <td>
                                                        {(m.pending && can_invite).then(|| view! {
                                                            <ActionForm action=revoke attr:class="inline-form">
                                                                <input type="hidden" name="slug" value=slug.clone()/>
                                                                <input type="hidden" name="member_id" value=m.id.to_string()/>
                                                                <button type="submit" class="link-button">"Revoke"</button>
                                                            </ActionForm>
                                                        })}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/organizations/{slug}/audit-log/`: newest first.
#[component]
pub fn AuditLogPage() -> impl IntoView {
    let slug = slug_param();
    let entries = Resource::new_blocking(move || slug.get(), audit_log);
    view! {
        <Title text="Audit log"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match entries.await {
                    Err(err) => refusal_view(err),
                    Ok(entries) => view! {
                        <section class="card">
                            <h1>"Audit log"</h1>
                            <p><a href=format!("/organizations/{}/", slug.get_untracked())>"Back to the organization"</a></p>
                            <table>
                                <thead><tr><th>"When"</th><th>"Event"</th><th>"Actor"</th><th>"Details"</th></tr></thead>
                                <tbody>
                                    {entries.into_iter().map(|e| view! {
                                        <tr><td>{e.date}</td><td><code>{e.event}</code></td><td>{e.actor.unwrap_or_default()}</td><td><code class="data">{e.data}</code></td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
