//! How many trades a bot may hold at once.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// freqtrade's `max_open_trades`: 1 to 1000, or -1 for no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct MaxOpenTrades(i64);

impl MaxOpenTrades {
    pub const MAX: i64 = 1000;
    pub const UNLIMITED: i64 = -1;

    /// Errors name field `maxOpenTrades`.
    pub fn parse(input: i64) -> Result<Self, DomainError> {
        if input == Self::UNLIMITED || (1..=Self::MAX).contains(&input) {
            Ok(Self(input))
        } else {
            Err(DomainError::invalid(
                "maxOpenTrades",
                format!(
                    "must be between 1 and {}, or -1 for unlimited, got {input}",
                    Self::MAX
                ),
            ))
        }
    }

    /// The limit; `None` when unlimited.
    pub fn limit(&self) -> Option<u32> {
        u32::try_from(self.0).ok()
    }

    /// The value as freqtrade's config takes it (-1 for unlimited).
    pub fn get(&self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for MaxOpenTrades {
    type Error = DomainError;

    fn try_from(input: i64) -> Result<Self, Self::Error> {
        Self::parse(input)
    }
}

impl From<MaxOpenTrades> for i64 {
    fn from(value: MaxOpenTrades) -> Self {
        value.0
    }
}
