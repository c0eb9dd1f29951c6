//! How far a hyperopt has got.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// A percentage from 0 to 100 (finite).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Progress(f64);

impl Progress {
    /// Errors name `progress`.
    pub fn parse(input: f64) -> Result<Self, DomainError> {
        if !input.is_finite() || !(0.0..=100.0).contains(&input) {
            return Err(DomainError::invalid(
                "progress",
                format!("must be a percentage between 0 and 100, got {input}"),
            ));
        }
        Ok(Self(input))
    }

    pub fn get(&self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Progress {
    type Error = DomainError;

    fn try_from(input: f64) -> Result<Self, Self::Error> {
        Self::parse(input)
    }
}

impl From<Progress> for f64 {
    fn from(progress: Progress) -> Self {
        progress.0
    }
}
