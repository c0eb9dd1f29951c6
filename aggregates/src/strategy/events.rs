//! What happened to a strategy. Code in events has passed the strategy checks.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::EntityName;

/// The variant's name is its `event_type` (and its tag in the stored payload).
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantNames,
)]
pub enum StrategyEvent {
    /// Always followed by `StrategyVersionAdded` with version 1.
    StrategyCreated {
        strategy_id: Uuid,
        name: EntityName,
        description: String,
    },
    /// A new version of the code, numbered from 1 without gaps. `code` passed
    /// [`StrategyCode::parse`](crate::StrategyCode::parse); `sha256` is its lowercase hex
    /// hash and `class_name` the `IStrategy` class freqtrade loads.
    StrategyVersionAdded {
        version: u32,
        code: String,
        sha256: String,
        class_name: String,
    },
    StrategyRenamed {
        name: EntityName,
    },
    StrategyDescriptionChanged {
        description: String,
    },
    StrategyDeleted,
}

impl DomainEvent for StrategyEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
