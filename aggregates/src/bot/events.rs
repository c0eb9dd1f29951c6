//! What happened to a bot.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::{
    ApiUrl, BotMode, EntityName, FreqtradeVersion, ResourceLimits, RuntimeId, RuntimeKind,
};

use super::config::BotConfig;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BotEvent {
    /// The bot exists and the runtime should provision it (status creating).
    BotCreated {
        bot_id: Uuid,
        name: EntityName,
        exchange_id: Uuid,
        strategy_id: Uuid,
        strategy_version: u32,
        mode: BotMode,
        /// `None`: the service's default runtime.
        runtime: Option<RuntimeKind>,
        config: BotConfig,
        resources: ResourceLimits,
        freqtrade_version: FreqtradeVersion,
    },
    BotProvisioned {
        runtime_id: RuntimeId,
    },
    /// Only the settings that changed are `Some`.
    BotUpdated {
        name: Option<EntityName>,
        config: Option<BotConfig>,
        resources: Option<ResourceLimits>,
        runtime: Option<RuntimeKind>,
        freqtrade_version: Option<FreqtradeVersion>,
        strategy_version: Option<u32>,
    },
    BotStartRequested,
    BotStarted {
        runtime_id: RuntimeId,
        api_url: ApiUrl,
    },
    BotStopRequested,
    BotStopped,
    BotRestartRequested,
    BotFailed {
        reason: String,
    },
    /// Reachable again after a failure the health monitor reported.
    BotRecovered,
    BotDeletionRequested,
    BotDeleted,
    TradeSyncRequested,
    TradeCloseRequested {
        trade_id: i64,
    },
    /// A leftover instance of this bot was removed from its runtime.
    BotInstanceRemoved {
        runtime_id: RuntimeId,
        reason: String,
    },
}

impl DomainEvent for BotEvent {
    fn event_type(&self) -> String {
        match self {
            Self::BotCreated { .. } => "BotCreated",
            Self::BotProvisioned { .. } => "BotProvisioned",
            Self::BotUpdated { .. } => "BotUpdated",
            Self::BotStartRequested => "BotStartRequested",
            Self::BotStarted { .. } => "BotStarted",
            Self::BotStopRequested => "BotStopRequested",
            Self::BotStopped => "BotStopped",
            Self::BotRestartRequested => "BotRestartRequested",
            Self::BotFailed { .. } => "BotFailed",
            Self::BotRecovered => "BotRecovered",
            Self::BotDeletionRequested => "BotDeletionRequested",
            Self::BotDeleted => "BotDeleted",
            Self::TradeSyncRequested => "TradeSyncRequested",
            Self::TradeCloseRequested { .. } => "TradeCloseRequested",
            Self::BotInstanceRemoved { .. } => "BotInstanceRemoved",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
