//! The parameter spaces a hyperopt searches.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

super::string_enum! {
    /// One of freqtrade's `--spaces`.
    pub enum HyperoptSpace (field = "spaces", what = "hyperopt space") {
        Buy => "buy",
        Sell => "sell",
        Roi => "roi",
        Stoploss => "stoploss",
        Trailing => "trailing",
        Protection => "protection",
        Trades => "trades",
        Default => "default",
        All => "all",
    }
}

/// A non-empty list of spaces without repeats, in the order first given. Repeats in the
/// input are dropped rather than refused: they change nothing for freqtrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct HyperoptSpaces(Vec<HyperoptSpace>);

impl HyperoptSpaces {
    /// Errors name `spaces` (empty list) or `spaces[i]` (unknown space).
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, DomainError> {
        if items.is_empty() {
            return Err(DomainError::invalid(
                "spaces",
                "at least one hyperopt space is required",
            ));
        }
        let mut spaces = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let space = HyperoptSpace::parse(item.as_ref())
                .map_err(|e| e.on_field(&format!("spaces[{i}]")))?;
            if !spaces.contains(&space) {
                spaces.push(space);
            }
        }
        Ok(Self(spaces))
    }

    pub fn as_slice(&self) -> &[HyperoptSpace] {
        &self.0
    }

    /// The spaces as freqtrade's `--spaces` arguments.
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|s| s.as_str().to_owned()).collect()
    }
}

impl TryFrom<Vec<String>> for HyperoptSpaces {
    type Error = DomainError;

    fn try_from(items: Vec<String>) -> Result<Self, Self::Error> {
        Self::parse(&items)
    }
}

impl From<HyperoptSpaces> for Vec<String> {
    fn from(spaces: HyperoptSpaces) -> Self {
        spaces.to_strings()
    }
}
