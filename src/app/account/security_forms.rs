//! The security page's forms for an enrolled account (SPEC §6): new recovery codes, and
//! turning two-factor authentication off. Both ask for the password.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::self_service::{DisableTwoFactor, RenewRecoveryCodes};
use crate::app::components::{ErrorSummary, Field, FormError};

/// The two actions, and what their redirect said (`?renewed=1`, `?off=1`).
#[derive(Clone, Copy)]
pub struct SecurityActions {
    renew: ServerAction<RenewRecoveryCodes>,
    disable: ServerAction<DisableTwoFactor>,
    query: Memo<(bool, bool)>,
}

impl SecurityActions {
    pub fn new() -> Self {
        let query = use_query_map();
        let query = Memo::new(move |_| {
            let q = query.read();
            (q.get("renewed").is_some(), q.get("off").is_some())
        });
        Self { renew: ServerAction::new(), disable: ServerAction::new(), query }
    }

    /// Changes whenever either form has been answered (the page then reloads its data).
    pub fn versions(self) -> (usize, usize) {
        (self.renew.version().get(), self.disable.version().get())
    }

    /// New recovery codes were just made.
    pub fn renewed(self) -> bool {
        self.query.get_untracked().0 || matches!(self.renew.value().get_untracked(), Some(Ok(())))
    }

    /// Two-factor authentication was just turned off.
    pub fn turned_off(self) -> bool {
        self.query.get_untracked().1 || matches!(self.disable.value().get_untracked(), Some(Ok(())))
    }
}

/// New recovery codes: the old ones stop working; the new ones are shown once.
#[component]
pub fn RenewCodesForm(manage: SecurityActions) -> impl IntoView {
    let action = manage.renew;
    let form = FormError::new(Signal::derive(move || action.value().get().and_then(Result::err)));
    view! {
        <section class="settings-section" aria-labelledby="renew-heading">
            <h2 id="renew-heading">"Recovery codes"</h2>
            <p class="hint">"Lost your codes, or used most of them? New codes replace every old one."</p>
            <ActionForm action attr:class="form" attr:novalidate=true>
                <ErrorSummary error=form.error()/>
                <Field label="Current password" name="password" id="renew-password" kind="password"
                    autocomplete="current-password" errors=form.field("password")/>
                <button type="submit" disabled=move || action.pending().get()>"Renew recovery codes"</button>
            </ActionForm>
        </section>
    }
}

/// Turning the second factor off (refused while an organization of the user requires it).
#[component]
pub fn TurnOffForm(manage: SecurityActions) -> impl IntoView {
    let action = manage.disable;
    let form = FormError::new(Signal::derive(move || action.value().get().and_then(Result::err)));
    view! {
        <section class="settings-section danger-zone" aria-labelledby="disable-heading">
            <h2 id="disable-heading">"Turn off two-factor authentication"</h2>
            <p class="hint">"Your account is then protected by your password alone. Your recovery codes are deleted."</p>
            <ActionForm action attr:class="form" attr:novalidate=true>
                <ErrorSummary error=form.error()/>
                <Field label="Current password" name="password" id="disable-password" kind="password"
                    autocomplete="current-password" errors=form.field("password")/>
                <button type="submit" class="danger" disabled=move || action.pending().get()>
                    "Turn off two-factor authentication"
                </button>
            </ActionForm>
        </section>
    }
}
