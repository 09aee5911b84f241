//! `/organizations/{slug}/audit-log/`: the organization's audit log.

use leptos::prelude::*;
use leptos_meta::Title;

use super::actions::audit_log;
use super::{refusal_view, slug_param};

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
