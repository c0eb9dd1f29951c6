//! What happened to a bot.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::{
    ApiUrl, BotId, BotMode, EntityName, FreqtradeVersion, ResourceLimits, RuntimeId, RuntimeKind,
    WantedState,
};

use super::config::BotConfig;

/// The variant's name is its `event_type` (and its tag in the stored payload).
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantNames,
)]
pub enum BotEvent {
    /// The bot exists and the runtime should provision it (status creating).
    BotCreated {
        bot_id: BotId,
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
    /// Asked to start, stop or restart while being created: carried out once created.
    BotWantedStateSet {
        wanted: WantedState,
    },
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
        <&'static str>::from(self).to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

impl BotEvent {
    /// Whether the bot's lifecycle status (or where it runs) changes with this event:
    /// what `botStatusChanged` subscribers hear about. A new variant must be placed here.
    pub fn changes_status(&self) -> bool {
        match self {
            Self::BotCreated { .. }
            | Self::BotProvisioned { .. }
            | Self::BotStartRequested
            | Self::BotWantedStateSet { .. }
            | Self::BotStarted { .. }
            | Self::BotStopRequested
            | Self::BotStopped
            | Self::BotRestartRequested
            | Self::BotFailed { .. }
            | Self::BotRecovered
            | Self::BotDeletionRequested
            | Self::BotDeleted => true,
            Self::BotUpdated { .. }
            | Self::TradeSyncRequested
            | Self::TradeCloseRequested { .. }
            | Self::BotInstanceRemoved { .. } => false,
        }
    }
}
