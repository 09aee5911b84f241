//! A cache of the pages that every first-time anonymous visitor sees identically: the
//! sign-in and registration forms requested without a session cookie and without a query.
//!
//! Such a page depends only on the instance's configuration and the build, so it is
//! rendered once and then served from memory. Its one varying part, the CSP nonce of its
//! inline scripts, is fresh in every response: the cached body is kept split at the nonce
//! and joined with a new one. A visitor with a session (a pending invite, a notice, a
//! signed-in user) or with a query (`?next=`) always gets a fresh render.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use tower_sessions::Session;

use super::security;

/// The paths served from the cache.
pub const CACHED_PATHS: &[&str] = &["/auth/login/", "/auth/register/"];
/// Larger pages are not kept.
const MAX_PAGE_BYTES: usize = 256 * 1024;

struct CachedPage {
    headers: HeaderMap,
    /// The body split at every occurrence of the render's nonce.
    parts: Vec<Bytes>,
}

/// The rendered pages, by path (cheap to clone).
#[derive(Clone, Default)]
pub struct PageCache(Arc<RwLock<HashMap<&'static str, Arc<CachedPage>>>>);

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageCache")
    }
}

/// Whether this request is an anonymous first visit of a cached page. "Anonymous" is the
/// session layer's own answer (the request's [`Session`] has no id), never a second
/// reading of the `Cookie` header: a header the session layer reads as a session must
/// never fill or be served from the cache (SPEC §9.10).
fn cacheable(req: &Request) -> Option<&'static str> {
    if req.method() != Method::GET || req.uri().query().is_some() {
        return None;
    }
    let path = CACHED_PATHS.iter().copied().find(|p| *p == req.uri().path())?;
    let anonymous = req.extensions().get::<Session>().is_some_and(|s| s.id().is_none());
    anonymous.then_some(path)
}

/// A fresh CSP nonce: 16 random bytes, hex (valid in the policy and in HTML attributes).
fn fresh_nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The nonce of a page response, read from its policy header.
fn nonce_of(headers: &HeaderMap) -> Option<String> {
    let policy = headers.get(header::CONTENT_SECURITY_POLICY)?.to_str().ok()?;
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let len = policy[start..].find('\'')?;
    Some(policy[start..start + len].to_owned()).filter(|n| !n.is_empty())
}

fn split_at_nonce(body: &[u8], nonce: &str) -> Vec<Bytes> {
    let needle = nonce.as_bytes();
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        parts.push(Bytes::copy_from_slice(&rest[..at]));
        rest = &rest[at + needle.len()..];
    }
    parts.push(Bytes::copy_from_slice(rest));
    parts
}

impl CachedPage {
    fn respond(&self) -> Response {
        let nonce = fresh_nonce();
        let mut body = Vec::with_capacity(self.parts.iter().map(Bytes::len).sum::<usize>() + 64);
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(nonce.as_bytes());
            }
            body.extend_from_slice(part);
        }
        let mut response = (StatusCode::OK, body).into_response();
        response.headers_mut().extend(self.headers.clone());
        if let Ok(policy) = HeaderValue::from_str(&security::page_policy(&nonce)) {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        response
    }
}

/// Middleware, inside the session layer: serves a cached page, or renders it and keeps the
/// result when it is the plain page (200, no cookie set, a nonce in its policy).
pub async fn serve(State(cache): State<PageCache>, req: Request, next: Next) -> Response {
    let Some(path) = cacheable(&req) else { return next.run(req).await };
    let hit = cache.0.read().ok().and_then(|pages| pages.get(path).cloned());
    if let Some(page) = hit {
        return page.respond();
    }
    let response = next.run(req).await;
    let keep = response.status() == StatusCode::OK && !response.headers().contains_key(header::SET_COOKIE);
    let Some(nonce) = nonce_of(response.headers()).filter(|_| keep) else { return response };
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE_BYTES).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "page too large").into_response();
    };
    let mut headers = parts.headers.clone();
    headers.remove(header::CONTENT_SECURITY_POLICY);
    headers.remove(header::CONTENT_LENGTH);
    let page = Arc::new(CachedPage { headers, parts: split_at_nonce(&bytes, &nonce) });
    if let Ok(mut pages) = cache.0.write() {
        pages.insert(path, page);
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_split_at_its_nonce_and_joined_with_a_fresh_one() {
        let body = b"<script nonce=\"abc\">1</script><script nonce=\"abc\">2</script>";
        let parts = split_at_nonce(body, "abc");
        assert_eq!(parts.len(), 3);
        let page = CachedPage { headers: HeaderMap::new(), parts };
        let first = page.respond();
        let second = page.respond();
        let nonce = |r: &Response| nonce_of(r.headers()).unwrap();
        assert_ne!(nonce(&first), nonce(&second), "a fresh nonce per response");
        assert_ne!(nonce(&first), "abc");
    }

    #[test]
    fn the_nonce_is_read_from_the_policy() {
        let mut headers = HeaderMap::new();
        headers
            .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&security::page_policy("n0nce")).unwrap());
        assert_eq!(nonce_of(&headers).as_deref(), Some("n0nce"));
        assert_eq!(nonce_of(&HeaderMap::new()), None);
    }
}
