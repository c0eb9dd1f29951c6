//! Display names of strategies and bots.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

use super::quoted;

/// A name people pick for a strategy or a bot: 1 to 64 characters of ASCII letters,
/// digits, space, `_`, `-` and `.`, not starting or ending with a space. Names show up in
/// labels, logs and file names, hence the small alphabet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EntityName(String);

impl EntityName {
    pub const MAX_LEN: usize = 64;

    /// Errors name field `name`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        if input.trim().is_empty() {
            return Err(DomainError::invalid("name", "must not be empty"));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.');
        if let Some(bad) = input.chars().find(|c| !allowed(*c)) {
            return Err(DomainError::invalid(
                "name",
                format!(
                    "{} contains {bad:?}; use letters, digits, space, _, - and .",
                    quoted(input)
                ),
            ));
        }
        if input.len() > Self::MAX_LEN {
            return Err(DomainError::invalid(
                "name",
                format!(
                    "must be at most {} characters, got {}",
                    Self::MAX_LEN,
                    input.len()
                ),
            ));
        }
        if input.starts_with(' ') || input.ends_with(' ') {
            return Err(DomainError::invalid(
                "name",
                format!("{} must not start or end with a space", quoted(input)),
            ));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EntityName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EntityName {
    type Error = DomainError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<EntityName> for String {
    fn from(name: EntityName) -> Self {
        name.0
    }
}
