//! What can be asked of a strategy. Inputs are raw and parsed in `handle`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum StrategyCommand {
    /// Creates the strategy with `code` as version 1. The name must be unique.
    CreateStrategy {
        strategy_id: Uuid,
        name: String,
        description: String,
        code: String,
    },
    /// Fields left `None` stay as they are. New code (by SHA-256) becomes a new version;
    /// the same code again adds nothing.
    UpdateStrategy {
        name: Option<String>,
        description: Option<String>,
        code: Option<String>,
    },
    /// Refused while bots run the strategy.
    DeleteStrategy,
}
