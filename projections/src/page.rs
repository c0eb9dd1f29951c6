//! Keyset pages of a read model: a cursor holds the sort value and the id of the last
//! row seen, and the next page starts strictly after that pair, so a cursor keeps
//! working when its row is deleted or rows are added before it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Sort direction; ties are broken by id in the same direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

impl Direction {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Self::Asc => "ASC",
            Self::Desc => "DESC",
        }
    }

    /// The comparison that selects rows after a cursor.
    pub(crate) fn after(self) -> &'static str {
        match self {
            Self::Asc => ">",
            Self::Desc => "<",
        }
    }

    pub(crate) fn tag(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

/// Where a page ended: the last row's sort value, tagged with the order it belongs
/// to, and its id. Opaque to callers; they hand back what a page gave them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub key: String,
    pub id: Uuid,
}

/// One page of rows in order, with whether more follow and how many match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub rows: Vec<(T, Cursor)>,
    pub has_next: bool,
    /// Rows matching the filter across all pages.
    pub total: i64,
}

/// Why a page could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The cursor was issued for another list or order, or is not one at all.
    #[error("{0}")]
    Cursor(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl PageError {
    pub(crate) fn foreign_cursor() -> Self {
        Self::Cursor("the cursor comes from another list or ordering; start again without it")
    }
}

impl<T> Page<T> {
    /// A page from rows fetched with `limit + 1` (the extra row tells whether a next
    /// page exists), each given its cursor.
    pub(crate) fn new(
        mut rows: Vec<T>,
        limit: i64,
        total: i64,
        cursor_of: impl Fn(&T) -> Cursor,
    ) -> Self {
        let limit = usize::try_from(limit).unwrap_or(0);
        let has_next = rows.len() > limit;
        rows.truncate(limit);
        Self {
            rows: rows
                .into_iter()
                .map(|row| {
                    let cursor = cursor_of(&row);
                    (row, cursor)
                })
                .collect(),
            has_next,
            total,
        }
    }
}

/// An `ILIKE` pattern matching names that contain `part` literally (`%`, `_` and `\`
/// in `part` are escaped).
pub(crate) fn contains_pattern(part: &str) -> String {
    let escaped = part
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The SQL rank of a text column among `names` (1-based, like `array_position`; 0 for
/// a name not listed), so an enum sorts in its declared order rather than by spelling.
pub(crate) fn rank_sql(column: &str, names: impl Iterator<Item = &'static str>) -> String {
    let quoted: Vec<String> = names.map(|name| format!("'{name}'")).collect();
    format!(
        "COALESCE(array_position(ARRAY[{}]::text[], {column}), 0)",
        quoted.join(", ")
    )
}

/// The rank [`rank_sql`] gives `value` among `all`.
pub(crate) fn rank<T: PartialEq>(all: &[T], value: &T) -> i32 {
    all.iter()
        .position(|v| v == value)
        .and_then(|i| i32::try_from(i + 1).ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_patterns_match_literally() {
        assert_eq!(contains_pattern("a_b%c\\"), "%a\\_b\\%c\\\\%");
    }

    #[test]
    fn a_page_keeps_limit_rows_and_tells_whether_more_follow() {
        let cursor = |n: &i32| Cursor {
            key: n.to_string(),
            id: Uuid::nil(),
        };
        let page = Page::new(vec![1, 2, 3], 2, 9, cursor);
        assert_eq!(page.rows.len(), 2);
        assert!(page.has_next);
        assert_eq!(page.rows[1].1.key, "2");
        assert!(!Page::new(vec![1, 2], 2, 2, cursor).has_next);
    }

    #[test]
    fn ranks_follow_the_listed_order() {
        let all = ["b", "a"];
        assert_eq!(rank(&all, &"b"), 1);
        assert_eq!(rank(&all, &"a"), 2);
        assert_eq!(rank(&all, &"z"), 0);
        assert_eq!(
            rank_sql("status", all.into_iter()),
            "COALESCE(array_position(ARRAY['b', 'a']::text[], status), 0)"
        );
    }
}
