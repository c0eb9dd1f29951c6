//! Where a running bot's freqtrade REST API answers.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

use super::quoted;

/// An `http://` or `https://` base URL with a host (`http://10.0.0.7:8080`), without
/// whitespace, at most 2048 characters. Reported by the runtime when a bot starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ApiUrl(String);

impl ApiUrl {
    pub const MAX_LEN: usize = 2048;

    /// Errors name field `apiUrl`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let rest = input
            .strip_prefix("http://")
            .or_else(|| input.strip_prefix("https://"));
        let has_host = rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'));
        let clean = input.chars().all(|c| !c.is_whitespace() && !c.is_control());
        if !has_host || !clean || input.len() > Self::MAX_LEN {
            return Err(DomainError::invalid(
                "apiUrl",
                format!(
                    "{} must be an http:// or https:// URL with a host",
                    quoted(input)
                ),
            ));
        }
        Ok(Self(input.trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ApiUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ApiUrl {
    type Error = DomainError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<ApiUrl> for String {
    fn from(url: ApiUrl) -> Self {
        url.0
    }
}
