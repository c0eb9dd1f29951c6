//! Each bot's own profit summary (`GET /profit`) as `bot_profit` keeps it for
//! `botMetrics`: freqtrade's figures beside the ones AnyTrade computes from the trades
//! it recorded, so a difference between the two shows.

use anytrade_aggregates::values::BotId;
use anytrade_projections::trades::profit::{self, BotProfit};
use chrono::Utc;
use sqlx::PgPool;

use crate::freqtrade::models::Profit;

/// Replaces the bot's snapshot with `profit`.
pub async fn store(pool: &PgPool, bot: BotId, profit: &Profit) -> sqlx::Result<()> {
    profit::store(pool, bot, &snapshot(profit)).await
}

fn snapshot(profit: &Profit) -> BotProfit {
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    BotProfit {
        profit_closed_coin: profit.profit_closed_coin,
        profit_closed_ratio: profit.profit_closed_ratio,
        profit_all_coin: profit.profit_all_coin,
        profit_all_ratio: profit.profit_all_ratio,
        trade_count: count(profit.trade_count),
        closed_trade_count: count(profit.closed_trade_count),
        winning_trades: count(profit.winning_trades),
        losing_trades: count(profit.losing_trades),
        winrate: profit.winrate,
        profit_factor: profit.profit_factor,
        expectancy: profit.expectancy,
        max_drawdown: profit.max_drawdown,
        max_drawdown_abs: profit.max_drawdown_abs,
        trading_volume: profit.trading_volume,
        best_pair: Some(profit.best_pair.clone()).filter(|pair| !pair.is_empty()),
        first_trade_at: profit.first_trade,
        latest_trade_at: profit.latest_trade,
        bot_started_at: profit.bot_start,
        updated_at: Utc::now(),
    }
}
