//! What can be asked of a bot. Inputs are raw and parsed in `handle`; lifecycle
//! confirmations come from the runtime layer.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::values::BotId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum BotCommand {
    /// The exchange and strategy must exist; the strategy's current version is pinned.
    /// `mode` is `dry_run` or `live` (live needs an exchange with test mode off);
    /// `runtime` is `docker`, `kubernetes` or `local` (`None`: the service's default);
    /// `freqtrade_version` defaults to the tested release.
    CreateBot {
        bot_id: BotId,
        name: String,
        exchange_id: Uuid,
        strategy_id: Uuid,
        mode: String,
        runtime: Option<String>,
        config: BotConfigInput,
        resources: ResourcesInput,
        freqtrade_version: Option<String>,
    },
    /// The runtime prepared the bot (creating → stopped).
    ConfirmBotProvisioned { runtime_id: String },
    /// Only while stopped or in error. Fields left `None` stay; a given `config` or
    /// `resources` replaces the whole previous one. `strategy_version` re-pins the bot to
    /// any existing version of its strategy.
    UpdateBot {
        name: Option<String>,
        config: Option<BotConfigInput>,
        resources: Option<ResourcesInput>,
        runtime: Option<String>,
        freqtrade_version: Option<String>,
        strategy_version: Option<u32>,
    },
    /// From stopped or error. A live bot's exchange must be out of test mode and hold
    /// every secret the exchange requires.
    StartBot,
    /// The runtime reports the bot up, with its REST API base URL (starting → running).
    ConfirmBotStarted { runtime_id: String, api_url: String },
    /// Running or starting → stopping.
    StopBot,
    /// The runtime reports the bot down (stopping → stopped).
    ConfirmBotStopped,
    /// Running → starting.
    RestartBot,
    /// Any state but deleted → error.
    ReportBotFailure { reason: String },
    /// Running → error: the runtime has lost its process, or the health monitor found it
    /// unhealthy (the reconciler then starts it again); refused from any other status,
    /// so a stop, delete or restart meanwhile wins.
    ReportBotLost { reason: String },
    /// The health monitor reaches a bot it had reported unhealthy again (error →
    /// running).
    ConfirmBotRecovered,
    /// Stops the bot first when it runs (or starts), then asks for deletion.
    DeleteBot,
    /// The runtime removed everything (deleting → deleted).
    ConfirmBotDeleted,
    /// Asks the trade sync to read the bot's trades now (running only).
    RequestTradeSync,
    /// Asks freqtrade to exit trade `trade_id` (running only); the closed trade is
    /// recorded by the next sync.
    RequestTradeClose { trade_id: i64 },
    /// The reconciler removed an instance labelled as this bot that should not have
    /// been there. Accepted in any state, also for a deleted or unknown bot: it records
    /// what the runtime did, it does not change the bot.
    RecordInstanceRemoved { runtime_id: String, reason: String },
}

/// Bot settings as the API takes them (`BotConfigInput`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BotConfigInput {
    /// 1 to 1000, or -1 for unlimited.
    pub max_open_trades: Option<i64>,
    /// A decimal number such as `"100"` or `"0.05"`, or `"unlimited"`. Text rather than a
    /// float so that freqtrade's `"unlimited"` can be expressed.
    pub stake_amount: Option<String>,
    pub pairs: Option<Vec<String>>,
    pub timeframe: Option<String>,
    /// Redundant with the mode; when given it must agree (`live` ⇔ `false`).
    pub dry_run: Option<bool>,
    /// A JSON object of further freqtrade settings. It may not hold credentials nor the
    /// keys AnyTrade sets itself (`dry_run`, `max_open_trades`, `stake_amount`,
    /// `timeframe`, `strategy`, `api_server`, `exchange.name`).
    pub extra: Option<Value>,
}

/// Resource limits as the API takes them: `cpu` like `"0.5"` or `"500m"`, `memory` like
/// `"512Mi"` or `"2Gi"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcesInput {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}
