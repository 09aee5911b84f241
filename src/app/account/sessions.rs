//! `/settings/account/sessions/` (SPEC §4.6): where the account is signed in, this
//! browser marked; sign out any other session, or all of them at once.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::self_service::{account_sessions, EndOtherSessions, EndSession};
use super::signed_out;
use crate::app::components::ErrorSummary;
use crate::app::wire::SessionView;

#[component]
pub fn SessionsPage() -> impl IntoView {
    let end_one = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let sessions =
        Resource::new_blocking(move || (end_one.version().get(), end_others.version().get()), |_| account_sessions());
    let error = Signal::derive(move || {
        end_one.value().get().and_then(Result::err).or_else(|| end_others.value().get().and_then(Result::err))
    });
    let query = use_query_map();
    // How many sessions the last sign-out ended (the redirect's `?ended=`).
    let ended = move || match error.get() {
        Some(_) => None,
        None => query.read().get("ended").and_then(|n| n.parse::<u64>().ok()),
    };
    view! {
        <Title text="Sessions"/>
        <section class="card">
            <h1>"Signed-in sessions"</h1>
            <p class="hint">
                "Where your account is signed in. Sign out any session you do not recognise, then "
                <a href="/settings/account/">"change your password"</a> "."
            </p>
            {move || ended().map(|n| view! {
                <p class="alert success" role="status">
                    {match n {
                        0 => "No other session was signed in.".to_owned(),
                        1 => "Signed out 1 session.".to_owned(),
                        n => format!("Signed out {n} sessions."),
                    }}
                </p>
            })}
            <ErrorSummary error/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Err(err) => signed_out(err, "/settings/account/sessions/"),
                        Ok(list) => sessions_view(list, end_one, end_others).into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn sessions_view(
    list: Vec<SessionView>,
    end_one: ServerAction<EndSession>,
    end_others: ServerAction<EndOtherSessions>,
) -> impl IntoView {
    let others = list.iter().filter(|s| !s.current).count();
    view! {
        <div class="table-scroll">
            <table class="sessions-table" data-testid="sessions">
                <thead>
                    <tr>
                        <th>"Device"</th><th>"IP address"</th><th>"Signed in"</th><th>"Last active"</th>
                        <th><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|s| session_row(s, end_one)).collect_view()}
                </tbody>
            </table>
        </div>
        {(others > 0).then(|| view! {
            <ActionForm action=end_others attr:class="form session-actions">
                <button type="submit" disabled=move || end_others.pending().get()>"Sign out all other sessions"</button>
            </ActionForm>
        })}
        <p class="aside"><a href="/settings/account/">"Back to account settings"</a></p>
    }
}

fn session_row(s: SessionView, end_one: ServerAction<EndSession>) -> impl IntoView {
    let unknown = || "Unknown".to_owned();
    let label = match &s.last_active {
        Some(at) => format!("Sign out {}, last active {at}", s.device),
        None => format!("Sign out {}", s.device),
    };
    view! {
        <tr data-testid=if s.current { "session-current" } else { "session" }>
            <td>
                {s.device.clone()}
                {s.current.then(|| view! { " " <span class="badge">"This session"</span> })}
            </td>
            <td data-label="IP address">{s.ip.clone().unwrap_or_else(unknown)}</td>
            <td data-label="Signed in">{s.signed_in.clone().unwrap_or_else(unknown)}</td>
            <td data-label="Last active">{s.last_active.clone().unwrap_or_else(unknown)}</td>
            <td>
                {(!s.current).then(|| view! {
                    <ActionForm action=end_one attr:class="inline-form">
                        <input type="hidden" name="id" value=s.id.clone()/>
                        <button type="submit" class="link-button" aria-label=label>"Sign out"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}
