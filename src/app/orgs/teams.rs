//! The teams of the members page: each team with the members and invites on it; owners
//! and managers create teams and put people on them or take them off.

use leptos::prelude::*;

use super::members::{error_of, Admin};
use crate::app::components::{ErrorSummary, Field, FormError};
use crate::app::wire::{MemberView, MembersView};

#[component]
pub(super) fn TeamsSection(page: MembersView, admin: Admin) -> impl IntoView {
    let controls = page.can_invite;
    if page.teams.is_empty() && !controls {
        return ().into_any();
    }
    let people: Vec<MemberView> = page.members.iter().chain(page.invites.iter()).cloned().collect();
    view! {
        <section class="teams" aria-labelledby="teams-title">
            <h2 id="teams-title">"Teams"</h2>
            <ErrorSummary error=error_of(admin.team_member)/>
            {page.teams.is_empty().then(|| view! { <p class="hint">"No teams yet."</p> })}
            <div class="team-list">
                {page.teams.iter().map(|(team, name)| view! {
                    <Team team=team.clone() name=name.clone() people=people.clone() slug=page.slug.clone() controls admin/>
                }).collect_view()}
            </div>
            {controls.then(|| view! { <NewTeamForm slug=page.slug.clone() admin/> })}
        </section>
    }
    .into_any()
}

/// One team: who is on it (on this page of the list), and who can be added.
#[component]
fn Team(
    team: String,
    name: String,
    people: Vec<MemberView>,
    slug: String,
    controls: bool,
    admin: Admin,
) -> impl IntoView {
    let (on, off): (Vec<MemberView>, Vec<MemberView>) = people.into_iter().partition(|m| m.teams.contains(&team));
    let set = admin.team_member;
    let title_id = format!("team-{team}-title");
    let labelled_by = title_id.clone();
    let testid = format!("team-{team}");
    let select_id = format!("team-{team}-add");
    let hidden = |slug: &str, team: &str| {
        view! {
            <input type="hidden" name="slug" value=slug.to_owned()/>
            <input type="hidden" name="team" value=team.to_owned()/>
        }
    };
    view! {
        <div class="team" role="group" aria-labelledby=labelled_by data-testid=testid>
            <h3 id=title_id>{name.clone()} " " <code>{team.clone()}</code></h3>
            {if on.is_empty() {
                view! { <p class="hint">"Nobody on this team yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="chips">
                        {on.into_iter().map(|m| {
                            let who = m.display_name();
                            let remove_label = format!("Remove {who} from {name}");
                            let fields = hidden(&slug, &team);
                            view! {
                                <li class="chip" class:invited=m.pending>
                                    {who.clone()}
                                    {m.pending.then(|| view! { <span class="chip-note">" (invited)"</span> })}
                                    {controls.then(|| view! {
                                        <ActionForm action=set attr:class="inline-form">
                                            {fields}
                                            <input type="hidden" name="member_id" value=m.id.to_string()/>
                                            <input type="hidden" name="on" value="off"/>
                                            <button type="submit" class="chip-remove" title="Remove from team"
                                                disabled=move || set.pending().get()>
                                                <span aria-hidden="true">"×"</span>
                                                <span class="sr-only">{remove_label}</span>
                                            </button>
                                        </ActionForm>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {(controls && !off.is_empty()).then(|| view! {
                <ActionForm action=set attr:class="add-to-team">
                    {hidden(&slug, &team)}
                    <input type="hidden" name="on" value="on"/>
                    <label class="sr-only" for=select_id.clone()>{format!("Add to {name}")}</label>
                    <select id=select_id name="member_id">
                        {off.into_iter().map(|m| {
                            let label = if m.pending { format!("{} (invited)", m.email) } else { m.display_name() };
                            view! { <option value=m.id.to_string()>{label}</option> }
                        }).collect_view()}
                    </select>
                    <button type="submit" class="small" disabled=move || set.pending().get()>"Add to team"</button>
                </ActionForm>
            })}
        </div>
    }
}

/// A new team, named; its slug is made from the name.
#[component]
fn NewTeamForm(slug: String, admin: Admin) -> impl IntoView {
    let create = admin.team_create;
    let form = FormError::new(error_of(create));
    // A slug made from the name that is taken is said beside the name.
    let errors = Signal::derive(move || {
        let mut all = form.field("name").get();
        all.extend(form.field("slug").get());
        all
    });
    view! {
        <h3>"New team"</h3>
        <ActionForm action=create attr:class="form inline-fields" attr:novalidate=true>
            <ErrorSummary error=form.error()/>
            <input type="hidden" name="slug" value=slug/>
            <Field label="Team name" name="name" id="team-name" errors value=form.value("name")/>
            <button type="submit" disabled=move || create.pending().get()>"Create team"</button>
        </ActionForm>
    }
}
