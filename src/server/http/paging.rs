//! Lists in the API (SPEC §3): the page a query string asks for, and the `Link` header
//! that names the previous and the next page, each with `results="true|false"` and an
//! opaque `cursor` (`db::page` decides what a cursor means).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::reply::ApiError;
use crate::server::db::page::{Cursor, Paged, Side, Slice, MAX_PER_PAGE};

/// The paging part of a list's query string.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    per_page: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

impl PageQuery {
    /// The page asked for; a `per_page` outside 1–100 or a cursor not given by us is a 400.
    pub fn page(&self) -> Result<Slice, ApiError> {
        let per_page = match self.per_page.as_deref() {
            None => MAX_PER_PAGE,
            Some(raw) => raw.parse().ok().filter(|n| (1..=MAX_PER_PAGE).contains(n)).ok_or_else(|| {
                ApiError::http(StatusCode::BAD_REQUEST, "per_page must be a number from 1 to 100.", "invalid_per_page")
            })?,
        };
        let cursor = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(Cursor::parse(raw).ok_or_else(|| {
                ApiError::http(StatusCode::BAD_REQUEST, "This cursor is not one of ours.", "invalid_cursor")
            })?),
        };
        Ok(Slice { cursor, per_page })
    }
}

/// A page as a JSON array with its `Link` header; `url` is the list's address with the
/// query parameters to keep (filters), without the paging ones.
pub fn answer(url: &str, per_page: i64, page: Paged<Value>) -> Response {
    let separator = if url.contains('?') { '&' } else { '?' };
    let link = |rel: &str, side: Side| {
        let cursor = side.cursor;
        format!(
            "<{url}{separator}cursor={cursor}&per_page={per_page}>; rel=\"{rel}\"; results=\"{}\"; cursor=\"{cursor}\"",
            side.results
        )
    };
    let header_value = format!("{}, {}", link("previous", page.previous), link("next", page.next));
    let mut response = axum::Json(Value::Array(page.rows)).into_response();
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
    fn a_page_is_at_most_one_hundred_rows_and_a_foreign_cursor_is_refused() {
        assert_eq!(query(None, None).page().unwrap(), Slice { cursor: None, per_page: 100 });
        assert_eq!(query(Some("2"), Some("0:4:0")).page().unwrap().cursor.unwrap().offset, 4);
        for bad in ["0", "101", "x", "-1"] {
            assert!(query(Some(bad), None).page().is_err(), "{bad}");
        }
        assert!(query(None, Some("zzz")).page().is_err());
    }

    #[test]
    fn the_link_header_names_both_neighbours_and_whether_they_hold_rows() {
        let rows = (0..5).map(Value::from).collect::<Vec<_>>();
        let slice = query(Some("2"), Some("0:2:0")).page().unwrap();
        let res = answer("http://h/api/0/x/", 2, slice.offset_page(rows.clone()));
        let link = res.headers()[header::LINK].to_str().unwrap().to_owned();
        assert!(
            link.contains("<http://h/api/0/x/?cursor=0:0:1&per_page=2>; rel=\"previous\"; results=\"true\""),
            "{link}"
        );
        assert!(link.contains("<http://h/api/0/x/?cursor=0:4:0&per_page=2>; rel=\"next\"; results=\"true\""), "{link}");
        let first = answer("http://h/api/0/x/?event=a", 2, Slice { cursor: None, per_page: 2 }.offset_page(rows));
        let link = first.headers()[header::LINK].to_str().unwrap().to_owned();
        assert!(
            link.contains("<http://h/api/0/x/?event=a&cursor=0:0:1&per_page=2>; rel=\"previous\"; results=\"false\""),
            "{link}"
        );
    }
}
