//! Query parameters, parsed strictly: a malformed value is a Binance-style 400 naming the
//! parameter, never a panic or a silent default.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;

use crate::error::{ApiError, DIGITS};

/// The query string of a request.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(map)| Self(map))
            .map_err(|_| ApiError::IllegalChars {
                name: "query".into(),
                range: "URL-encoded key=value pairs",
            })
    }
}

impl Params {
    #[cfg(test)]
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// A parameter that was sent non-empty.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A parameter that must be sent.
    pub fn required(&self, name: &'static str) -> Result<&str, ApiError> {
        self.optional(name).ok_or(ApiError::MissingParam(name))
    }

    /// A non-negative integer (times in ms, limits), as Binance accepts them.
    pub fn integer(&self, name: &'static str) -> Result<Option<i64>, ApiError> {
        let Some(text) = self.optional(name) else {
            return Ok(None);
        };
        let illegal = || ApiError::IllegalChars {
            name: name.to_owned(),
            range: DIGITS,
        };
        if text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(illegal());
        }
        text.parse::<i64>().map(Some).map_err(|_| illegal())
    }

    /// An integer limit in `1..=max`; `None` when not sent.
    pub fn limit(&self, max: i64) -> Result<Option<usize>, ApiError> {
        match self.integer("limit")? {
            None => Ok(None),
            Some(n) if (1..=max).contains(&n) => Ok(usize::try_from(n).ok()),
            Some(_) => Err(ApiError::InvalidParam("limit")),
        }
    }

    /// The `symbols` parameter: a JSON array of symbols, e.g. `["BTCUSDT","ETHUSDT"]`.
    pub fn symbols(&self) -> Result<Option<Vec<String>>, ApiError> {
        let Some(text) = self.optional("symbols") else {
            return Ok(None);
        };
        match serde_json::from_str::<Vec<String>>(text) {
            Ok(symbols) if !symbols.is_empty() => Ok(Some(symbols)),
            _ => Err(ApiError::IllegalChars {
                name: "symbols".into(),
                range: r#"^\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\]$"#,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_strict() {
        let p = Params::from_pairs([
            ("startTime", "1700000000000"),
            ("endTime", "-5"),
            ("limit", "12a"),
            ("big", "99999999999999999999"),
        ]);
        assert_eq!(p.integer("startTime"), Ok(Some(1_700_000_000_000)));
        assert_eq!(p.integer("absent"), Ok(None));
        for name in ["endTime", "limit", "big"] {
            let err = p
                .integer(if name == "big" { "big" } else { name })
                .unwrap_err();
            assert_eq!(err.code(), -1100);
            assert!(err.to_string().contains(&format!("'{name}'")), "{err}");
        }
    }

    #[test]
    fn limits_and_required() {
        let p = Params::from_pairs([("limit", "1001"), ("symbol", "")]);
        assert_eq!(p.limit(1000), Err(ApiError::InvalidParam("limit")));
        assert_eq!(p.limit(5000), Ok(Some(1001)));
        assert_eq!(
            Params::from_pairs([("limit", "0")]).limit(10),
            Err(ApiError::InvalidParam("limit"))
        );
        let err = p.required("symbol").unwrap_err();
        assert_eq!(
            (err.code(), err.to_string().contains("'symbol'")),
            (-1102, true)
        );
    }

    #[test]
    fn symbols_is_a_json_array() {
        let p = Params::from_pairs([("symbols", r#"["BTCUSDT","ETHUSDT"]"#)]);
        assert_eq!(
            p.symbols(),
            Ok(Some(vec!["BTCUSDT".into(), "ETHUSDT".into()]))
        );
        for bad in ["BTCUSDT", "[]", "[1]", "["] {
            assert_eq!(
                Params::from_pairs([("symbols", bad)])
                    .symbols()
                    .unwrap_err()
                    .code(),
                -1100
            );
        }
    }
}
