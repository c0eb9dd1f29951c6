//! How much a bot or job puts into each trade.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::DomainError;

use super::quoted;

/// A stake per trade: a finite amount greater than zero, or (for bots) freqtrade's
/// `"unlimited"`, which splits the whole balance across `max_open_trades`.
///
/// Serializes as freqtrade's config does: a number, or the string `"unlimited"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StakeAmount(Stake);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stake {
    Amount(f64),
    Unlimited,
}

const UNLIMITED: &str = "unlimited";

impl StakeAmount {
    /// A fixed amount (what backtests and hyperopts take). Errors name `stakeAmount`.
    pub fn parse_amount(amount: f64) -> Result<Self, DomainError> {
        if !amount.is_finite() || amount <= 0.0 {
            return Err(DomainError::invalid(
                "stakeAmount",
                format!("must be a finite number greater than 0, got {amount}"),
            ));
        }
        Ok(Self(Stake::Amount(amount)))
    }

    /// A bot's stake as text: `"unlimited"` or a decimal number such as `"100"` or
    /// `"0.05"`. Errors name `stakeAmount`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        if input == UNLIMITED {
            return Ok(Self(Stake::Unlimited));
        }
        let decimal = !input.is_empty()
            && input.chars().all(|c| c.is_ascii_digit() || c == '.')
            && input.chars().filter(|c| *c == '.').count() <= 1
            && input.chars().any(|c| c.is_ascii_digit());
        let amount = if decimal {
            input.parse::<f64>().ok()
        } else {
            None
        };
        match amount {
            Some(amount) => Self::parse_amount(amount),
            None => Err(DomainError::invalid(
                "stakeAmount",
                format!(
                    "{} must be a number greater than 0 (like 100 or 0.05) or \"unlimited\"",
                    quoted(input)
                ),
            )),
        }
    }

    /// The fixed amount; `None` when unlimited.
    pub fn amount(&self) -> Option<f64> {
        match self.0 {
            Stake::Amount(amount) => Some(amount),
            Stake::Unlimited => None,
        }
    }

    pub fn is_unlimited(&self) -> bool {
        matches!(self.0, Stake::Unlimited)
    }
}

impl std::fmt::Display for StakeAmount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Stake::Amount(amount) => write!(f, "{amount}"),
            Stake::Unlimited => f.write_str(UNLIMITED),
        }
    }
}

impl Serialize for StakeAmount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Stake::Amount(amount) => serializer.serialize_f64(amount),
            Stake::Unlimited => serializer.serialize_str(UNLIMITED),
        }
    }
}

impl<'de> Deserialize<'de> for StakeAmount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(amount) => Self::parse_amount(amount),
            Raw::Text(text) => Self::parse(&text),
        }
        .map_err(serde::de::Error::custom)
    }
}
