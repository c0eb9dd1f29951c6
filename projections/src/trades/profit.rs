//! Each bot's own profit summary (freqtrade's `GET /profit`), kept in `bot_profit` by
//! the trade sync, so that freqtrade's figures can be shown beside the ones computed
//! from the recorded trades. Volatile, like the marks; it stays when the bot is deleted.

use anytrade_aggregates::values::BotId;
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// A bot's profit in freqtrade's own words. Ratios are fractions (0.01 is 1 %);
/// amounts are in the stake currency.
#[derive(Debug, Clone, PartialEq)]
pub struct BotProfit {
    pub profit_closed_coin: f64,
    pub profit_closed_ratio: Option<f64>,
    /// Closed plus open trades' profit.
    pub profit_all_coin: f64,
    pub profit_all_ratio: Option<f64>,
    pub trade_count: i64,
    pub closed_trade_count: i64,
    pub winning_trades: i64,
    pub losing_trades: i64,
    pub winrate: Option<f64>,
    pub profit_factor: Option<f64>,
    pub expectancy: Option<f64>,
    /// The largest drawdown, as a ratio and in stake currency.
    pub max_drawdown: Option<f64>,
    pub max_drawdown_abs: Option<f64>,
    pub trading_volume: Option<f64>,
    pub best_pair: Option<String>,
    pub first_trade_at: Option<DateTime<Utc>>,
    pub latest_trade_at: Option<DateTime<Utc>>,
    pub bot_started_at: Option<DateTime<Utc>>,
    /// When the trade sync read it (ignored when storing: the time of the write).
    pub updated_at: DateTime<Utc>,
}

pub async fn get(db: impl PgExecutor<'_>, bot: BotId) -> sqlx::Result<Option<BotProfit>> {
    sqlx::query_as!(
        BotProfit,
        "SELECT profit_closed_coin, profit_closed_ratio, profit_all_coin, profit_all_ratio,
                trade_count, closed_trade_count, winning_trades, losing_trades, winrate,
                profit_factor, expectancy, max_drawdown, max_drawdown_abs, trading_volume,
                best_pair, first_trade_at, latest_trade_at, bot_started_at, updated_at
           FROM bot_profit WHERE bot_id = $1",
        bot.uuid()
    )
    .fetch_optional(db)
    .await
}

/// Replaces the bot's summary with `profit`.
pub async fn store(db: impl PgExecutor<'_>, bot: BotId, profit: &BotProfit) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO bot_profit (bot_id, profit_closed_coin, profit_closed_ratio,
                                 profit_all_coin, profit_all_ratio, trade_count,
                                 closed_trade_count, winning_trades, losing_trades, winrate,
                                 profit_factor, expectancy, max_drawdown, max_drawdown_abs,
                                 trading_volume, best_pair, first_trade_at, latest_trade_at,
                                 bot_started_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, now())
         ON CONFLICT (bot_id) DO UPDATE SET
             profit_closed_coin = EXCLUDED.profit_closed_coin,
             profit_closed_ratio = EXCLUDED.profit_closed_ratio,
             profit_all_coin = EXCLUDED.profit_all_coin,
             profit_all_ratio = EXCLUDED.profit_all_ratio,
             trade_count = EXCLUDED.trade_count,
             closed_trade_count = EXCLUDED.closed_trade_count,
             winning_trades = EXCLUDED.winning_trades,
             losing_trades = EXCLUDED.losing_trades,
             winrate = EXCLUDED.winrate,
             profit_factor = EXCLUDED.profit_factor,
             expectancy = EXCLUDED.expectancy,
             max_drawdown = EXCLUDED.max_drawdown,
             max_drawdown_abs = EXCLUDED.max_drawdown_abs,
             trading_volume = EXCLUDED.trading_volume,
             best_pair = EXCLUDED.best_pair,
             first_trade_at = EXCLUDED.first_trade_at,
             latest_trade_at = EXCLUDED.latest_trade_at,
             bot_started_at = EXCLUDED.bot_started_at,
             updated_at = now()",
        bot.uuid(),
        profit.profit_closed_coin,
        profit.profit_closed_ratio,
        profit.profit_all_coin,
        profit.profit_all_ratio,
        profit.trade_count,
        profit.closed_trade_count,
        profit.winning_trades,
        profit.losing_trades,
        profit.winrate,
        profit.profit_factor,
        profit.expectancy,
        profit.max_drawdown,
        profit.max_drawdown_abs,
        profit.trading_volume,
        profit.best_pair.as_deref(),
        profit.first_trade_at,
        profit.latest_trade_at,
        profit.bot_started_at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// When the running bot synced longest ago last synced (its last snapshot here, or
/// when it started if it never synced since): the trade sync's lag. `None` when no bot
/// runs.
pub async fn oldest_sync_of_running(
    db: impl PgExecutor<'_>,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    // A snapshot from before the bot's latest start does not count for this run.
    sqlx::query_scalar(
        "SELECT min(greatest(p.updated_at, b.started_at))
           FROM bots b LEFT JOIN bot_profit p ON p.bot_id = b.id
          WHERE b.status = $1",
    )
    .bind(anytrade_aggregates::BotStatus::Running.as_str())
    .fetch_one(db)
    .await
}
