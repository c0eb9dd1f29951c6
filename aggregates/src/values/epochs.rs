//! How many epochs a hyperopt runs.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// Number of hyperopt epochs, 1 to 10000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Epochs(u32);

impl Epochs {
    pub const MAX: u32 = 10_000;

    /// Errors name `epochs`.
    pub fn parse(input: i64) -> Result<Self, DomainError> {
        match u32::try_from(input) {
            Ok(epochs) if (1..=Self::MAX).contains(&epochs) => Ok(Self(epochs)),
            _ => Err(DomainError::invalid(
                "epochs",
                format!("must be between 1 and {}, got {input}", Self::MAX),
            )),
        }
    }

    pub fn get(&self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for Epochs {
    type Error = DomainError;

    fn try_from(input: i64) -> Result<Self, Self::Error> {
        Self::parse(input)
    }
}

impl From<Epochs> for u32 {
    fn from(epochs: Epochs) -> Self {
        epochs.0
    }
}
