//! Labelled inputs with their errors beside them.

use leptos::prelude::*;

use crate::app::wire::AppError;

/// A labelled input. Its errors are listed under it and linked with
/// `aria-describedby`; `value` is what the user typed before an error (never for passwords).
/// `id` defaults to `name`; give one when several forms of a page have a field of that name.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(optional)] id: Option<&'static str>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(into)] errors: Signal<Vec<String>>,
    #[prop(into, optional)] value: Signal<Option<String>>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] autofocus: bool,
) -> impl IntoView {
    let id = id.unwrap_or(name);
    let error_id = format!("{id}-errors");
    let hint_id = format!("{id}-hint");
    let described_by = if hint.is_some() { format!("{hint_id} {error_id}") } else { error_id.clone() };
    let invalid = move || !errors.get().is_empty();
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                autofocus=autofocus
                value=move || value.get().unwrap_or_default()
                aria-invalid=move || if invalid() { "true" } else { "false" }
                aria-describedby=described_by
            />
            {hint.map(|hint| view! { <p class="hint" id=hint_id>{hint}</p> })}
            <ul class="field-errors" id=error_id>
                {move || errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
            </ul>
        </div>
    }
}

/// A setting that is on or off, with its hint and errors. A form posts it as `on` only
/// when ticked.
#[component]
pub fn Checkbox(
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    checked: bool,
    #[prop(default = true)] enabled: bool,
    errors: Signal<Vec<String>>,
) -> impl IntoView {
    view! {
        <div class="field check">
            <input type="checkbox" id=name name=name value="on" checked=checked disabled=!enabled/>
            <label for=name>{label}</label>
            <p class="hint">{hint}</p>
            <ul class="field-errors">{move || errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
        </div>
    }
}

/// A banner for errors that belong to no single field.
#[component]
pub fn ErrorSummary(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|err| {
            let form_errors = err.field("form");
            let text = if form_errors.is_empty() { err.summary() } else { form_errors.join(" ") };
            view! { <div class="alert error" role="alert">{text}</div> }
        })
    }
}

/// The last error of a form's action, with the per-field views the inputs need.
#[derive(Clone, Copy)]
pub struct FormError(Signal<Option<AppError>>);

impl FormError {
    /// Wraps the error half of an action's value:
    /// `FormError::new(Signal::derive(move || action.value().get().and_then(Result::err)))`.
    pub fn new(error: Signal<Option<AppError>>) -> Self {
        Self(error)
    }

    /// The whole error, for [`ErrorSummary`].
    pub fn error(self) -> Signal<Option<AppError>> {
        self.0
    }

    /// The messages for one field.
    pub fn field(self, name: &'static str) -> Signal<Vec<String>> {
        Signal::derive(move || self.0.get().map(|e| e.field(name)).unwrap_or_default())
    }

    /// The value typed into one field before the error.
    pub fn value(self, name: &'static str) -> Signal<Option<String>> {
        Signal::derive(move || self.0.get().and_then(|e| e.value(name)))
    }
}
