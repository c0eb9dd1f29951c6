//! Each bot's own profit summary (`GET /profit`), kept in `bot_profit` for
//! `botMetrics`: freqtrade's figures beside the ones AnyTrade computes from the trades
//! it recorded, so a difference between the two shows.

use sqlx::PgPool;
use uuid::Uuid;

use crate::freqtrade::models::Profit;

/// Replaces the bot's snapshot with `profit`.
pub async fn store(pool: &PgPool, bot: Uuid, profit: &Profit) -> sqlx::Result<()> {
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let best_pair = Some(profit.best_pair.as_str()).filter(|pair| !pair.is_empty());
    sqlx::query(
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
    )
    .bind(bot)
    .bind(profit.profit_closed_coin)
    .bind(profit.profit_closed_ratio)
    .bind(profit.profit_all_coin)
    .bind(profit.profit_all_ratio)
    .bind(count(profit.trade_count))
    .bind(count(profit.closed_trade_count))
    .bind(count(profit.winning_trades))
    .bind(count(profit.losing_trades))
    .bind(profit.winrate)
    .bind(profit.profit_factor)
    .bind(profit.expectancy)
    .bind(profit.max_drawdown)
    .bind(profit.max_drawdown_abs)
    .bind(profit.trading_volume)
    .bind(best_pair)
    .bind(profit.first_trade)
    .bind(profit.latest_trade)
    .bind(profit.bot_start)
    .execute(pool)
    .await?;
    Ok(())
}
