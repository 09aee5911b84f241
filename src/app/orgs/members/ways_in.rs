//! The members page's other ways in (SPEC §5.9), for owners and managers: inviting several
//! people at once, with each address's outcome, and governed join links (create, the URL
//! shown once, the list with uses left, revoke).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::{error_of, role_label, Admin};
use crate::app::components::{ErrorSummary, Field, FormError};
use crate::app::wire::{AppError, BulkOutcomeView, BulkStatus, InviteToolsView, JoinLinkView, Role};

/// A form that starts empty again after a successful post (without JavaScript the page
/// reloads, which does the same).
fn emptied_after_success<T>(action: ServerAction<T>) -> NodeRef<leptos::html::Form>
where
    T: ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
    });
    form
}

/// Text as HTML: what a `<textarea>` starts with (its content is text, not markup).
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// "Invite several people": a paste of addresses and one role; the outcome of the last
/// post, address by address, under it.
#[component]
pub(super) fn BulkInviteForm(
    slug: String,
    admin: Admin,
    grantable: Vec<Role>,
    default_role: Role,
    outcome: Option<Vec<BulkOutcomeView>>,
) -> impl IntoView {
    let bulk = admin.bulk;
    let form = FormError::new(error_of(bulk));
    let form_ref = emptied_after_success(bulk);
    // What was typed before an error (the post without JavaScript comes back with it).
    let typed = escape_text(&form.value("emails").get_untracked().unwrap_or_default());
    let chosen = move || form.value("role").get().unwrap_or_else(|| default_role.as_str().to_owned());
    let errors = form.field("emails");
    let role_errors = form.field("role");
    view! {
        <h2>"Invite several people"</h2>
        <ActionForm action=bulk node_ref=form_ref attr:class="form bulk-form" attr:novalidate=true>
            <ErrorSummary error=form.error()/>
            <input type="hidden" name="slug" value=slug/>
            <div class="field" class:invalid=move || !errors.get().is_empty()>
                <label for="bulk-emails">"People to invite"</label>
                <textarea id="bulk-emails" name="emails" rows="4" spellcheck="false"
                    placeholder="ada@example.com, grace@example.com"
                    aria-describedby="bulk-emails-hint bulk-emails-errors"
                    aria-invalid=move || if errors.get().is_empty() { "false" } else { "true" }
                    inner_html=typed></textarea>
                <p class="hint" id="bulk-emails-hint">
                    "Email addresses separated by commas, spaces or new lines; up to 50 at once."
                </p>
                <ul class="field-errors" id="bulk-emails-errors">
                    {move || errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                </ul>
            </div>
            <div class="bulk-row">
                <div class="field" class:invalid=move || !role_errors.get().is_empty()>
                    <label for="bulk-role">"Role for everyone"</label>
                    <select id="bulk-role" name="role" aria-describedby="bulk-role-errors">
                        {grantable.into_iter().map(|role| view! {
                            <option value=role.as_str() selected=move || chosen() == role.as_str()>{role_label(role)}</option>
                        }).collect_view()}
                    </select>
                    <ul class="field-errors" id="bulk-role-errors">
                        {move || role_errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                    </ul>
                </div>
                <button type="submit" class="primary" disabled=move || bulk.pending().get()>"Invite all"</button>
            </div>
        </ActionForm>
        {outcome.map(|outcome| view! { <BulkOutcome outcome/> })}
    }
}

/// What the last bulk invite did with each address: invited, or why not.
#[component]
fn BulkOutcome(outcome: Vec<BulkOutcomeView>) -> impl IntoView {
    let invited = outcome.iter().filter(|o| o.status == BulkStatus::Invited).count();
    let total = outcome.len();
    let noun = if total == 1 { "address" } else { "addresses" };
    view! {
        <div class="bulk-outcome" id="bulk-outcome" role="status" tabindex="-1">
            <h3>{format!("{invited} of {total} {noun} invited")}</h3>
            <ul class="outcome-list" data-testid="bulk-outcome">
                {outcome.into_iter().map(|o| view! {
                    <li class=format!("outcome outcome-{}", o.status.as_str()) data-testid=format!("outcome-{}", o.email)>
                        <span class="outcome-email">{o.email.clone()}</span>
                        <span class="outcome-status" data-testid="outcome-status">{o.status.label()}</span>
                        {o.reason.map(|r| view! { <span class="outcome-reason">{r}</span> })}
                    </li>
                }).collect_view()}
            </ul>
        </div>
    }
}

/// Join links: the form that creates one, its URL once, and the links with their uses
/// left, state and Revoke.
#[component]
pub(super) fn JoinLinksSection(slug: String, tools: InviteToolsView, admin: Admin) -> impl IntoView {
    let create = admin.link_create;
    let form = FormError::new(error_of(create));
    let days = Signal::derive(move || form.value("expires_in_days").get().or_else(|| Some("7".to_owned())));
    let uses = Signal::derive(move || form.value("max_uses").get().or_else(|| Some("10".to_owned())));
    let chosen = move || form.value("role").get().unwrap_or_else(|| Role::Member.as_str().to_owned());
    let role_errors = form.field("role");
    let form_ref = emptied_after_success(create);
    let InviteToolsView { links, link_roles, created_url, .. } = tools;
    let form_slug = slug.clone();
    view! {
        <section class="join-links" id="join-links" aria-labelledby="join-links-title">
            <h2 id="join-links-title">"Join links"</h2>
            <p class="hint">
                "A link you share (in a chat, on a wiki) that lets people join without an invite each: "
                "for a limited time and number of people, optionally only for verified addresses at one domain."
            </p>
            {created_url.map(|url| view! { <CreatedLink url/> })}
            <ActionForm action=create node_ref=form_ref attr:class="form inline-fields join-link-form" attr:novalidate=true>
                <ErrorSummary error=form.error()/>
                <input type="hidden" name="slug" value=form_slug.clone()/>
                <Field label="Expires in (days)" name="expires_in_days" id="link-days" kind="number"
                    errors=form.field("expiresInDays") value=days hint="1 to 30"/>
                <Field label="Maximum uses" name="max_uses" id="link-uses" kind="number"
                    errors=form.field("maxUses") value=uses hint="1 to 1000"/>
                <div class="field" class:invalid=move || !role_errors.get().is_empty()>
                    <label for="link-role">"Joins as"</label>
                    <select id="link-role" name="role" aria-describedby="link-role-errors">
                        {link_roles.into_iter().map(|role| view! {
                            <option value=role.as_str() selected=move || chosen() == role.as_str()>{role_label(role)}</option>
                        }).collect_view()}
                    </select>
                    <ul class="field-errors" id="link-role-errors">
                        {move || role_errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                    </ul>
                </div>
                <Field label="Allowed domain (optional)" name="email_domain" id="link-domain"
                    errors=form.field("emailDomain") value=form.value("email_domain") hint="e.g. example.com"/>
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create join link"</button>
            </ActionForm>
            <LinksTable slug links admin/>
        </section>
    }
}

/// The URL of the link just created: shown this once (only its hash is stored).
#[component]
fn CreatedLink(url: String) -> impl IntoView {
    view! {
        <div class="created-link" role="status" data-testid="created-link">
            <label for="created-link-url">"Your new join link"</label>
            <input id="created-link-url" class="copy-field" type="text" readonly=true value=url
                aria-describedby="created-link-hint"/>
            <p class="hint" id="created-link-hint">
                "Copy it now: it is shown only this once. Anyone who has it can join until it expires, "
                "is used up or is revoked."
            </p>
        </div>
    }
}

#[component]
fn LinksTable(slug: String, links: Vec<JoinLinkView>, admin: Admin) -> impl IntoView {
    let revoke_error = error_of(admin.link_revoke);
    if links.is_empty() {
        return view! { <p class="hint" data-testid="no-join-links">"No join links yet."</p> }.into_any();
    }
    view! {
        <ErrorSummary error=revoke_error/>
        <div class="table-scroll">
            <table class="join-links-table" aria-labelledby="join-links-title">
                <thead>
                    <tr>
                        <th>"Role"</th><th>"Allowed domain"</th><th>"Uses left"</th><th>"Expires"</th>
                        <th>"State"</th><th>"Created by"</th><th><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {links.into_iter().map(|l| link_row(l, slug.clone(), admin)).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

fn link_row(l: JoinLinkView, slug: String, admin: Admin) -> impl IntoView {
    let state = match l.state.as_str() {
        "active" => "Active",
        "used_up" => "Used up",
        "expired" => "Expired",
        "revoked" => "Revoked",
        other => other,
    }
    .to_owned();
    let active = l.state == "active";
    let revoke = admin.link_revoke;
    let label = format!("Revoke the {} link that expires {}", l.role.as_str(), l.expires);
    let button = active.then(|| {
        view! {
            <ActionForm action=revoke attr:class="inline-form">
                <input type="hidden" name="slug" value=slug/>
                <input type="hidden" name="link_id" value=l.id.to_string()/>
                <button type="submit" class="link-button danger-text" aria-label=label
                    disabled=move || revoke.pending().get()>"Revoke"</button>
            </ActionForm>
        }
    });
    view! {
        <tr data-testid=format!("join-link-{}", l.id) class:ended-row={!active}>
            <td>{role_label(l.role)}</td>
            <td>{l.email_domain.map(|d| format!("@{d}")).unwrap_or_else(|| "Any".to_owned())}</td>
            <td data-testid="uses-left">{format!("{} of {}", l.uses_left, l.max_uses)}</td>
            <td class="nowrap">{l.expires}</td>
            <td><span class=format!("link-state state-{}", l.state) data-testid="link-state">{state}</span></td>
            <td>{l.created_by.unwrap_or_else(|| "—".to_owned())}</td>
            <td class="row-end">{button}</td>
        </tr>
    }
}
