//! `/organizations/{slug}/audit-log/`: the organization's audit log, newest first, each
//! entry a sentence with its time and, on demand, its raw data; filtered by event and by
//! person through a plain GET form (`?event=&actor=`), paged with `?cursor=`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::actions::audit_log;
use super::{org_nav, refusal_view, slug_param};
use crate::app::components::encode_query_value;
use crate::app::wire::{AuditPageView, AuditView};

/// The filters and the page asked for in the address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Query {
    event: String,
    actor: String,
    cursor: Option<String>,
}

impl Query {
    /// The address of the log with these filters and `cursor`.
    fn href(&self, slug: &str, cursor: &str) -> String {
        format!(
            "/organizations/{slug}/audit-log/?event={}&actor={}&cursor={}",
            encode_query_value(&self.event),
            encode_query_value(&self.actor),
            encode_query_value(cursor)
        )
    }
}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let slug = slug_param();
    let query = use_query_map();
    let asked = Memo::new(move |_| {
        let q = query.read();
        Query {
            event: q.get("event").unwrap_or_default(),
            actor: q.get("actor").unwrap_or_default(),
            cursor: q.get("cursor").filter(|c| !c.is_empty()),
        }
    });
    let page = Resource::new_blocking(
        move || (slug.get(), asked.get()),
        |(slug, q)| audit_log(slug, Some(q.event), Some(q.actor), q.cursor),
    );
    view! {
        <Title text="Audit log"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => refusal_view(err),
                    Ok(log) => audit_card(log, asked.get_untracked()).into_any(),
                }
            })}
        </Suspense>
    }
}

fn audit_card(log: AuditPageView, asked: Query) -> impl IntoView {
    let pages = asked.clone();
    let filtered = !asked.event.is_empty() || !asked.actor.is_empty();
    let action = format!("/organizations/{}/audit-log/", log.slug);
    view! {
        <section class="card">
            <h1>{log.name.clone()} " · Audit log"</h1>
            {org_nav(&log.slug, log.role, log.can_invite, "Audit log")}
            <Form method="GET" action=action.clone()>
                <div class="filters" role="group" aria-label="Filter the audit log">
                    <div class="field">
                        <label for="filter-event">"Event"</label>
                        <select id="filter-event" name="event">
                            <option value="" selected=asked.event.is_empty()>"All events"</option>
                            {log.events.iter().map(|e| view! {
                                <option value=e.clone() selected=*e == asked.event>{e.clone()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="filter-actor">"Person"</label>
                        <select id="filter-actor" name="actor">
                            <option value="" selected=asked.actor.is_empty()>"Everyone"</option>
                            {log.people.iter().map(|(id, name)| view! {
                                <option value=id.to_string() selected=id.to_string() == asked.actor>{name.clone()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <button type="submit">"Filter"</button>
                    {filtered.then(|| view! { <a href=action.clone() class="filters-clear">"Show everything"</a> })}
                </div>
            </Form>
            {if log.entries.is_empty() {
                let text = if filtered { "No entries match these filters." } else { "Nothing has been recorded yet." };
                view! { <p class="hint" data-testid="audit-empty">{text}</p> }.into_any()
            } else {
                view! {
                    <ol class="audit-list" data-testid="audit-entries">
                        {log.entries.into_iter().map(entry).collect_view()}
                    </ol>
                }.into_any()
            }}
            {(log.previous.is_some() || log.next.is_some()).then(|| view! {
                <nav class="pager" aria-label="Audit log pages">
                    {log.previous.map(|c| view! { <a href=pages.href(&log.slug, &c) rel="prev">"← Previous"</a> })}
                    {log.next.map(|c| view! { <a href=pages.href(&log.slug, &c) rel="next">"Next →"</a> })}
                </nav>
            })}
        </section>
    }
}

fn entry(e: AuditView) -> impl IntoView {
    let event = e.event.clone();
    view! {
        <li class="audit-entry" data-testid="audit-entry" data-event=event>
            <p class="audit-note">{e.note}"."</p>
            <p class="audit-meta">
                <time datetime=e.date title=e.utc>{e.ago}</time>
                " · " <code>{e.event}</code>
                {e.ip.map(|ip| view! { " · " <span class="ip">"IP " {ip}</span> })}
            </p>
            <details>
                <summary>"Raw data"</summary>
                <pre>{e.data}</pre>
            </details>
        </li>
    }
}
