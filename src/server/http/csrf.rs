//! Cross-site request protection (SPEC §9.1) for every state-changing request: pages,
//! server functions and the JSON API alike.
//!
//! A browser tells where a request comes from: `Sec-Fetch-Site` in every current browser,
//! `Origin` on every cross-origin POST. A request that shows another site is refused;
//! one with neither header is not from a browser (curl, scripts) and carries no ambient
//! cookie risk the same way, so it passes.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::reply::ApiError;
use crate::server::state::AppState;

pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_safe_method(req.method()) || same_site(req.headers(), &state.config.public_url()) {
        next.run(req).await
    } else {
        tracing::warn!(method = %req.method(), "cross-site request refused");
        ApiError::http(StatusCode::FORBIDDEN, "Cross-site request refused.", "csrf").into_response()
    }
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// Whether the request's own headers show it comes from this site.
pub fn same_site(headers: &HeaderMap, public_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else { return false };
    if origin == public_url {
        return true;
    }
    // The site as this request reached it (behind a proxy the public URL covers it).
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin.split_once("://"), host) {
        (Some((scheme, authority)), Some(host)) => {
            matches!(scheme, "http" | "https") && authority.eq_ignore_ascii_case(host)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    const SITE: &str = "https://app.example.com";

    #[test]
    fn a_same_origin_fetch_passes() {
        assert!(same_site(&headers(&[("sec-fetch-site", "same-origin")]), SITE));
    }

    #[test]
    fn a_cross_site_fetch_is_refused_even_with_a_matching_origin() {
        assert!(!same_site(&headers(&[("sec-fetch-site", "cross-site"), ("origin", SITE)]), SITE));
        assert!(!same_site(&headers(&[("sec-fetch-site", "same-site")]), SITE));
    }

    #[test]
    fn an_origin_of_another_site_is_refused() {
        assert!(!same_site(&headers(&[("origin", "https://evil.example"), ("host", "app.example.com")]), SITE));
        assert!(!same_site(&headers(&[("origin", "null"), ("host", "app.example.com")]), SITE));
    }

    #[test]
    fn an_origin_matching_the_public_url_or_the_host_passes() {
        assert!(same_site(&headers(&[("origin", SITE)]), SITE));
        assert!(same_site(&headers(&[("origin", "http://127.0.0.1:4000"), ("host", "127.0.0.1:4000")]), SITE));
    }

    #[test]
    fn a_request_without_browser_headers_passes() {
        assert!(same_site(&HeaderMap::new(), SITE));
    }
}
