//! The two tables of the members page: members (role changes, removal with its
//! confirmation) and pending invites (resend, regenerate, revoke, delivery state). Which
//! controls a row shows was decided by the server (`MemberView::can_manage`, `last_owner`).

use leptos::prelude::*;

use super::members::{error_of, role_label, Admin};
use crate::app::components::ErrorSummary;
use crate::app::wire::{AppError, MemberView, MembersView, Role};

/// The members of this page: name, address, role, teams; for owners and managers a role
/// selector and Remove on each member they may manage.
#[component]
pub(super) fn MembersTable(page: MembersView, admin: Admin) -> impl IntoView {
    let role_error = error_of(admin.role);
    // A sentence about no single row (a refusal) is shown above the table; a field error
    // beside the selector of the member it is about.
    let table_error = Signal::derive(move || role_error.get().filter(|e| !matches!(e, AppError::Invalid { .. })));
    let teams = page.teams.clone();
    let controls = page.can_invite;
    view! {
        <h2 id="members-title">"Members"</h2>
        <ErrorSummary error=table_error/>
        <div class="table-scroll">
            <table class="members-table" aria-labelledby="members-title">
                <thead>
                    <tr>
                        <th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Teams"</th>
                        {controls.then(|| view! { <th><span class="sr-only">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {page.members.into_iter().map(|m| {
                        let team_names = team_names(&m, &teams);
                        view! {
                            <MemberRow m team_names page_slug=page.slug.clone() org=page.name.clone()
                                grantable=page.grantable.clone() controls admin/>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The names of the teams a row is on.
pub(super) fn team_names(m: &MemberView, teams: &[(String, String)]) -> Vec<String> {
    teams.iter().filter(|(slug, _)| m.teams.contains(slug)).map(|(_, name)| name.clone()).collect()
}

#[component]
fn MemberRow(
    m: MemberView,
    team_names: Vec<String>,
    page_slug: String,
    org: String,
    grantable: Vec<Role>,
    controls: bool,
    admin: Admin,
) -> impl IntoView {
    let id = m.id;
    let name = m.display_name();
    let remove_label = format!("Remove {name}");
    let confirm_href = admin.href(&page_slug, &format!("remove={id}")) + "#confirm-remove";
    let columns = if controls { 5 } else { 4 };
    let role_cell = if m.can_manage {
        view! { <RoleForm m=m.clone() slug=page_slug.clone() grantable admin/> }.into_any()
    } else {
        view! { {role_label(m.role)} }.into_any()
    };
    let actions = controls.then(|| {
        let action = if m.can_manage {
            view! {
                <a href=confirm_href class="danger-link" aria-label=remove_label>"Remove"</a>
            }
            .into_any()
        } else if m.last_owner {
            view! { <span class="hint" title="An organization always keeps an owner">"Last owner"</span> }.into_any()
        } else {
            ().into_any()
        };
        view! { <td class="row-end">{action}</td> }
    });
    let can_manage = m.can_manage;
    let confirm = move || {
        (admin.removing.get() == Some(id) && can_manage).then(|| {
            view! {
                <tr class="confirm-row">
                    <td colspan=columns>
                        <RemoveConfirmation id name=name.clone() org=org.clone() slug=page_slug.clone() admin/>
                    </td>
                </tr>
            }
        })
    };
    view! {
        <tr data-testid=format!("member-{}", m.email)>
            <td>
                {m.name.clone()}
                {m.you.then(|| view! { " " <span class="badge">"You"</span> })}
            </td>
            <td class="email">{m.email.clone()}</td>
            <td>{role_cell}</td>
            <td>
                <ul class="chips" aria-label="Teams">
                    {team_names.into_iter().map(|t| view! { <li class="chip">{t}</li> }).collect_view()}
                </ul>
            </td>
            {actions}
        </tr>
        {confirm}
    }
}

/// The role selector of one member: only roles the reader may give.
#[component]
fn RoleForm(m: MemberView, slug: String, grantable: Vec<Role>, admin: Admin) -> impl IntoView {
    let role = admin.role;
    let id = m.id;
    let select_id = format!("role-{id}");
    let errors_id = format!("role-{id}-errors");
    // Field errors about this member (the id travels back with them).
    let errors = move || {
        role.value()
            .get()
            .and_then(Result::err)
            .filter(|e| e.value("member_id") == Some(id.to_string()))
            .map(|e| e.field("role"))
            .unwrap_or_default()
    };
    view! {
        <ActionForm action=role attr:class="role-form">
            <input type="hidden" name="slug" value=slug/>
            <input type="hidden" name="member_id" value=id.to_string()/>
            <label class="sr-only" for=select_id.clone()>{format!("Role for {}", m.email)}</label>
            <select id=select_id name="role" aria-describedby=errors_id.clone()
                aria-invalid=move || if errors().is_empty() { "false" } else { "true" }>
                {grantable.into_iter().map(|r| view! {
                    <option value=r.as_str() selected=r == m.role>{role_label(r)}</option>
                }).collect_view()}
            </select>
            <button type="submit" class="small" aria-label=format!("Change role of {}", m.email)
                disabled=move || role.pending().get()>"Change role"</button>
            <ul class="field-errors" id=errors_id>
                {move || errors().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
            </ul>
        </ActionForm>
    }
}

/// "Remove {name} from {org}?" with the button that does it and a way back.
#[component]
fn RemoveConfirmation(id: i64, name: String, org: String, slug: String, admin: Admin) -> impl IntoView {
    let remove = admin.remove;
    let cancel = admin.href(&slug, "");
    view! {
        <div class="confirm" id="confirm-remove" tabindex="-1" role="group" aria-labelledby="confirm-remove-text">
            <p id="confirm-remove-text">
                <strong>{format!("Remove {name} from {org}?")}</strong> " They lose access at once."
            </p>
            <ErrorSummary error=error_of(remove)/>
            <ActionForm action=remove attr:class="inline-form confirm-actions">
                <input type="hidden" name="slug" value=slug/>
                <input type="hidden" name="member_id" value=id.to_string()/>
                <button type="submit" class="danger" disabled=move || remove.pending().get()>"Remove"</button>
                <a href=cancel>"Cancel"</a>
            </ActionForm>
        </div>
    }
}

/// The pending invites of this page: address, role, inviter, expiry, delivery state; for
/// owners and managers Resend (not once expired), Regenerate and Revoke.
#[component]
pub(super) fn InvitesTable(page: MembersView, admin: Admin) -> impl IntoView {
    let revoke_error = error_of(admin.revoke);
    let reissue_error = error_of(admin.reissue);
    let error = Signal::derive(move || reissue_error.get().or_else(|| revoke_error.get()));
    let slug = page.slug.clone();
    let controls = page.can_invite;
    view! {
        <h2 id="invites-title">"Pending invites"</h2>
        <ErrorSummary error/>
        {if page.invites.is_empty() {
            view! { <p class="hint">"No pending invites."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table class="invites-table" aria-labelledby="invites-title">
                        <thead>
                            <tr>
                                <th>"Email"</th><th>"Role"</th><th>"Invitation"</th><th>"Expires"</th><th>"Delivery"</th>
                                {controls.then(|| view! { <th><span class="sr-only">"Actions"</span></th> })}
                            </tr>
                        </thead>
                        <tbody>
                            {page.invites.into_iter().map(|m| invite_row(m, slug.clone(), controls, admin)).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
    }
}

fn invite_row(m: MemberView, slug: String, controls: bool, admin: Admin) -> impl IntoView {
    let mail = format!("email {}", m.mail_status.clone().unwrap_or_else(|| "not sent".into()));
    let mail_class = format!("mail-state mail-{}", m.mail_status.clone().unwrap_or_else(|| "none".into()));
    let inviter = m.inviter_name.clone().map(|n| format!("Invited by {n}")).unwrap_or_else(|| "Invited".into());
    let expires = if m.expired {
        view! { <span class="expired">"Expired"</span> }.into_any()
    } else {
        view! { {m.expires_on.clone().unwrap_or_default()} }.into_any()
    };
    let email = m.email.clone();
    let buttons = (controls && m.can_manage).then(|| {
        let form = |label: &'static str, mode: &'static str| {
            let (slug, id, email) = (slug.clone(), m.id.to_string(), email.clone());
            let reissue = admin.reissue;
            view! {
                <ActionForm action=reissue attr:class="inline-form">
                    <input type="hidden" name="slug" value=slug/>
                    <input type="hidden" name="member_id" value=id/>
                    <input type="hidden" name="mode" value=mode/>
                    <button type="submit" class="small" aria-label=format!("{label} the invite to {email}")
                        disabled=move || reissue.pending().get()>{label}</button>
                </ActionForm>
            }
        };
        let revoke = admin.revoke;
        let revoke_label = format!("Revoke the invite to {email}");
        view! {
            <div class="row-actions">
                {(!m.expired).then(|| form("Resend", "resend"))}
                {form("Regenerate", "regenerate")}
                <ActionForm action=revoke attr:class="inline-form">
                    <input type="hidden" name="slug" value=slug.clone()/>
                    <input type="hidden" name="member_id" value=m.id.to_string()/>
                    <button type="submit" class="link-button" aria-label=revoke_label
                        disabled=move || revoke.pending().get()>"Revoke"</button>
                </ActionForm>
            </div>
        }
    });
    view! {
        <tr data-testid=format!("member-{}", m.email) class:expired-row=m.expired>
            <td class="email">{m.email.clone()}</td>
            <td>{role_label(m.role)}</td>
            <td>{inviter}</td>
            <td>{expires}</td>
            <td><span class=mail_class data-testid="mail-state">{mail}</span></td>
            {controls.then(|| view! { <td class="row-end">{buttons}</td> })}
        </tr>
    }
}
