//! Pages of a list answer, as Sentry pages them (SPEC §3): at most `per_page` rows (100
//! unless asked for fewer, never more), and a `Link` header naming the previous and the
//! next page, each with `results="true|false"` and an opaque `cursor`.
//!
//! A cursor is Sentry's `value:offset:is_prev`; clients pass it back as they got it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::reply::ApiError;

/// The most rows a page holds, and the default.
pub const MAX_PER_PAGE: usize = 100;

/// The paging part of a list's query string.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    per_page: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

/// Which rows a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: usize,
    pub per_page: usize,
}

impl PageQuery {
    /// The page asked for; a `per_page` outside 1–100 or a cursor not given by us is a 400.
    pub fn page(&self) -> Result<Page, ApiError> {
        let per_page = match self.per_page.as_deref() {
            None => MAX_PER_PAGE,
            Some(raw) => raw.parse().ok().filter(|n| (1..=MAX_PER_PAGE).contains(n)).ok_or_else(|| {
                ApiError::http(StatusCode::BAD_REQUEST, "per_page must be a number from 1 to 100.", "invalid_per_page")
            })?,
        };
        let offset = match self.cursor.as_deref() {
            None | Some("") => 0,
            Some(raw) => parse_cursor(raw).ok_or_else(|| {
                ApiError::http(StatusCode::BAD_REQUEST, "This cursor is not one of ours.", "invalid_cursor")
            })?,
        };
        Ok(Page { offset, per_page })
    }
}

/// The offset a cursor names.
fn parse_cursor(raw: &str) -> Option<usize> {
    let mut parts = raw.split(':');
    let (value, offset, is_prev) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || value != "0" || !matches!(is_prev, "0" | "1") {
        return None;
    }
    offset.parse().ok()
}

/// The rows of `page` out of `all`, as a JSON array, with the `Link` header; `url` is the
/// list's address without its query.
pub fn answer(url: &str, page: Page, all: Vec<Value>) -> Response {
    let total = all.len();
    let rows: Vec<Value> = all.into_iter().skip(page.offset).take(page.per_page).collect();
    let previous = page.offset.saturating_sub(page.per_page);
    let next = page.offset + page.per_page;
    let link = |rel: &str, offset: usize, is_prev: u8, results: bool| {
        let cursor = format!("0:{offset}:{is_prev}");
        format!(
            "<{url}?cursor={cursor}&per_page={per_page}>; rel=\"{rel}\"; results=\"{results}\"; cursor=\"{cursor}\"",
            per_page = page.per_page
        )
    };
    let header_value =
        format!("{}, {}", link("previous", previous, 1, page.offset > 0), link("next", next, 0, next < total));
    let mut response = axum::Json(Value::Array(rows)).into_response();
    if let Ok(value) = HeaderValue::from_str(&header_value) {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(per_page: Option<&str>, cursor: Option<&str>) -> PageQuery {
        PageQuery { per_page: per_page.map(str::to_owned), cursor: cursor.map(str::to_owned) }
    }

    #[test]
    fn a_page_is_at_most_one_hundred_rows_from_the_cursor_s_offset() {
        assert_eq!(query(None, None).page().unwrap(), Page { offset: 0, per_page: 100 });
        assert_eq!(query(Some("2"), Some("0:4:0")).page().unwrap(), Page { offset: 4, per_page: 2 });
        assert_eq!(query(Some("2"), Some("0:0:1")).page().unwrap(), Page { offset: 0, per_page: 2 });
        for bad in ["0", "101", "x", "-1"] {
            assert!(query(Some(bad), None).page().is_err(), "{bad}");
        }
        for bad in ["x", "0:1", "1:0:0", "0:1:2", "0:-1:0", "0:1:0:0"] {
            assert!(query(None, Some(bad)).page().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_link_header_names_both_neighbours_and_whether_they_hold_rows() {
        let rows = (0..5).map(Value::from).collect::<Vec<_>>();
        let res = answer("http://h/api/0/x/", Page { offset: 2, per_page: 2 }, rows.clone());
        let link = res.headers()[header::LINK].to_str().unwrap().to_owned();
        assert!(
            link.contains("<http://h/api/0/x/?cursor=0:0:1&per_page=2>; rel=\"previous\"; results=\"true\""),
            "{link}"
        );
        assert!(link.contains("<http://h/api/0/x/?cursor=0:4:0&per_page=2>; rel=\"next\"; results=\"true\""), "{link}");
        let last = answer("http://h/api/0/x/", Page { offset: 4, per_page: 2 }, rows.clone());
        assert!(last.headers()[header::LINK].to_str().unwrap().contains("rel=\"next\"; results=\"false\""));
        let first = answer("http://h/api/0/x/", Page { offset: 0, per_page: 2 }, rows);
        assert!(first.headers()[header::LINK].to_str().unwrap().contains("rel=\"previous\"; results=\"false\""));
    }
}
