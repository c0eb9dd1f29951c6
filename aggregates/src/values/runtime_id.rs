//! The runtime's handle on a bot or job.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// What the runtime calls the thing it runs: a container id, a pod or job name, a pid.
/// 1 to 256 printable characters without whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RuntimeId(String);

impl RuntimeId {
    pub const MAX_LEN: usize = 256;

    /// Errors name field `runtimeId`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let printable = input.chars().all(|c| !c.is_whitespace() && !c.is_control());
        if input.is_empty() || input.len() > Self::MAX_LEN || !printable {
            return Err(DomainError::invalid(
                "runtimeId",
                format!(
                    "must be 1 to {} characters without whitespace",
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

impl std::fmt::Display for RuntimeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RuntimeId {
    type Error = DomainError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<RuntimeId> for String {
    fn from(id: RuntimeId) -> Self {
        id.0
    }
}
