//! Which freqtrade release a bot runs.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

use super::quoted;

/// A freqtrade release, `YYYY.M` or `YYYY.M.P` (`2026.9`, `2025.10.1`), as freqtrade tags
/// its releases and images. Defaults to the release AnyTrade is tested with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FreqtradeVersion(String);

impl FreqtradeVersion {
    /// The release AnyTrade is tested with.
    pub const DEFAULT: &'static str = "2026.9";

    /// Errors name `freqtradeVersion`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let parts: Vec<&str> = input.split('.').collect();
        // Plain numbers without leading zeros, of at most `max_len` digits.
        let number = |part: &str, max_len: usize| {
            !part.is_empty()
                && part.len() <= max_len
                && part.bytes().all(|b| b.is_ascii_digit())
                && (part == "0" || !part.starts_with('0'))
        };
        let valid = match parts.as_slice() {
            [year, month, rest @ ..] => {
                year.len() == 4
                    && number(year, 4)
                    && number(month, 2)
                    && month.parse::<u8>().is_ok_and(|m| (1..=12).contains(&m))
                    && match rest {
                        [] => true,
                        [patch] => number(patch, 3),
                        _ => false,
                    }
            }
            _ => false,
        };
        if !valid {
            return Err(DomainError::invalid(
                "freqtradeVersion",
                format!(
                    "{} must be a freqtrade release like 2026.9 or 2026.9.1 (YYYY.M or YYYY.M.P)",
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

impl Default for FreqtradeVersion {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl std::fmt::Display for FreqtradeVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for FreqtradeVersion {
    type Error = DomainError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<FreqtradeVersion> for String {
    fn from(version: FreqtradeVersion) -> Self {
        version.0
    }
}
