//! `/organizations/{slug}/members/` (SPEC §5.10): the invite form, the requests, the
//! members with their roles, the pending invites with their delivery state, the teams,
//! and leaving. The confirmation steps are addresses (`?remove={id}`, `?leave=1`), so they
//! work with JavaScript off as well as hydrated.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

mod ways_in;

use self::ways_in::{BulkInviteForm, JoinLinksSection};
use super::actions::{
    invite_tools, BulkInvite, CreateJoinLink, DecideRequest, InviteMember, RequestInvite, RevokeInvite, RevokeJoinLink,
};
use super::manage::{
    members_page, ChangeMemberRole, CreateTeam, LeaveOrganization, ReissueInvite, RemoveMember, SetMemberTeam,
};
use super::member_rows::{InvitesTable, MembersTable};
use super::teams::TeamsSection;
use super::{org_nav, refusal_view, slug_param};
use crate::app::components::{ErrorSummary, Field, FormError};
use crate::app::wire::{AppError, InviteStatus, InviteToolsView, MemberView, MembersView, Role};

/// Every form of the page, and where the page stands (which page of the list, which
/// confirmation is open).
#[derive(Clone, Copy)]
pub(super) struct Admin {
    pub invite: ServerAction<InviteMember>,
    pub revoke: ServerAction<RevokeInvite>,
    pub decide: ServerAction<DecideRequest>,
    pub request: ServerAction<RequestInvite>,
    pub role: ServerAction<ChangeMemberRole>,
    pub remove: ServerAction<RemoveMember>,
    pub leave: ServerAction<LeaveOrganization>,
    pub reissue: ServerAction<ReissueInvite>,
    pub team_create: ServerAction<CreateTeam>,
    pub team_member: ServerAction<SetMemberTeam>,
    pub bulk: ServerAction<BulkInvite>,
    pub link_create: ServerAction<CreateJoinLink>,
    pub link_revoke: ServerAction<RevokeJoinLink>,
    /// The page of the list (`?cursor=`).
    pub cursor: Memo<Option<String>>,
    /// The member whose removal waits for confirmation (`?remove=`).
    pub removing: Memo<Option<i64>>,
    /// Leaving waits for confirmation (`?leave=1`).
    pub leaving: Memo<bool>,
}

impl Admin {
    fn new() -> Self {
        let query = use_query_map();
        Self {
            invite: ServerAction::new(),
            revoke: ServerAction::new(),
            decide: ServerAction::new(),
            request: ServerAction::new(),
            role: ServerAction::new(),
            remove: ServerAction::new(),
            leave: ServerAction::new(),
            reissue: ServerAction::new(),
            team_create: ServerAction::new(),
            team_member: ServerAction::new(),
            bulk: ServerAction::new(),
            link_create: ServerAction::new(),
            link_revoke: ServerAction::new(),
            cursor: Memo::new(move |_| query.read().get("cursor").filter(|c| !c.is_empty())),
            removing: Memo::new(move |_| query.read().get("remove").and_then(|id| id.parse().ok())),
            leaving: Memo::new(move |_| query.read().get("leave").is_some()),
        }
    }

    /// Changes whenever a form of the page has done something: the list is read again.
    fn changes(self) -> usize {
        self.invite.version().get()
            + self.revoke.version().get()
            + self.decide.version().get()
            + self.request.version().get()
            + self.role.version().get()
            + self.remove.version().get()
            + self.reissue.version().get()
            + self.team_create.version().get()
            + self.team_member.version().get()
            + self.bulk.version().get()
            + self.link_create.version().get()
            + self.link_revoke.version().get()
    }

    /// Whether the last use of any form of the page failed.
    fn failed(self) -> bool {
        fn err<T: Clone + Send + Sync + 'static>(v: Option<Result<T, AppError>>) -> bool {
            matches!(v, Some(Err(_)))
        }
        err(self.invite.value().get())
            || err(self.revoke.value().get())
            || err(self.decide.value().get())
            || err(self.request.value().get())
            || err(self.role.value().get())
            || err(self.remove.value().get())
            || err(self.leave.value().get())
            || err(self.reissue.value().get())
            || err(self.team_create.value().get())
            || err(self.team_member.value().get())
            || err(self.bulk.value().get())
            || err(self.link_create.value().get())
            || err(self.link_revoke.value().get())
    }

    /// This page of the list with `extra` query parameters (`remove=3`); the page's own
    /// address when there are none.
    pub fn href(self, slug: &str, extra: &str) -> String {
        let mut query: Vec<String> = self.cursor.get_untracked().map(|c| format!("cursor={c}")).into_iter().collect();
        if !extra.is_empty() {
            query.push(extra.to_owned());
        }
        let base = format!("/organizations/{slug}/members/");
        if query.is_empty() {
            base
        } else {
            format!("{base}?{}", query.join("&"))
        }
    }
}

/// The error of an action's last use, as a signal.
pub(super) fn error_of<T>(action: ServerAction<T>) -> Signal<Option<AppError>>
where
    T: leptos::server_fn::ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// A role as the page names it.
pub(super) fn role_label(role: Role) -> &'static str {
    match role {
        Role::Member => "Member",
        Role::Manager => "Manager",
        Role::Owner => "Owner",
    }
}

#[component]
pub fn MembersPage() -> impl IntoView {
    let slug = slug_param();
    let admin = Admin::new();
    let page = Resource::new_blocking(
        move || (slug.get(), admin.cursor.get(), admin.changes()),
        |(slug, cursor, _)| members_page(slug, cursor),
    );
    // Join links and the last bulk outcome, for owners and managers (`None` for others).
    let tools = Resource::new_blocking(move || (slug.get(), admin.changes()), |(slug, _)| invite_tools(slug));
    let invite_form = emptied_after_success(admin.invite);
    view! {
        <Title text="Members"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => refusal_view(err),
                    Ok(view) => {
                        let tools = tools.await.ok().flatten();
                        members_card(view, tools, admin, invite_form).into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn members_card(
    page: MembersView,
    tools: Option<InviteToolsView>,
    admin: Admin,
    invite_form: NodeRef<leptos::html::Form>,
) -> impl IntoView {
    let slug = page.slug.clone();
    let can_invite = page.can_invite;
    let bulk_outcome = tools.as_ref().and_then(|t| t.bulk_outcome.clone());
    view! {
        <section class="card">
            <h1>{page.name.clone()} " · Members"</h1>
            {org_nav(&page.slug, page.role, page.can_invite, "Members")}
            <Notice admin/>
            {if can_invite {
                view! {
                    <InviteForm slug=slug.clone() invite=admin.invite form_ref=invite_form
                        grantable=page.grantable.clone() default_role=page.default_role/>
                    <BulkInviteForm slug=slug.clone() admin grantable=page.grantable.clone()
                        default_role=page.default_role outcome=bulk_outcome/>
                    {(!page.requests.is_empty()).then(|| view! {
                        <RequestsTable slug=slug.clone() requests=page.requests.clone() decide=admin.decide/>
                    })}
                }.into_any()
            } else {
                view! { <RequestInviteForm slug=slug.clone() request=admin.request/> }.into_any()
            }}
            <MembersTable page=page.clone() admin/>
            <InvitesTable page=page.clone() admin/>
            <Pager slug=slug.clone() previous=page.previous.clone() next=page.next.clone()/>
            {tools.map(|tools| view! { <JoinLinksSection slug=slug.clone() tools admin/> })}
            <TeamsSection page=page.clone() admin/>
            <LeaveSection page admin/>
        </section>
    }
}

/// What the last change did (the redirect's `?done=`), unless a form has an error to show.
#[component]
fn Notice(admin: Admin) -> impl IntoView {
    let query = use_query_map();
    let text = move || {
        if admin.failed() {
            return None;
        }
        let q = query.read();
        if q.get("requested").is_some() || matches!(admin.request.value().get(), Some(Ok(()))) {
            return Some("Request sent to the owners and managers.");
        }
        Some(match q.get("done")?.as_str() {
            "role" => "Role changed.",
            "removed" => "Member removed. They no longer have access.",
            "resent" => "Invite sent again, with the same link.",
            "regenerated" => "A new invite link was sent; the previous link no longer works.",
            "team" => "Team created.",
            "teams" => "Teams updated.",
            "transferred" => "Ownership transferred. You are now a manager of this organization.",
            "link-revoked" => "Join link revoked. It no longer lets anyone in.",
            _ => return None,
        })
    };
    move || text().map(|t| view! { <p class="alert success" role="status" data-testid="notice">{t}</p> })
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
fn RequestInviteForm(slug: String, request: ServerAction<RequestInvite>) -> impl IntoView {
    let form = FormError::new(error_of(request));
    view! {
        <h2>"Request an invite"</h2>
        <p class="hint">"Members cannot invite directly: an owner or manager approves your request."</p>
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
    view! {
        <h2>"Requests"</h2>
        <ErrorSummary error=error_of(decide)/>
        <div class="table-scroll">
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
                                <td>{role_label(m.role)}</td>
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
        </div>
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

/// For owners and managers: invite someone by email, with a role they may give (the
/// organization's default role chosen unless another is).
#[component]
fn InviteForm(
    slug: String,
    invite: ServerAction<InviteMember>,
    form_ref: NodeRef<leptos::html::Form>,
    grantable: Vec<Role>,
    default_role: Role,
) -> impl IntoView {
    let form = FormError::new(error_of(invite));
    let chosen = move || form.value("role").get().unwrap_or_else(|| default_role.as_str().to_owned());
    view! {
        <h2>"Invite a teammate"</h2>
        <ActionForm action=invite node_ref=form_ref attr:class="form inline-fields" attr:novalidate=true>
            <ErrorSummary error=form.error()/>
            <input type="hidden" name="slug" value=slug/>
            <Field label="Email" name="email" kind="email" errors=form.field("email") value=form.value("email")/>
            <div class="field" class:invalid=move || !form.field("role").get().is_empty()>
                <label for="role">"Role"</label>
                <select id="role" name="role" aria-describedby="role-errors">
                    {grantable.into_iter().map(|role| view! {
                        <option value=role.as_str() selected=move || chosen() == role.as_str()>{role_label(role)}</option>
                    }).collect_view()}
                </select>
                <ul class="field-errors" id="role-errors">
                    {move || form.field("role").get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                </ul>
            </div>
            <button type="submit" class="primary" disabled=move || invite.pending().get()>"Send invite"</button>
        </ActionForm>
    }
}

/// Previous / Next links when the list has more than one page.
#[component]
fn Pager(slug: String, previous: Option<String>, next: Option<String>) -> impl IntoView {
    let link = move |cursor: &str| format!("/organizations/{slug}/members/?cursor={cursor}");
    (previous.is_some() || next.is_some()).then(|| {
        view! {
            <nav class="pager" aria-label="Member list pages">
                {previous.map(|c| view! { <a href=link(&c) rel="prev">"← Previous"</a> })}
                {next.map(|c| view! { <a href=link(&c) rel="next">"Next →"</a> })}
            </nav>
        }
    })
}

/// Leaving the organization, confirmed on `?leave=1`; the last owner is told why they
/// cannot.
#[component]
fn LeaveSection(page: MembersView, admin: Admin) -> impl IntoView {
    let slug = page.slug.clone();
    let org = page.name.clone();
    let cannot_leave = page.cannot_leave.clone();
    let ask = admin.href(&slug, "leave=1") + "#confirm-leave";
    let cancel = admin.href(&slug, "");
    let leave = admin.leave;
    view! {
        <section class="danger-zone" aria-labelledby="leave-title">
            <h2 id="leave-title">"Leave organization"</h2>
            {match cannot_leave {
                Some(why) => view! { <p class="hint" data-testid="cannot-leave">{why}</p> }.into_any(),
                None => (move || if admin.leaving.get() {
                    let (slug, org, cancel) = (slug.clone(), org.clone(), cancel.clone());
                    view! {
                        <div class="confirm" id="confirm-leave" tabindex="-1" role="group" aria-labelledby="confirm-leave-text">
                            <p id="confirm-leave-text">
                                <strong>"Leave " {org} "?"</strong> " You lose access at once; only a new invite brings you back."
                            </p>
                            <ErrorSummary error=error_of(leave)/>
                            <ActionForm action=leave attr:class="inline-form confirm-actions">
                                <input type="hidden" name="slug" value=slug/>
                                <button type="submit" class="danger" disabled=move || leave.pending().get()>"Leave organization"</button>
                                <a href=cancel>"Cancel"</a>
                            </ActionForm>
                        </div>
                    }.into_any()
                } else {
                    let ask = ask.clone();
                    view! {
                        <p class="hint">"You lose access to this organization; an owner or manager can invite you again."</p>
                        <p><a href=ask class="danger-link">"Leave organization"</a></p>
                    }.into_any()
                }).into_any(),
            }}
        </section>
    }
}
