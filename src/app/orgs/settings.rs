//! `/organizations/{slug}/settings/`: the organization's policies.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::actions::{org_settings, UpdateOrgSettings};
use super::manage::TransferOwnership;
use super::{org_nav, refusal_view, slug_param};
use crate::app::components::{Checkbox, ErrorSummary, Field, FormError};
use crate::app::wire::{OrgSettingsView, Role};

/// `/organizations/{slug}/settings/`: the policies of SPEC §1 (owners and managers).
#[component]
pub fn OrgSettingsPage() -> impl IntoView {
    let slug = slug_param();
    let save = ServerAction::<UpdateOrgSettings>::new();
    let transfer = ServerAction::<TransferOwnership>::new();
    let settings = Resource::new_blocking(move || (slug.get(), save.version().get()), |(slug, _)| org_settings(slug));
    let form = FormError::new(Signal::derive(move || save.value().get().and_then(Result::err)));
    let query = use_query_map();
    let saved =
        Signal::derive(move || query.read().get("saved").is_some() || matches!(save.value().get(), Some(Ok(()))));
    view! {
        <Title text="Settings"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match settings.await {
                    Err(err) => refusal_view(err),
                    Ok(s) => view! {
                        <SettingsCard s=s.clone() save form saved/>
                        {(s.role == Role::Owner).then(|| view! { <TransferSection s transfer/> })}
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The settings form; read-only for whoever cannot edit it.
#[component]
fn SettingsCard(
    s: OrgSettingsView,
    save: ServerAction<UpdateOrgSettings>,
    form: FormError,
    saved: Signal<bool>,
) -> impl IntoView {
    let can_edit = s.can_edit;
    view! {
        <section class="card">
            <h1>{s.name.clone()} " · Settings"</h1>
            {org_nav(&s.slug, s.role, s.can_invite, "Settings")}
            {move || saved.get().then(|| view! { <p class="alert success" role="status">"Settings saved."</p> })}
            {(!s.can_edit).then(|| view! { <p class="alert info">"Only owners and managers can change these settings."</p> })}
            <ActionForm action=save attr:class="form" attr:novalidate=true>
                <ErrorSummary error=form.error()/>
                <input type="hidden" name="slug" value=s.slug.clone()/>
                <Field label="Organization name" name="name" errors=form.field("name")
                    value=Signal::derive({ let name = s.name.clone(); move || form.value("name").get().or_else(|| Some(name.clone())) })/>
                <h2>"Joining"</h2>
                <Checkbox name="require_2fa" label="Require two-factor authentication"
                    hint="Invitees must turn on two-factor authentication before they can join."
                    checked=s.require_2fa enabled=can_edit errors=form.field("require2FA")/>
                <Checkbox name="require_email_verification" label="Require a verified email address"
                    hint="Invitees must verify their email address before they can join."
                    checked=s.require_email_verification enabled=can_edit errors=form.field("requireEmailVerification")/>
                <Checkbox name="allow_email_mismatch" label="Allow joining with a different email address"
                    hint="An invite may be accepted by an account with another address; the audit log records both."
                    checked=s.allow_email_mismatch enabled=can_edit errors=form.field("allowEmailMismatch")/>
                <Checkbox name="allow_join_requests" label="Allow join requests"
                    hint="Anyone can ask to join; owners and managers approve."
                    checked=s.allow_join_requests enabled=can_edit errors=form.field("allowJoinRequests")/>
                {s.allow_join_requests.then(|| view! {
                    <p class="hint">"Join-request page: " <a href=format!("/join-request/{}/", s.slug)>{format!("/join-request/{}/", s.slug)}</a></p>
                })}
                <DefaultRoleField default_role=s.default_role owner=s.role == Role::Owner enabled=can_edit
                    errors=form.field("defaultRole")/>
                <MemberLimitField limit=s.member_limit seats_used=s.seats_used enabled=can_edit form/>
                {s.can_edit.then(|| view! {
                    <button type="submit" class="primary" disabled=move || save.pending().get()>"Save settings"</button>
                })}
            </ActionForm>
        </section>
    }
}

/// The role people join with; only an owner may offer "Owner".
#[component]
fn DefaultRoleField(default_role: Role, owner: bool, enabled: bool, errors: Signal<Vec<String>>) -> impl IntoView {
    let option = move |role: Role, label: &'static str| {
        view! { <option value=role.as_str() selected=default_role == role>{label}</option> }
    };
    view! {
        <div class="field">
            <label for="default_role">"Default role"</label>
            <select id="default_role" name="default_role" disabled=!enabled>
                {option(Role::Member, "Member")}
                {option(Role::Manager, "Manager")}
                {owner.then(|| option(Role::Owner, "Owner"))}
            </select>
            <ul class="field-errors">{move || errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
        </div>
    }
}

/// The most seats (members and pending invites) the organization may use; empty for none.
#[component]
fn MemberLimitField(limit: Option<i64>, seats_used: i64, enabled: bool, form: FormError) -> impl IntoView {
    let limit = limit.map(|n| n.to_string()).unwrap_or_default();
    view! {
        <div class="field" class:invalid=move || !form.field("memberLimit").get().is_empty()>
            <label for="member_limit">"Member limit"</label>
            <input id="member_limit" name="member_limit" type="number" min="1" inputmode="numeric"
                value=move || form.value("member_limit").get().unwrap_or_else(|| limit.clone()) disabled=!enabled
                aria-describedby="member_limit-hint member_limit-errors"/>
            <p class="hint" id="member_limit-hint">{format!("Seats in use: {} (members and pending invites). Leave empty for no limit.", seats_used)}</p>
            <ul class="field-errors" id="member_limit-errors">{move || form.field("memberLimit").get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
        </div>
    }
}

/// For an owner: hand the organization to another member, who becomes owner; the owner
/// stays as a manager. Needs the owner's password.
#[component]
fn TransferSection(s: OrgSettingsView, transfer: ServerAction<TransferOwnership>) -> impl IntoView {
    let form = FormError::new(Signal::derive(move || transfer.value().get().and_then(Result::err)));
    let chosen = move || form.value("member_id").get();
    view! {
        <section class="card" aria-labelledby="transfer-title" data-testid="transfer">
            <h2 id="transfer-title">"Transfer ownership"</h2>
            <p class="hint">
                "The member you choose becomes an owner of " {s.name.clone()}
                ". You stay in the organization as a manager."
            </p>
            {if s.transfer_to.is_empty() {
                view! {
                    <p class="alert info">"There is no other member who is not already an owner. Invite someone first."</p>
                }.into_any()
            } else {
                view! {
                    <ActionForm action=transfer attr:class="form" attr:novalidate=true>
                        <ErrorSummary error=form.error()/>
                        <input type="hidden" name="slug" value=s.slug.clone()/>
                        <div class="field">
                            <label for="transfer-member">"New owner"</label>
                            <select id="transfer-member" name="member_id">
                                {s.transfer_to.clone().into_iter().map(|(id, label)| view! {
                                    <option value=id.to_string() selected=move || chosen() == Some(id.to_string())>{label}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <Field label="Your password" name="password" id="transfer-password" kind="password"
                            autocomplete="current-password" errors=form.field("password")
                            hint="To confirm it is you."/>
                        <div>
                            <button type="submit" class="danger" disabled=move || transfer.pending().get()>"Transfer ownership"</button>
                        </div>
                    </ActionForm>
                }.into_any()
            }}
        </section>
    }
}
