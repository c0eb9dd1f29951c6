//! The currency stakes are counted in.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

use super::quoted;

/// A quote currency such as `USDT` or `BTC`: 2 to 10 characters of A-Z and 0-9.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StakeCurrency(String);

impl StakeCurrency {
    /// Errors name field `stakeCurrency`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let alphanumeric = input.chars().all(|c| c.is_ascii_alphanumeric());
        if alphanumeric && input.chars().any(|c| c.is_ascii_lowercase()) {
            return Err(DomainError::invalid(
                "stakeCurrency",
                format!("{} must be uppercase, like USDT", quoted(input)),
            ));
        }
        let valid = alphanumeric && (2..=10).contains(&input.len());
        if !valid {
            return Err(DomainError::invalid(
                "stakeCurrency",
                format!(
                    "{} must be 2 to 10 characters of A-Z and 0-9, like USDT",
                    quoted(input)
                ),
            ));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for StakeCurrency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for StakeCurrency {
    type Error = DomainError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<StakeCurrency> for String {
    fn from(currency: StakeCurrency) -> Self {
        currency.0
    }
}
