//! Pages of a list, as Sentry pages them (SPEC §3): at most `per_page` rows, and on each
//! side a cursor with whether rows lie there.
//!
//! A cursor is Sentry's `value:offset:is_prev`. Lists read from the database are paged by
//! key (`value` is the sort key of the row at the page's edge, `offset` is 0): a row
//! written or deleted while a client walks the list neither repeats nor hides another.
//! Short lists built in memory (a user's sessions) are paged by `offset` (`value` is 0).

use std::fmt;

/// The most rows a page holds, and the default.
pub const MAX_PER_PAGE: i64 = 100;

/// A position in a list, as clients pass it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub value: i64,
    pub offset: i64,
    /// Read the rows before this position rather than after it.
    pub is_prev: bool,
}

impl Cursor {
    /// A cursor given by us earlier, or `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.split(':');
        let (value, offset, is_prev) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let is_prev = match is_prev {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        let (value, offset) = (value.parse().ok()?, offset.parse().ok()?);
        (offset >= 0).then_some(Self { value, offset, is_prev })
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.value, self.offset, u8::from(self.is_prev))
    }
}

/// Which page a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub cursor: Option<Cursor>,
    pub per_page: i64,
}

impl Default for Slice {
    fn default() -> Self {
        Self { cursor: None, per_page: MAX_PER_PAGE }
    }
}

/// One side of a page: the cursor that reads it and whether it holds rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Side {
    pub cursor: Cursor,
    pub results: bool,
}

impl Side {
    /// The cursor, when rows lie on this side.
    pub fn cursor_if_results(&self) -> Option<String> {
        self.results.then(|| self.cursor.to_string())
    }
}

/// The rows of one page and its two sides.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub rows: Vec<T>,
    pub previous: Side,
    pub next: Side,
}

impl<T> Paged<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged { rows: self.rows.into_iter().map(f).collect(), previous: self.previous, next: self.next }
    }
}

/// The order of a list by its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
}

/// What a keyset query adds to its SQL: `AND {key} {op} ${n}` with [`KeysetSql::bound`]
/// bound to `${n}`, then `ORDER BY {key} {dir} LIMIT {limit}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysetSql {
    pub condition: String,
    pub bound: i64,
    pub order_by: String,
}

impl Slice {
    /// Whether this page is read backwards (the rows before the cursor).
    fn backwards(&self) -> bool {
        self.cursor.is_some_and(|c| c.is_prev)
    }

    /// The SQL parts of a list sorted by `key` (an expression unique per row) in `order`;
    /// `param` is the placeholder number of the bound. One row more than a page is read,
    /// to know whether the list goes on.
    pub fn keyset_sql(&self, key: &str, order: Order, param: usize) -> KeysetSql {
        // Reading backwards walks the list in the opposite order from the cursor.
        let ascending = (order == Order::Ascending) != self.backwards();
        let (op, dir, open) = if ascending { (">", "ASC", i64::MIN) } else { ("<", "DESC", i64::MAX) };
        KeysetSql {
            condition: format!("{key} {op} ${param}"),
            bound: self.cursor.map_or(open, |c| c.value),
            order_by: format!("ORDER BY {key} {dir} LIMIT {}", self.per_page + 1),
        }
    }

    /// The page out of the rows a [`Slice::keyset_sql`] query read, `key` giving each
    /// row's sort key.
    pub fn keyset_page<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> i64) -> Paged<T> {
        let more = rows.len() as i64 > self.per_page;
        rows.truncate(self.per_page as usize);
        let backwards = self.backwards();
        if backwards {
            rows.reverse();
        }
        let here = self.cursor.map_or(0, |c| c.value);
        let first = rows.first().map_or(here, &key);
        let last = rows.last().map_or(here, &key);
        let side =
            |value: i64, is_prev: bool, results: bool| Side { cursor: Cursor { value, offset: 0, is_prev }, results };
        let (previous_results, next_results) = if backwards {
            // Read backwards from a cursor: the page after is where the reader came from.
            (more, true)
        } else {
            // Read forwards: rows lie before when the reader came from a cursor.
            (self.cursor.is_some(), more)
        };
        Paged { previous: side(first, true, previous_results), next: side(last, false, next_results), rows }
    }

    /// The page of a short list held in memory, by offset.
    pub fn offset_page<T>(&self, all: Vec<T>) -> Paged<T> {
        let total = all.len() as i64;
        let offset = self.cursor.map_or(0, |c| c.offset);
        let rows = all.into_iter().skip(offset as usize).take(self.per_page as usize).collect();
        let next = offset.saturating_add(self.per_page);
        let side =
            |offset: i64, is_prev: bool, results: bool| Side { cursor: Cursor { value: 0, offset, is_prev }, results };
        Paged {
            rows,
            previous: side((offset - self.per_page).max(0), true, offset > 0),
            next: side(next, false, next < total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(raw: &str) -> Cursor {
        Cursor::parse(raw).unwrap()
    }

    #[test]
    fn cursors_read_back_as_written_and_foreign_ones_are_refused() {
        for raw in ["0:0:0", "17:0:1", "0:40:0", "-5:0:0"] {
            assert_eq!(cursor(raw).to_string(), raw);
        }
        for bad in ["", "x", "0:1", "1:0:2", "0:-1:0", "0:1:0:0", "a:0:0"] {
            assert!(Cursor::parse(bad).is_none(), "{bad}");
        }
    }

    /// A list of keys 1..=n "read" the way the SQL would read it.
    fn read(keys: &[i64], slice: &Slice, order: Order) -> Paged<i64> {
        let sql = slice.keyset_sql("k", order, 1);
        let ascending = sql.order_by.contains("ASC");
        let mut rows: Vec<i64> =
            keys.iter().copied().filter(|k| if ascending { *k > sql.bound } else { *k < sql.bound }).collect();
        if !ascending {
            rows.reverse();
        }
        rows.truncate((slice.per_page + 1) as usize);
        slice.keyset_page(rows, |k| *k)
    }

    #[test]
    fn walking_next_then_previous_visits_every_row_once_in_either_order() {
        let keys: Vec<i64> = (1..=23).collect();
        for order in [Order::Ascending, Order::Descending] {
            let mut seen = Vec::new();
            let mut pages = Vec::new();
            let mut slice = Slice { cursor: None, per_page: 5 };
            loop {
                let page = read(&keys, &slice, order);
                seen.extend(page.rows.clone());
                pages.push(page.rows.clone());
                if !page.next.results {
                    break;
                }
                slice.cursor = Some(page.next.cursor);
            }
            let mut expected = keys.clone();
            if order == Order::Descending {
                expected.reverse();
            }
            assert_eq!(seen, expected, "{order:?}");
            // From the third page, previous gives the second, then the first, which has none before.
            let third =
                read(&keys, &Slice { cursor: Some(cursor(&format!("{}:0:0", pages[1][4]))), per_page: 5 }, order);
            assert_eq!(third.rows, pages[2]);
            let second = read(&keys, &Slice { cursor: Some(third.previous.cursor), per_page: 5 }, order);
            assert_eq!(second.rows, pages[1]);
            assert!(second.previous.results && second.next.results);
            let first = read(&keys, &Slice { cursor: Some(second.previous.cursor), per_page: 5 }, order);
            assert_eq!(first.rows, pages[0]);
            assert!(!first.previous.results, "nothing before the first page");
        }
    }

    #[test]
    fn an_offset_page_says_whether_rows_lie_on_each_side() {
        let all: Vec<i64> = (0..5).collect();
        let page = Slice { cursor: Some(cursor("0:2:0")), per_page: 2 }.offset_page(all.clone());
        assert_eq!(page.rows, vec![2, 3]);
        assert_eq!((page.previous.cursor.to_string(), page.previous.results), ("0:0:1".to_owned(), true));
        assert_eq!((page.next.cursor.to_string(), page.next.results), ("0:4:0".to_owned(), true));
        let last = Slice { cursor: Some(cursor("0:4:0")), per_page: 2 }.offset_page(all);
        assert!(!last.next.results);
    }
}
