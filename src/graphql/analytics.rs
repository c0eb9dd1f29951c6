//! Analytics from recorded trades and backtests: a bot's results and a strategy's
//! across every bot and backtest that ran it.
//!
//! Figures come from the trades the trade sync recorded, and for open trades from the
//! profit it last read from freqtrade (`trade_marks`). A bot's metrics also carry
//! freqtrade's own summary (`bot_profit`), so the two can be compared.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::context::{ContextExt, parse_id};
use super::errors;

/// Totals over a set of trades.
#[derive(SimpleObject, sqlx::FromRow, Default)]
pub struct TradeStats {
    pub trade_count: i64,
    pub open_trade_count: i64,
    pub closed_trade_count: i64,
    pub winning_trades: i64,
    pub losing_trades: i64,
    /// Winning closed trades over all closed trades (0 to 1); null with none closed.
    pub win_rate: Option<f64>,
    /// Sum of the closed trades' absolute profit, in stake currency.
    pub profit_closed_abs: f64,
    /// Profit of the open trades now (as the last trade sync read it), in stake
    /// currency.
    pub profit_open_abs: f64,
    /// Closed plus open profit.
    #[sqlx(default)]
    pub profit_total_abs: f64,
    /// Largest fall of the closed-profit curve from a previous high, in stake currency.
    #[sqlx(default)]
    pub max_drawdown_abs: f64,
    /// The pair with the highest closed profit.
    pub best_pair: Option<String>,
    pub worst_pair: Option<String>,
}

/// Statistics over the trades `scope` selects (a `WHERE` on `trades t`).
async fn trade_stats(pool: &PgPool, scope: &str, id: Uuid) -> Result<TradeStats> {
    let sql = format!(
        "WITH scoped AS (SELECT t.* FROM trades t WHERE {scope}),
              closed AS (SELECT pair, profit_abs, close_date, id FROM scoped WHERE NOT is_open),
              pairs AS (SELECT pair, sum(profit_abs) AS profit FROM closed GROUP BY pair)
         SELECT (SELECT count(*) FROM scoped) AS trade_count,
                (SELECT count(*) FROM scoped WHERE is_open) AS open_trade_count,
                (SELECT count(*) FROM closed) AS closed_trade_count,
                (SELECT count(*) FROM closed WHERE profit_abs > 0) AS winning_trades,
                (SELECT count(*) FROM closed WHERE profit_abs < 0) AS losing_trades,
                (SELECT count(*) FILTER (WHERE profit_abs > 0)::float8 / nullif(count(*), 0) FROM closed) AS win_rate,
                (SELECT coalesce(sum(profit_abs), 0) FROM closed) AS profit_closed_abs,
                (SELECT coalesce(sum(m.profit_abs), 0) FROM scoped s
                   JOIN trade_marks m
                     ON m.bot_id = s.bot_id AND m.freqtrade_trade_id = s.freqtrade_trade_id
                  WHERE s.is_open) AS profit_open_abs,
                (SELECT pair FROM pairs ORDER BY profit DESC, pair LIMIT 1) AS best_pair,
                (SELECT pair FROM pairs ORDER BY profit ASC, pair LIMIT 1) AS worst_pair"
    );
    let mut stats: TradeStats = sqlx::query_as(&sql)
        .bind(id)
        .fetch_one(pool)
        .await
        .map_err(errors::database)?;
    stats.max_drawdown_abs = max_drawdown(pool, scope, id).await?;
    stats.profit_total_abs = stats.profit_closed_abs + stats.profit_open_abs;
    Ok(stats)
}

/// The largest fall of the cumulative closed profit from its running high (which
/// starts at 0: money before the first trade).
async fn max_drawdown(pool: &PgPool, scope: &str, id: Uuid) -> Result<f64> {
    let profits: Vec<f64> = sqlx::query_scalar(&format!(
        "SELECT t.profit_abs FROM trades t WHERE {scope} AND NOT t.is_open
          ORDER BY t.close_date, t.id"
    ))
    .bind(id)
    .fetch_all(pool)
    .await
    .map_err(errors::database)?;
    Ok(drawdown(&profits))
}

fn drawdown(profits: &[f64]) -> f64 {
    let (mut equity, mut peak, mut worst) = (0.0_f64, 0.0_f64, 0.0_f64);
    for profit in profits {
        equity += profit;
        peak = peak.max(equity);
        worst = worst.max(peak - equity);
    }
    worst
}

#[derive(SimpleObject)]
pub struct BotMetrics {
    pub bot_id: ID,
    #[graphql(flatten)]
    pub trades: TradeStats,
    /// The bot's own summary, as the trade sync last read it from freqtrade; null
    /// until the bot's first sync.
    pub freqtrade: Option<FreqtradeProfit>,
}

/// A bot's profit summary in freqtrade's own words (`GET /profit`). Ratios are
/// fractions (0.01 is 1 %); amounts are in the stake currency.
#[derive(SimpleObject, sqlx::FromRow)]
pub struct FreqtradeProfit {
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
    /// When the trade sync read it.
    pub updated_at: DateTime<Utc>,
}

#[derive(SimpleObject, sqlx::FromRow, Default)]
pub struct BacktestStats {
    pub backtest_count: i64,
    pub completed_backtests: i64,
    /// The best and the mean of the completed backtests' `profit_total` (a ratio).
    pub best_profit_total: Option<f64>,
    pub mean_profit_total: Option<f64>,
}

#[derive(SimpleObject)]
pub struct StrategyPerformance {
    pub strategy_id: ID,
    /// Bots that run the strategy now.
    pub bot_count: i64,
    /// Trades of those bots.
    pub live: TradeStats,
    pub backtests: BacktestStats,
}

#[derive(Default)]
pub struct AnalyticsQuery;

#[Object]
impl AnalyticsQuery {
    /// A bot's results from its recorded trades (also after the bot was deleted).
    async fn bot_metrics(&self, ctx: &Context<'_>, bot_id: ID) -> Result<BotMetrics> {
        let bot = parse_id("botId", &bot_id)?;
        let pool = &ctx.api().pool;
        let freqtrade = sqlx::query_as("SELECT * FROM bot_profit WHERE bot_id = $1")
            .bind(bot)
            .fetch_optional(pool)
            .await
            .map_err(errors::database)?;
        Ok(BotMetrics {
            bot_id,
            trades: trade_stats(pool, "t.bot_id = $1", bot).await?,
            freqtrade,
        })
    }

    /// A strategy's results across the bots that run it and its backtests.
    async fn strategy_performance(
        &self,
        ctx: &Context<'_>,
        strategy_id: ID,
    ) -> Result<StrategyPerformance> {
        let strategy = parse_id("strategyId", &strategy_id)?;
        let pool = &ctx.api().pool;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM strategies WHERE id = $1)")
                .bind(strategy)
                .fetch_one(pool)
                .await
                .map_err(errors::database)?;
        if !exists {
            return Err(errors::not_found("strategyId", "no such strategy"));
        }
        let bot_count: i64 = sqlx::query_scalar("SELECT count(*) FROM bots WHERE strategy_id = $1")
            .bind(strategy)
            .fetch_one(pool)
            .await
            .map_err(errors::database)?;
        let live = trade_stats(
            pool,
            "t.bot_id IN (SELECT b.id FROM bots b WHERE b.strategy_id = $1)",
            strategy,
        )
        .await?;
        let backtests: BacktestStats = sqlx::query_as(
            "SELECT count(*) AS backtest_count,
                    count(*) FILTER (WHERE status = 'completed') AS completed_backtests,
                    max((results->>'profit_total')::float8) FILTER (WHERE status = 'completed') AS best_profit_total,
                    avg((results->>'profit_total')::float8) FILTER (WHERE status = 'completed') AS mean_profit_total
               FROM backtests WHERE strategy_id = $1",
        )
        .bind(strategy)
        .fetch_one(pool)
        .await
        .map_err(errors::database)?;
        Ok(StrategyPerformance {
            strategy_id,
            bot_count,
            live,
            backtests,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::drawdown;

    #[test]
    fn drawdown_is_the_largest_fall_from_a_previous_high() {
        assert_eq!(drawdown(&[]), 0.0);
        assert_eq!(drawdown(&[5.0, 3.0]), 0.0);
        assert_eq!(drawdown(&[-2.0]), 2.0);
        assert_eq!(drawdown(&[10.0, -4.0, 2.0, -7.0, 20.0]), 9.0);
    }
}
