//! The trades read model: every trade each bot opened, and how it closed (kept after
//! the bot is deleted), with each bot's trades summed (`bot_trade_totals`); beside it
//! the trade sync's volatile tables, the open trades' current values (`trade_marks`)
//! and each bot's own profit summary (`bot_profit`). This module owns the four tables
//! and every query the service makes of them.

pub mod curve;
mod fleet;
mod list;
pub mod marks;
pub mod profit;
mod projector;
mod stats;

use std::collections::HashMap;

use anytrade_aggregates::values::BotId;
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

pub use fleet::{BotTrades, by_bot};
pub use list::{TradeFilter, TradeOrder, TradeOrderField, list};
pub use projector::TradesProjector;
pub use stats::{Scope, TradeStats, stats};

/// A row of the `trades` read model.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TradeRow {
    pub id: Uuid,
    #[sqlx(try_from = "Uuid")]
    pub bot_id: BotId,
    /// freqtrade's id of the trade, unique per bot.
    pub freqtrade_trade_id: i64,
    pub pair: String,
    pub is_open: bool,
    pub open_date: DateTime<Utc>,
    pub close_date: Option<DateTime<Utc>>,
    pub open_rate: f64,
    pub close_rate: Option<f64>,
    pub amount: f64,
    pub stake_amount: f64,
    pub profit_abs: Option<f64>,
    pub profit_ratio: Option<f64>,
    pub exit_reason: Option<String>,
    pub strategy_name: String,
    pub timeframe_minutes: i32,
}

const SELECT: &str = "SELECT id, bot_id, freqtrade_trade_id, pair, is_open, open_date, close_date,
    open_rate, close_rate, amount, stake_amount, profit_abs, profit_ratio, exit_reason,
    strategy_name, timeframe_minutes FROM trades";

/// One trade by its aggregate id.
pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<TradeRow>> {
    sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// One trade by its bot and freqtrade's id of it.
pub async fn of_bot(
    db: impl PgExecutor<'_>,
    bot: BotId,
    freqtrade_trade_id: i64,
) -> sqlx::Result<Option<TradeRow>> {
    sqlx::query_as(&format!(
        "{SELECT} WHERE bot_id = $1 AND freqtrade_trade_id = $2"
    ))
    .bind(bot.uuid())
    .bind(freqtrade_trade_id)
    .fetch_optional(db)
    .await
}

/// The trades recorded for `bot`: freqtrade's id → still open.
pub async fn recorded(db: impl PgExecutor<'_>, bot: BotId) -> sqlx::Result<HashMap<i64, bool>> {
    let rows = sqlx::query!(
        "SELECT freqtrade_trade_id, is_open FROM trades WHERE bot_id = $1",
        bot.uuid()
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.freqtrade_trade_id, row.is_open))
        .collect())
}
