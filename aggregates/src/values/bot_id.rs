//! A bot's identity.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Which bot: its aggregate id. A type of its own so that a bot's id cannot be passed
/// where a trade's, an exchange's or a job's is meant, from the API down to the runtime.
/// Stored and shown as the UUID's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BotId(Uuid);

impl BotId {
    /// A new, time-ordered id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for BotId {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Uuid> for BotId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

impl fmt::Display for BotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for BotId {
    type Err = uuid::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(text).map(Self)
    }
}
