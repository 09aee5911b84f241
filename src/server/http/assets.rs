//! Static files: the WebAssembly bundle and its chunks, their JavaScript and the stylesheet
//! under `/pkg/`, the rest of `public/` at the root.
//!
//! The release build writes each file with `.br` and `.gz` siblings (`cargo leptos build
//! --precompress`); the file handler (`leptos_axum::file_and_error_handler`, a `ServeDir`
//! with precompressed variants) picks one by `Accept-Encoding`, so nothing is compressed
//! per request; `Vary: Accept-Encoding` is added here. With hashed names (`hash-files`,
//! a content hash in every name under `/pkg/` but `snippets/`), a name never points at other
//! bytes: such files are cached for a year and never revalidated. Everything else that is
//! static (the favicon, an unhashed development build) is revalidated on each use; pages set
//! their own `no-store` (`security::set_page_policy`).

use axum::http::{header, HeaderValue, Response, StatusCode, Uri};

/// The cache policy of a file whose name carries its content's hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The cache policy of any other static file: kept, but checked before each use.
pub const REVALIDATE: &str = "no-cache";

/// Whether the file at `path` has a content hash in its name, in a build with `hashed`
/// names: everything under `/pkg/` except wasm-bindgen's inline-JS `snippets/`.
pub fn has_hashed_name(path: &str, hashed: bool) -> bool {
    hashed && path.starts_with("/pkg/") && !path.starts_with("/pkg/snippets/") && !path.contains("/../")
}

/// Puts the cache policy on a static file's answer. Only a file found (200, 206, 304) is
/// marked immutable: a 404 for a name that a newer build will create must not be kept.
pub fn with_cache_policy<B>(uri: &Uri, hashed: bool, mut res: Response<B>) -> Response<B> {
    let found = matches!(res.status(), StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED);
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !found || is_html || res.headers().contains_key(header::CACHE_CONTROL) {
        return res;
    }
    let policy = if has_hashed_name(uri.path(), hashed) { IMMUTABLE } else { REVALIDATE };
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    // The same name answers brotli, gzip or plain bytes by `Accept-Encoding`: a shared
    // cache must key on it (the file handler does not say so itself).
    if !res.headers().contains_key(header::VARY) {
        res.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: StatusCode, content_type: &str) -> Response<()> {
        let mut res = Response::new(());
        *res.status_mut() = status;
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        res
    }

    fn policy(path: &str, hashed: bool, res: Response<()>) -> Option<String> {
        let uri: Uri = path.parse().unwrap();
        with_cache_policy(&uri, hashed, res)
            .headers()
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    #[test]
    fn a_static_file_varies_by_accept_encoding() {
        let uri: Uri = "/pkg/gatehouse.Ab3_xYz.wasm".parse().unwrap();
        let res = with_cache_policy(&uri, true, answer(StatusCode::OK, "application/wasm"));
        assert_eq!(res.headers().get(header::VARY).unwrap(), "accept-encoding");
    }

    #[test]
    fn hashed_bundle_files_are_immutable_and_nothing_else_is() {
        let wasm = "/pkg/gatehouse.Ab3_xYz.wasm";
        assert_eq!(policy(wasm, true, answer(StatusCode::OK, "application/wasm")).as_deref(), Some(IMMUTABLE));
        assert_eq!(
            policy(wasm, true, answer(StatusCode::NOT_MODIFIED, "application/wasm")).as_deref(),
            Some(IMMUTABLE)
        );
        // Unhashed build, snippets, files outside /pkg/: revalidated.
        assert_eq!(policy(wasm, false, answer(StatusCode::OK, "application/wasm")).as_deref(), Some(REVALIDATE));
        let snippet = "/pkg/snippets/x/inline0.js";
        assert_eq!(policy(snippet, true, answer(StatusCode::OK, "text/javascript")).as_deref(), Some(REVALIDATE));
        assert_eq!(policy("/favicon.svg", true, answer(StatusCode::OK, "image/svg+xml")).as_deref(), Some(REVALIDATE));
        // A missing file, and the HTML of the not-found page, get no caching policy here.
        assert_eq!(policy(wasm, true, answer(StatusCode::NOT_FOUND, "text/plain")), None);
        assert_eq!(policy("/pkg/nothing.js", true, answer(StatusCode::OK, "text/html; charset=utf-8")), None);
    }
}
