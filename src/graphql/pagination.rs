//! Relay-style connections with opaque, stable cursors.
//!
//! Lists are read by keyset: a cursor holds the sort key and the id of the last row
//! seen, and the next page starts strictly after that pair. A cursor keeps working when
//! its row is deleted or rows are added before it.

use anytrade_projections::page::{self, Direction};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{OutputType, Result, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub use anytrade_projections::page::Cursor;

use super::errors;

pub const DEFAULT_PAGE: i64 = 20;
pub const MAX_PAGE: i64 = 100;

/// A cursor as the API hands it out: opaque text.
pub fn encode_cursor(cursor: &Cursor) -> String {
    // Serializing a string and a UUID cannot fail.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

/// The `after` argument, or VALIDATION when it is not a cursor this API issued.
pub fn decode_cursor(after: Option<&str>) -> Result<Option<Cursor>> {
    let Some(after) = after else { return Ok(None) };
    URL_SAFE_NO_PAD
        .decode(after)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .map(Some)
        .ok_or_else(|| errors::validation("after", "not a cursor from this API"))
}

/// The page size from `first`: 20 by default, at most 100.
pub fn page_size(first: Option<i32>) -> Result<i64> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (0..=MAX_PAGE as i32).contains(&n) => Ok(i64::from(n)),
        Some(_) => Err(errors::validation(
            "first",
            format!("must be between 0 and {MAX_PAGE}"),
        )),
    }
}

/// Sort direction of a list; ties are broken by id in the same direction.
#[derive(async_graphql::Enum, Copy, Clone, Debug, Default, PartialEq, Eq)]
#[graphql(remote = "Direction")]
pub enum OrderDirection {
    #[default]
    Asc,
    Desc,
}

#[derive(SimpleObject)]
pub struct TotalCount {
    /// Rows matching the filter, across all pages.
    pub total_count: i64,
}

pub type Page<T> = Connection<String, T, TotalCount>;

/// A connection from a read model's page, each row shown as `show` makes it.
pub fn connection<R, T: OutputType>(
    page: page::Page<R>,
    after: bool,
    show: impl Fn(R) -> T,
) -> Page<T> {
    let mut connection = Connection::with_additional_fields(
        after,
        page.has_next,
        TotalCount {
            total_count: page.total,
        },
    );
    connection.edges.extend(
        page.rows
            .into_iter()
            .map(|(row, cursor)| Edge::new(encode_cursor(&cursor), show(row))),
    );
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_validation_error() {
        let cursor = Cursor {
            key: "2026-11-24T20:00:00Z".into(),
            id: uuid::Uuid::now_v7(),
        };
        let encoded = encode_cursor(&cursor);
        assert_eq!(
            decode_cursor(Some(&encoded)).expect("decodes"),
            Some(cursor)
        );
        assert_eq!(decode_cursor(None).expect("none"), None);
        for garbage in ["", "nope", "eyJ9", "%%%"] {
            assert!(decode_cursor(Some(garbage)).is_err(), "{garbage}");
        }
    }

    #[test]
    fn page_size_is_bounded() {
        assert_eq!(page_size(None).expect("default"), DEFAULT_PAGE);
        assert_eq!(page_size(Some(100)).expect("max"), 100);
        assert!(page_size(Some(101)).is_err());
        assert!(page_size(Some(-1)).is_err());
    }
}
