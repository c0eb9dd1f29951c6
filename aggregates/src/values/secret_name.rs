//! Names of exchange secrets.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

use super::quoted;

/// A secret's name within an exchange: `[a-z][a-z0-9_]{0,63}` (`api_key`, `passphrase`).
/// Names become environment variable suffixes and map keys, hence the narrow alphabet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SecretName(String);

impl SecretName {
    pub const MAX_LEN: usize = 64;

    /// Errors name field `name`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let mut chars = input.chars();
        let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !starts_with_letter || !rest_ok || input.len() > Self::MAX_LEN {
            return Err(DomainError::invalid(
                "name",
                format!(
                    "secret name {} must be 1 to {} characters of a-z, 0-9 and _, starting with a letter",
                    quoted(input),
                    Self::MAX_LEN
                ),
            ));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SecretName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for SecretName {
    type Error = DomainError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<SecretName> for String {
    fn from(name: SecretName) -> Self {
        name.0
    }
}

impl PartialEq<str> for SecretName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}
