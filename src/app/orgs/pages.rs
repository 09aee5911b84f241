use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::actions::{
    audit_log, join_page, my_organizations, org_settings, organization, CreateOrganization, DecideRequest,
    InviteMember, RequestInvite, RevokeInvite, SendJoinRequest, UpdateOrgSettings,
};
use crate::app::components::{ErrorSummary, Field, FormError};
use crate::app::layout::use_current_user;
use crate::app::wire::{AppError, MemberView, OrgView};
use leptos_router::components::Redirect;

pub(super) fn slug_param() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("slug").unwrap_or_default())
}

/// A refusal shown in place of a page (not a member, not signed in …).
pub(super) fn refusal_view(err: AppError) -> AnyView {
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

pub(super) fn org_nav(org: &OrgView, current: &'static str) -> impl IntoView {
    let slug = org.slug.clone();
    let link = move |label: &'static str, path: String| {
        let active = label == current;
        view! { <a href=path aria-current=if active { Some("page") } else { None }>{label}</a> }
    };
    view! {
        <nav class="tabs" aria-label="Organization">
            {link("Overview", format!("/organizations/{slug}/"))}
            {link("Members", format!("/organizations/{slug}/members/"))}
            {org.can_invite.then(|| link("Settings", format!("/organizations/{slug}/settings/")))}
            {org.can_invite.then(|| link("Audit log", format!("/organizations/{slug}/audit-log/")))}
            {(org.role == "owner").then(|| link("Single sign-on", format!("/organizations/{slug}/settings/auth/")))}
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
    let decide = ServerAction::<DecideRequest>::new();
    let request = ServerAction::<RequestInvite>::new();
    let org = Resource::new_blocking(
        move || {
            (
                slug.get(),
                invite.version().get(),
                revoke.version().get(),
                decide.version().get(),
                request.version().get(),
            )
        },
        |(slug, ..)| organization(slug),
    );
    let form = FormError::new(Signal::derive(move || invite.value().get().and_then(Result::err)));
    let request_form = FormError::new(Signal::derive(move || request.value().get().and_then(Result::err)));
    // After a successful invite the form starts empty again (without JavaScript the page
    // reloads, which does the same).
    let invite_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(invite.value().get(), Some(Ok(()))) {
            if let Some(form) = invite_form.get_untracked() {
                form.reset();
            }
        }
    });
    let decide_error = Signal::derive(move || decide.value().get().and_then(Result::err));
    let query = use_query_map();
    let requested = move || query.read().get("requested").is_some() || matches!(request.value().get(), Some(Ok(())));
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
                        let (requests, members): (Vec<MemberView>, Vec<MemberView>) =
                            org.members.clone().into_iter().partition(|m| m.pending && m.invite_status != "approved");
                        let request_slug = slug.clone();
                        view! {
                            <section class="card">
                                <h1>{org.name.clone()} " · Members"</h1>
                                {org_nav(&org, "Members")}
                                {(!can_invite).then(|| view! {
                                    <h2>"Request an invite"</h2>
                                    <p class="hint">"Members cannot invite directly: an owner or manager approves your request."</p>
                                    {move || requested().then(|| view! { <p class="alert success" role="status">"Request sent to the owners and managers."</p> })}
                                    <ActionForm action=request attr:class="form inline-fields" attr:novalidate=true>
                                        <ErrorSummary error=request_form.error()/>
                                        <input type="hidden" name="slug" value=request_slug.clone()/>
                                        <Field label="Email" name="email" kind="email" errors=request_form.field("email") value=request_form.value("email")/>
                                        <button type="submit" class="primary" disabled=move || request.pending().get()>"Request invite"</button>
                                    </ActionForm>
                                })}
                                {(can_invite && !requests.is_empty()).then(|| {
                                    let slug = slug.clone();
                                    view! {
                                        <h2>"Requests"</h2>
                                        <ErrorSummary error=decide_error/>
                                        <table data-testid="requests">
                                            <thead><tr><th>"Email"</th><th>"Kind"</th><th>"Role"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                                            <tbody>
                                                {requests.into_iter().map(|m| {
                                                    let kind = if m.invite_status == "requested_to_join" {
                                                        "Asked to join".to_owned()
                                                    } else {
                                                        format!("Invite requested by {}", m.inviter_name.clone().unwrap_or_else(|| "a member".into()))
                                                    };
                                                    let decision = |label: &'static str, value: &'static str, class: &'static str| {
                                                        let slug = slug.clone();
                                                        let id = m.id.to_string();
                                                        view! {
                                                            <ActionForm action=decide attr:class="inline-form">
                                                                <input type="hidden" name="slug" value=slug/>
                                                                <input type="hidden" name="member_id" value=id/>
                                                                <input type="hidden" name="decision" value=value/>
                                                                <button type="submit" class=class>{label}</button>
                                                            </ActionForm>
                                                        }
                                                    };
                                                    view! {
                                                        <tr data-testid=format!("request-{}", m.email)>
                                                            <td>{m.email.clone()}</td>
                                                            <td>{kind}</td>
                                                            <td>{m.role.clone()}</td>
                                                            <td>
                                                                <div class="row-actions">
                                                                    {decision("Approve", "approve", "small primary")}
                                                                    {decision("Reject", "reject", "link-button")}
                                                                </div>
                                                            </td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    }
                                })}
                                {can_invite.then(|| view! {
                                    <h2>"Invite a teammate"</h2>
                                    <ActionForm action=invite node_ref=invite_form attr:class="form inline-fields" attr:novalidate=true>
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
                                        {members.into_iter().map(|m| {
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

/// `/organizations/{slug}/settings/`: the policies of SPEC §1 (owners and managers).
#[component]
pub fn OrgSettingsPage() -> impl IntoView {
    let slug = slug_param();
    let save = ServerAction::<UpdateOrgSettings>::new();
    let settings = Resource::new_blocking(move || (slug.get(), save.version().get()), |(slug, _)| org_settings(slug));
    let form = FormError::new(Signal::derive(move || save.value().get().and_then(Result::err)));
    let query = use_query_map();
    let saved = move || query.read().get("saved").is_some() || matches!(save.value().get(), Some(Ok(())));
    view! {
        <Title text="Settings"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match settings.await {
                    Err(err) => refusal_view(err),
                    Ok(s) => {
                        let nav = OrgView {
                            slug: s.slug.clone(), name: s.name.clone(), role: s.role.clone(), can_invite: s.can_invite,
                            invitee_joined: false, members: Vec::new(), teams: Vec::new(),
                        };
                        let can_edit = s.can_edit;
                        let check = move |name: &'static str, label: &'static str, hint: &'static str, on: bool, errors: Signal<Vec<String>>| view! {
                            <div class="field check">
                                <input type="checkbox" id=name name=name value="on" checked=on disabled=!can_edit/>
                                <label for=name>{label}</label>
                                <p class="hint">{hint}</p>
                                <ul class="field-errors">{move || errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
                            </div>
                        };
                        let default_role = s.default_role.clone();
                        let role_option = move |value: &'static str, label: &'static str| view! {
                            <option value=value selected=default_role == value>{label}</option>
                        };
                        let limit = s.member_limit.map(|n| n.to_string()).unwrap_or_default();
                        view! {
                            <section class="card">
                                <h1>{s.name.clone()} " · Settings"</h1>
                                {org_nav(&nav, "Settings")}
                                {move || saved().then(|| view! { <p class="alert success" role="status">"Settings saved."</p> })}
                                {(!s.can_edit).then(|| view! { <p class="alert info">"Only owners and managers can change these settings."</p> })}
                                <ActionForm action=save attr:class="form" attr:novalidate=true>
                                    <ErrorSummary error=form.error()/>
                                    <input type="hidden" name="slug" value=s.slug.clone()/>
                                    <Field label="Organization name" name="name" errors=form.field("name")
                                        value=Signal::derive({ let name = s.name.clone(); move || form.value("name").get().or_else(|| Some(name.clone())) })/>
                                    <h2>"Joining"</h2>
                                    {check("require_2fa", "Require two-factor authentication",
                                        "Invitees must turn on two-factor authentication before they can join.", s.require_2fa, form.field("require2FA"))}
                                    {check("require_email_verification", "Require a verified email address",
                                        "Invitees must verify their email address before they can join.", s.require_email_verification, form.field("requireEmailVerification"))}
                                    {check("allow_email_mismatch", "Allow joining with a different email address",
                                        "An invite may be accepted by an account with another address; the audit log records both.", s.allow_email_mismatch, form.field("allowEmailMismatch"))}
                                    {check("allow_join_requests", "Allow join requests",
                                        "Anyone can ask to join; owners and managers approve.", s.allow_join_requests, form.field("allowJoinRequests"))}
                                    {s.allow_join_requests.then(|| view! {
                                        <p class="hint">"Join-request page: " <a href=format!("/join-request/{}/", s.slug)>{format!("/join-request/{}/", s.slug)}</a></p>
                                    })}
                                    <div class="field">
                                        <label for="default_role">"Default role"</label>
                                        <select id="default_role" name="default_role" disabled=!s.can_edit>
                                            {role_option("member", "Member")}
                                            {role_option("manager", "Manager")}
                                            {(s.role == "owner").then(|| role_option("owner", "Owner"))}
                                        </select>
                                        <ul class="field-errors">{move || form.field("defaultRole").get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
                                    </div>
                                    <div class="field" class:invalid=move || !form.field("memberLimit").get().is_empty()>
                                        <label for="member_limit">"Member limit"</label>
                                        <input id="member_limit" name="member_limit" type="number" min="1" inputmode="numeric"
                                            value=move || form.value("member_limit").get().unwrap_or_else(|| limit.clone()) disabled=!s.can_edit
                                            aria-describedby="member_limit-hint member_limit-errors"/>
                                        <p class="hint" id="member_limit-hint">{format!("Seats in use: {} (members and pending invites). Leave empty for no limit.", s.seats_used)}</p>
                                        <ul class="field-errors" id="member_limit-errors">{move || form.field("memberLimit").get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
                                    </div>
                                    {s.can_edit.then(|| view! {
                                        <button type="submit" class="primary" disabled=move || save.pending().get()>"Save settings"</button>
                                    })}
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/join-request/{slug}/`: ask to join an organization that allows it (SPEC §5.7).
#[component]
pub fn JoinRequestPage() -> impl IntoView {
    let slug = slug_param();
    let send = ServerAction::<SendJoinRequest>::new();
    let org = Resource::new_blocking(move || slug.get(), join_page);
    let form = FormError::new(Signal::derive(move || send.value().get().and_then(Result::err)));
    let query = use_query_map();
    let sent = move || query.read().get("sent").is_some() || matches!(send.value().get(), Some(Ok(())));
    view! {
        <Title text="Ask to join"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match org.await {
                    Err(err) => view! { <section class="card narrow"><p class="alert error" role="alert">{err.summary()}</p></section> }.into_any(),
                    Ok(org) => view! {
                        <section class="card narrow">
                            <h1>"Ask to join " {org.name.clone()}</h1>
                            {if !org.accepts_requests {
                                view! { <p class="alert info" data-testid="join-message">{org.name.clone()} " does not accept join requests. Ask one of its members for an invite."</p> }.into_any()
                            } else {
                                view! {
                                    {move || sent().then(|| view! {
                                        <p class="alert success" role="status" data-testid="join-message">
                                            "Thank you. If the organization approves your request, you will receive an invite by email."
                                        </p>
                                    })}
                                    <p>"Owners and managers of " {org.name.clone()} " review requests; an approved request sends you an invite link."</p>
                                    <ActionForm action=send attr:class="form" attr:novalidate=true>
                                        <ErrorSummary error=form.error()/>
                                        <input type="hidden" name="slug" value=org.slug.clone()/>
                                        <Field label="Your email" name="email" kind="email" autocomplete="email" errors=form.field("email") value=form.value("email")/>
                                        <button type="submit" class="primary" disabled=move || send.pending().get()>"Ask to join"</button>
                                    </ActionForm>
                                }.into_any()
                            }}
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
