//! `/organizations/{slug}/members/`: the members, the invites and the requests.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::actions::{organization, DecideRequest, InviteMember, RequestInvite, RevokeInvite};
use super::{org_nav, refusal_view, slug_param};
use crate::app::components::{ErrorSummary, Field, FormError};
use crate::app::wire::{InviteStatus, MemberView, Role};

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
    let invite_form = emptied_after_success(invite);
    let query = use_query_map();
    let requested = Signal::derive(move || {
        query.read().get("requested").is_some() || matches!(request.value().get(), Some(Ok(())))
    });
    view! {
        <Title text="Members"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match org.await {
                    Err(err) => refusal_view(err),
                    Ok(org) => {
                        let slug = org.slug.clone();
                        let can_invite = org.can_invite;
                        let owner = org.role == Role::Owner;
                        let (requests, members): (Vec<MemberView>, Vec<MemberView>) = org
                            .members
                            .clone()
                            .into_iter()
                            .partition(|m| m.pending && m.invite_status != InviteStatus::Approved);
                        view! {
                            <section class="card">
                                <h1>{org.name.clone()} " · Members"</h1>
                                {org_nav(&org.slug, org.role, org.can_invite, "Members")}
                                {(!can_invite).then(|| view! { <RequestInviteForm slug=slug.clone() request requested/> })}
                                {(can_invite && !requests.is_empty()).then(|| view! {
                                    <RequestsTable slug=slug.clone() requests decide/>
                                })}
                                {can_invite.then(|| view! {
                                    <InviteForm slug=slug.clone() invite form_ref=invite_form owner/>
                                })}
                                <MemberTable slug members can_revoke=can_invite revoke/>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The invite form's node: after a successful invite the form starts empty again (without
/// JavaScript the page reloads, which does the same).
fn emptied_after_success(invite: ServerAction<InviteMember>) -> NodeRef<leptos::html::Form> {
    let invite_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(invite.value().get(), Some(Ok(()))) {
            if let Some(form) = invite_form.get_untracked() {
                form.reset();
            }
        }
    });
    invite_form
}

/// For members who cannot invite: ask the owners and managers to invite someone.
#[component]
fn RequestInviteForm(slug: String, request: ServerAction<RequestInvite>, requested: Signal<bool>) -> impl IntoView {
    let form = FormError::new(Signal::derive(move || request.value().get().and_then(Result::err)));
    view! {
        <h2>"Request an invite"</h2>
        <p class="hint">"Members cannot invite directly: an owner or manager approves your request."</p>
        {move || requested.get().then(|| view! { <p class="alert success" role="status">"Request sent to the owners and managers."</p> })}
        <ActionForm action=request attr:class="form inline-fields" attr:novalidate=true>
            <ErrorSummary error=form.error()/>
            <input type="hidden" name="slug" value=slug/>
            <Field label="Email" name="email" kind="email" errors=form.field("email") value=form.value("email")/>
            <button type="submit" class="primary" disabled=move || request.pending().get()>"Request invite"</button>
        </ActionForm>
    }
}

/// The invite requests and join requests waiting for an owner's or manager's decision.
#[component]
fn RequestsTable(slug: String, requests: Vec<MemberView>, decide: ServerAction<DecideRequest>) -> impl IntoView {
    let error = Signal::derive(move || decide.value().get().and_then(Result::err));
    view! {
        <h2>"Requests"</h2>
        <ErrorSummary error/>
        <table data-testid="requests">
            <thead><tr><th>"Email"</th><th>"Kind"</th><th>"Role"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
            <tbody>
                {requests.into_iter().map(|m| {
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
                            <td>{request_kind(&m)}</td>
                            <td>{m.role.as_str()}</td>
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
}

/// What a request is: someone asking to join, or a member asking for an invite.
fn request_kind(m: &MemberView) -> String {
    if m.invite_status == InviteStatus::RequestedToJoin {
        "Asked to join".to_owned()
    } else {
        format!("Invite requested by {}", m.inviter_name.clone().unwrap_or_else(|| "a member".into()))
    }
}

/// For owners and managers: invite someone by email, with a role (owners only by owners).
#[component]
fn InviteForm(
    slug: String,
    invite: ServerAction<InviteMember>,
    form_ref: NodeRef<leptos::html::Form>,
    owner: bool,
) -> impl IntoView {
    let form = FormError::new(Signal::derive(move || invite.value().get().and_then(Result::err)));
    view! {
        <h2>"Invite a teammate"</h2>
        <ActionForm action=invite node_ref=form_ref attr:class="form inline-fields" attr:novalidate=true>
            <ErrorSummary error=form.error()/>
            <input type="hidden" name="slug" value=slug/>
            <Field label="Email" name="email" kind="email" errors=form.field("email") value=form.value("email")/>
            <div class="field">
                <label for="role">"Role"</label>
                <select id="role" name="role">
                    <option value="member">"Member"</option>
                    <option value="manager">"Manager"</option>
                    {owner.then(|| view! { <option value="owner">"Owner"</option> })}
                </select>
            </div>
            <button type="submit" class="primary" disabled=move || invite.pending().get()>"Send invite"</button>
        </ActionForm>
    }
}

/// Members and pending invites with their delivery state; who can invite can revoke an
/// invite.
#[component]
fn MemberTable(
    slug: String,
    members: Vec<MemberView>,
    can_revoke: bool,
    revoke: ServerAction<RevokeInvite>,
) -> impl IntoView {
    view! {
        <table>
            <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Status"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
            <tbody>
                {members.into_iter().map(|m| {
                    let status = member_status(&m);
                    let slug = slug.clone();
                    view! {
                        <tr data-testid=format!("member-{}", m.email)>
                            <td>{m.name.clone()}</td>
                            <td>{m.email.clone()}</td>
                            <td>{m.role.as_str()}</td>
                            <td>{status}</td>
                            <td>
                                {(m.pending && can_revoke).then(|| view! {
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
    }
}

/// A member, or an invite: expired, or by whom and how its email fares.
fn member_status(m: &MemberView) -> String {
    if !m.pending {
        "Member".to_owned()
    } else if m.expired {
        "Invite expired".to_owned()
    } else {
        format!(
            "Invited{} · email {}",
            m.inviter_name.as_ref().map(|n| format!(" by {n}")).unwrap_or_default(),
            m.mail_status.clone().unwrap_or_else(|| "not sent".into())
        )
    }
}
