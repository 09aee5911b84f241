//! Security headers (SPEC §9.7). Pages get a Content-Security-Policy with a per-response
//! nonce: only this site's scripts and the inline hydration scripts that carry the nonce
//! run, WebAssembly may be compiled (`'wasm-unsafe-eval'`), nothing may frame the site.
//! Every other response (JSON, static files, errors) gets a policy that allows nothing.

use axum::http::{header, HeaderValue};

/// The policy of an HTML page rendered with `nonce`.
pub fn page_policy(nonce: &str) -> String {
    policy(nonce, None)
}

fn policy(nonce: &str, form_target: Option<&str>) -> String {
    let extra = form_target.map(|origin| format!(" {origin}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'{extra}; frame-ancestors 'none'"
    )
}

/// Called while a page renders on the server: lets this page's forms lead to `origin` as
/// well (an identity provider's authorization endpoint, reached through the redirect that
/// answers the sign-in form; browsers check `form-action` on every redirect of a form
/// submission). Only a plain `scheme://host[:port]` origin is taken.
pub fn allow_form_action(origin: &str) {
    let plain =
        url::Url::parse(origin).ok().filter(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some());
    let Some(origin) = plain.map(|u| u.origin().ascii_serialization()) else { return };
    let (Some(nonce), Some(res)) =
        (leptos::nonce::use_nonce(), leptos::prelude::use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&policy(&nonce, Some(&origin))) {
        res.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The policy of every non-page response.
pub const DEFAULT_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Called while a page renders on the server: puts the page policy, with this render's
/// nonce, and `Cache-Control: no-store` on the response.
pub fn set_page_policy() {
    let (Some(nonce), Some(res)) =
        (leptos::nonce::use_nonce(), leptos::prelude::use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
        res.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
    // Pages are rendered per visitor and some carry a token in their address or form (a
    // reset link, an invite) or a person's data: no browser or proxy keeps a copy.
    res.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_allows_our_scripts_the_nonce_and_wasm_and_no_framing() {
        let policy = page_policy("abc123");
        assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(policy.contains("form-action 'self';"));
        assert!(
            super::policy("n", Some("https://id.example.com")).contains("form-action 'self' https://id.example.com;")
        );
        assert!(DEFAULT_POLICY.starts_with("default-src 'none'"));
    }
}
