//! Analytics from recorded trades and backtests: a bot's results and a strategy's
//! across every bot and backtest that ran it.
//!
//! Figures come from the trades the trade sync recorded, and for open trades from the
//! profit it last read from freqtrade (`trade_marks`). A bot's metrics also carry
//! freqtrade's own summary (`bot_profit`), so the two can be compared.

use anytrade_projections::bots::{self, Owner};
use anytrade_projections::trades::profit::{self, BotProfit};
use anytrade_projections::trades::{self, Scope};
use anytrade_projections::{jobs, strategies};
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::context::{ContextExt, parse_bot_id, parse_id};
use super::errors;

/// Totals over a set of trades.
pub struct TradeStats(trades::TradeStats);

#[Object]
impl TradeStats {
    async fn trade_count(&self) -> i64 {
        self.0.trade_count
    }

    async fn open_trade_count(&self) -> i64 {
        self.0.open_trade_count
    }

    async fn closed_trade_count(&self) -> i64 {
        self.0.closed_trade_count
    }

    async fn winning_trades(&self) -> i64 {
        self.0.winning_trades
    }

    async fn losing_trades(&self) -> i64 {
        self.0.losing_trades
    }

    /// Winning closed trades over all closed trades (0 to 1); null with none closed.
    async fn win_rate(&self) -> Option<f64> {
        self.0.win_rate
    }

    /// Sum of the closed trades' absolute profit, in stake currency.
    async fn profit_closed_abs(&self) -> f64 {
        self.0.profit_closed_abs
    }

    /// Profit of the open trades now (as the last trade sync read it), in stake
    /// currency.
    async fn profit_open_abs(&self) -> f64 {
        self.0.profit_open_abs
    }

    /// Closed plus open profit.
    async fn profit_total_abs(&self) -> f64 {
        self.0.profit_total_abs
    }

    /// Largest fall of the closed-profit curve from a previous high, in stake currency.
    async fn max_drawdown_abs(&self) -> f64 {
        self.0.max_drawdown_abs
    }

    /// The pair with the highest closed profit.
    async fn best_pair(&self) -> Option<&str> {
        self.0.best_pair.as_deref()
    }

    async fn worst_pair(&self) -> Option<&str> {
        self.0.worst_pair.as_deref()
    }
}

async fn trade_stats(pool: &PgPool, scope: Scope) -> Result<TradeStats> {
    Ok(TradeStats(
        trades::stats(pool, scope).await.map_err(errors::database)?,
    ))
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
#[derive(SimpleObject)]
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

impl From<BotProfit> for FreqtradeProfit {
    fn from(p: BotProfit) -> Self {
        Self {
            profit_closed_coin: p.profit_closed_coin,
            profit_closed_ratio: p.profit_closed_ratio,
            profit_all_coin: p.profit_all_coin,
            profit_all_ratio: p.profit_all_ratio,
            trade_count: p.trade_count,
            closed_trade_count: p.closed_trade_count,
            winning_trades: p.winning_trades,
            losing_trades: p.losing_trades,
            winrate: p.winrate,
            profit_factor: p.profit_factor,
            expectancy: p.expectancy,
            max_drawdown: p.max_drawdown,
            max_drawdown_abs: p.max_drawdown_abs,
            trading_volume: p.trading_volume,
            best_pair: p.best_pair,
            first_trade_at: p.first_trade_at,
            latest_trade_at: p.latest_trade_at,
            bot_started_at: p.bot_started_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(SimpleObject, Default)]
pub struct BacktestStats {
    pub backtest_count: i64,
    pub completed_backtests: i64,
    /// The best and the mean of the completed backtests' `profit_total` (a ratio).
    pub best_profit_total: Option<f64>,
    pub mean_profit_total: Option<f64>,
}

impl From<jobs::BacktestStats> for BacktestStats {
    fn from(stats: jobs::BacktestStats) -> Self {
        Self {
            backtest_count: stats.backtest_count,
            completed_backtests: stats.completed_backtests,
            best_profit_total: stats.best_profit_total,
            mean_profit_total: stats.mean_profit_total,
        }
    }
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
        let bot = parse_bot_id("botId", &bot_id)?;
        let pool = &ctx.api().pool;
        let freqtrade = profit::get(pool, bot).await.map_err(errors::database)?;
        Ok(BotMetrics {
            bot_id,
            trades: trade_stats(pool, Scope::Bot(bot)).await?,
            freqtrade: freqtrade.map(Into::into),
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
        let exists = strategies::exists(pool, strategy)
            .await
            .map_err(errors::database)?;
        if !exists {
            return Err(errors::not_found("strategyId", "no such strategy"));
        }
        let bot_count = bots::count_of(pool, Owner::Strategy, strategy)
            .await
            .map_err(errors::database)?;
        let live = trade_stats(pool, Scope::Strategy(strategy)).await?;
        let backtests = jobs::backtest_stats(pool, strategy)
            .await
            .map_err(errors::database)?
            .into();
        Ok(StrategyPerformance {
            strategy_id,
            bot_count,
            live,
            backtests,
        })
    }
}
