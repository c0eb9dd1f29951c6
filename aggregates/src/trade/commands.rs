//! What the trade sync reports about a freqtrade trade.

use crate::values::BotId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A trade as freqtrade's API describes it when it opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeOpening {
    pub bot_id: BotId,
    /// freqtrade's own id, unique per bot.
    pub trade_id: i64,
    pub pair: String,
    pub open_date: DateTime<Utc>,
    pub open_rate: f64,
    pub amount: f64,
    pub stake_amount: f64,
    pub strategy_name: String,
    /// freqtrade reports a trade's timeframe in minutes.
    pub timeframe_minutes: u32,
}

/// How a trade closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeClosing {
    pub close_date: DateTime<Utc>,
    pub close_rate: f64,
    pub profit_abs: f64,
    /// 0.05 = 5 %.
    pub profit_ratio: f64,
    /// freqtrade's exit reason (`roi`, `stop_loss`, `force_exit`, …).
    pub exit_reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum TradeCommand {
    /// Records that the trade is open; a trade already recorded changes nothing.
    RecordTradeOpened { opening: TradeOpening },
    /// Records that the trade closed, and its opening too if the sync never saw it
    /// open; a trade already recorded closed changes nothing.
    RecordTradeClosed {
        opening: TradeOpening,
        closing: TradeClosing,
    },
}
