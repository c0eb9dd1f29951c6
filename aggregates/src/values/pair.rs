//! Trading pairs and pair lists.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

use super::quoted;

/// Most pairs one bot or job may trade.
pub const MAX_PAIRS: usize = 500;

/// Longest currency code in a pair.
const MAX_PART: usize = 20;

/// A market as freqtrade names it: `BASE/QUOTE` for spot, `BASE/QUOTE:SETTLE` for
/// futures. Each part is 1 to 20 characters of A-Z and 0-9.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pair(String);

impl Pair {
    /// Errors name field `pair`; [`Pairs::parse`] renames it to `pairs[i]`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        if input.chars().any(|c| c.is_lowercase()) {
            return Err(DomainError::invalid(
                "pair",
                format!("{} must be uppercase, like BTC/USDT", quoted(input)),
            ));
        }
        let shape = || {
            DomainError::invalid(
                "pair",
                format!(
                    "{} must look like BASE/QUOTE or BASE/QUOTE:SETTLE, each part 1 to {MAX_PART} characters of A-Z and 0-9",
                    quoted(input)
                ),
            )
        };
        let (base, rest) = input.split_once('/').ok_or_else(shape)?;
        let (quote, settle) = match rest.split_once(':') {
            Some((quote, settle)) => (quote, Some(settle)),
            None => (rest, None),
        };
        let part_ok = |part: &str| {
            (1..=MAX_PART).contains(&part.len())
                && part
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        };
        if !part_ok(base) || !part_ok(quote) || !settle.is_none_or(part_ok) {
            return Err(shape());
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn base(&self) -> &str {
        self.parts().0
    }

    pub fn quote(&self) -> &str {
        self.parts().1
    }

    /// The settlement currency of a futures pair.
    pub fn settle(&self) -> Option<&str> {
        self.parts().2
    }

    fn parts(&self) -> (&str, &str, Option<&str>) {
        let (base, rest) = self.0.split_once('/').unwrap_or((&self.0, ""));
        match rest.split_once(':') {
            Some((quote, settle)) => (base, quote, Some(settle)),
            None => (base, rest, None),
        }
    }
}

impl std::fmt::Display for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Pair {
    type Error = DomainError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<Pair> for String {
    fn from(pair: Pair) -> Self {
        pair.0
    }
}

/// A bot's or job's pair list (freqtrade's `pair_whitelist`): 1 to 500 pairs, no repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Pairs(Vec<Pair>);

impl Pairs {
    /// Errors name `pairs` (empty or too long) or `pairs[i]` (bad or repeated entry).
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, DomainError> {
        if items.is_empty() {
            return Err(DomainError::invalid(
                "pairs",
                "at least one pair is required",
            ));
        }
        if items.len() > MAX_PAIRS {
            return Err(DomainError::invalid(
                "pairs",
                format!("at most {MAX_PAIRS} pairs are allowed, got {}", items.len()),
            ));
        }
        let mut pairs: Vec<Pair> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let pair =
                Pair::parse(item.as_ref()).map_err(|e| e.on_field(&format!("pairs[{i}]")))?;
            if let Some(first) = pairs.iter().position(|p| *p == pair) {
                return Err(DomainError::invalid(
                    format!("pairs[{i}]"),
                    format!("{pair} repeats pairs[{first}]"),
                ));
            }
            pairs.push(pair);
        }
        Ok(Self(pairs))
    }

    pub fn as_slice(&self) -> &[Pair] {
        &self.0
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Pair> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false (a list holds at least one pair); here for the `len` convention.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|p| p.0.clone()).collect()
    }
}

impl<'a> IntoIterator for &'a Pairs {
    type Item = &'a Pair;
    type IntoIter = std::slice::Iter<'a, Pair>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl TryFrom<Vec<String>> for Pairs {
    type Error = DomainError;

    fn try_from(items: Vec<String>) -> Result<Self, Self::Error> {
        Self::parse(&items)
    }
}

impl From<Pairs> for Vec<String> {
    fn from(pairs: Pairs) -> Self {
        pairs.0.into_iter().map(String::from).collect()
    }
}
