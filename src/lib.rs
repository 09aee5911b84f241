//! Gatehouse: user registration and organization invitations, as one Leptos application.
//!
//! `app` is compiled for both the browser and the server; `server` only with `ssr`.
#![recursion_limit = "256"]

pub mod app;
pub mod model;
#[cfg(feature = "ssr")]
pub mod server;

/// Browser entry point of the server-rendered app: attaches to the HTML it was served.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}

/// Browser entry point of the client-side-rendered build (Trunk, for UI work).
#[cfg(feature = "csr")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
