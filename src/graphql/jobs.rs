//! Backtests and hyperopts: runs of a pinned strategy version over historical data.
//!
//! The mutations record intent only: `runBacktest` leaves a PENDING job, and the job
//! executor (a separate worker) starts it, reports progress and records the outcome.
//! Both kinds share their shape, lifecycle and listing, so one [`Job`] implementation
//! serves both; each adds its own fields (a backtest's summary, a hyperopt's search).

use anytrade_aggregates::values;
use anytrade_aggregates::{BacktestCommand, HyperoptCommand, JobInput};
use anytrade_projections::jobs::{self, BacktestRow, HyperoptRow, JobFilter, JobOrder, JobRow};
use async_graphql::dataloader::DataLoader;
use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, Json, Object, OutputType, Result, SimpleObject,
};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::context::{ContextExt, execute, parse_id};
use super::errors;
use super::exchanges::Exchange;
use super::loaders::{ExchangeLoader, JobLogLoader, StrategyLoader};
use super::pagination::{OrderDirection, Page, connection, decode_cursor, page_size};
use super::strategies::Strategy;

/// Where a job is in its life.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "anytrade_aggregates::JobStatus")]
pub enum JobStatus {
    /// Requested; waiting for the job executor.
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
}

/// One of freqtrade's hyperopt `--spaces`.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "values::HyperoptSpace")]
pub enum HyperoptSpace {
    Buy,
    Sell,
    Roi,
    Stoploss,
    Trailing,
    Protection,
    Trades,
    Default,
    All,
}

/// What a hyperopt optimizes for (picks freqtrade's `--hyperopt-loss`).
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "values::OptimizationMetric")]
pub enum OptimizationMetric {
    Sharpe,
    Profit,
    Trades,
    Drawdown,
}

/// What both kinds of job show.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct JobFields {
    pub id: ID,
    pub status: JobStatus,
    pub strategy_id: ID,
    /// The strategy version pinned when the job was requested.
    pub strategy_version: i32,
    /// The `IStrategy` class of that version.
    pub strategy_class: String,
    /// The exchange whose market data the job uses; null for jobs requested before jobs
    /// named one.
    pub exchange_id: Option<ID>,
    /// First day of the historical data, `YYYY-MM-DD`.
    pub start_date: String,
    /// Day the historical data ends (exclusive), `YYYY-MM-DD`.
    pub end_date: String,
    pub timeframe: String,
    pub stake_amount: f64,
    pub stake_currency: String,
    pub pairs: Vec<String>,
    /// Extra freqtrade settings for this run (`{}` when none were given).
    pub config: Json<Value>,
    /// What the job produced, once completed.
    pub results: Option<Json<Value>>,
    /// Why the job failed.
    pub error_message: Option<String>,
    /// The runtime's name for the job's container, pod or process, once started.
    pub runtime_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed, failed or was cancelled.
    pub completed_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub uuid: Uuid,
    #[graphql(skip)]
    pub strategy_uuid: Uuid,
    #[graphql(skip)]
    pub exchange_uuid: Option<Uuid>,
}

#[ComplexObject]
impl JobFields {
    /// The strategy the job runs; null once that strategy is deleted (`strategyVersion`
    /// and `strategyClass` still tell what ran).
    async fn strategy(&self, ctx: &Context<'_>) -> Result<Option<Strategy>> {
        ctx.data_unchecked::<DataLoader<StrategyLoader>>()
            .load_one(self.strategy_uuid)
            .await
            .map_err(|e| errors::internal("loading strategies", e))
    }

    /// The last 200 lines the job wrote (freqtrade's output), refreshed every few
    /// seconds while it runs and once more when it ends; null before it started.
    async fn log_output(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        ctx.data_unchecked::<DataLoader<JobLogLoader>>()
            .load_one(self.uuid)
            .await
            .map_err(|e| errors::internal("loading job logs", e))
    }

    /// The exchange the job uses; null once it is deleted.
    async fn exchange(&self, ctx: &Context<'_>) -> Result<Option<Exchange>> {
        let Some(id) = self.exchange_uuid else {
            return Ok(None);
        };
        ctx.data_unchecked::<DataLoader<ExchangeLoader>>()
            .load_one(id)
            .await
            .map_err(|e| errors::internal("loading exchanges", e))
    }
}

impl From<JobRow> for JobFields {
    fn from(row: JobRow) -> Self {
        Self {
            id: ID(row.id.to_string()),
            status: row.status.into(),
            strategy_id: ID(row.strategy_id.to_string()),
            strategy_version: row.strategy_version,
            strategy_class: row.strategy_class,
            exchange_id: row.exchange_id.map(|id| ID(id.to_string())),
            start_date: row.start_date.format("%Y-%m-%d").to_string(),
            end_date: row.end_date.format("%Y-%m-%d").to_string(),
            timeframe: row.timeframe,
            stake_amount: row.stake_amount,
            stake_currency: row.stake_currency,
            pairs: row.pairs,
            config: Json(row.config),
            results: row.results.map(Json),
            error_message: row.error_message,
            runtime_id: row.runtime_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
            started_at: row.started_at,
            completed_at: row.completed_at,
            uuid: row.id,
            strategy_uuid: row.strategy_id,
            exchange_uuid: row.exchange_id,
        }
    }
}

/// Headline figures of a completed backtest, read from freqtrade's statistics in
/// `results`. Each is null when the results do not carry it.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct BacktestSummary {
    pub total_trades: Option<i64>,
    /// Total profit as a ratio of the starting balance (0.05 is 5 %).
    pub profit_total: Option<f64>,
    /// Total profit in the stake currency.
    pub profit_total_abs: Option<f64>,
    /// Largest drawdown of the account, as a ratio.
    pub max_drawdown: Option<f64>,
    pub sharpe: Option<f64>,
    /// Share of winning trades, 0 to 1.
    pub win_rate: Option<f64>,
    pub best_pair: Option<String>,
    pub worst_pair: Option<String>,
}

impl BacktestSummary {
    /// Reads freqtrade's keys (`profit_total`, `max_drawdown_account`, `winrate`,
    /// `best_pair: {key}`, …), falling back to the plain names (`max_drawdown`,
    /// `sharpe_ratio`, `win_rate`, `best_pair: "BTC/USDT"`).
    pub(crate) fn from_results(results: &Value) -> Option<Self> {
        let stats = results.as_object()?;
        let number = |keys: &[&str]| keys.iter().find_map(|k| stats.get(*k)?.as_f64());
        let pair = |key: &str| {
            let value = stats.get(key)?;
            value
                .as_str()
                .or_else(|| value.get("key")?.as_str())
                .map(str::to_owned)
        };
        Some(Self {
            total_trades: stats.get("total_trades").and_then(Value::as_i64),
            profit_total: number(&["profit_total"]),
            profit_total_abs: number(&["profit_total_abs"]),
            max_drawdown: number(&["max_drawdown_account", "max_drawdown"]),
            sharpe: number(&["sharpe", "sharpe_ratio"]),
            win_rate: number(&["winrate", "win_rate"]),
            best_pair: pair("best_pair"),
            worst_pair: pair("worst_pair"),
        })
    }
}

/// One backtest: a strategy version's trades simulated over historical data.
#[derive(SimpleObject, Clone)]
pub struct Backtest {
    #[graphql(flatten)]
    pub job: JobFields,
    /// Headline figures from `results`; null until completed.
    pub summary: Option<BacktestSummary>,
}

/// One hyperopt: a search for the strategy parameters that score best on
/// `optimizationMetric`.
#[derive(SimpleObject, Clone)]
#[graphql(name = "HyperOpt")]
pub struct Hyperopt {
    #[graphql(flatten)]
    pub job: JobFields,
    pub epochs: i32,
    pub spaces: Vec<HyperoptSpace>,
    pub optimization_metric: OptimizationMetric,
    /// Percent done, 0 to 100.
    pub progress: f64,
    /// The last finished epoch, once reported.
    pub epoch: Option<i32>,
}

impl From<BacktestRow> for Backtest {
    fn from(row: BacktestRow) -> Self {
        Self {
            summary: row
                .job
                .results
                .as_ref()
                .and_then(BacktestSummary::from_results),
            job: row.job.into(),
        }
    }
}

impl From<HyperoptRow> for Hyperopt {
    fn from(row: HyperoptRow) -> Self {
        Self {
            job: row.job.into(),
            epochs: row.epochs,
            spaces: row.spaces.into_iter().map(Into::into).collect(),
            optimization_metric: row.optimization_metric.into(),
            progress: row.progress,
            epoch: row.epoch,
        }
    }
}

/// How the API shows a kind of job, and what its messages call one.
trait Shown: OutputType + From<Self::Row> {
    type Row: jobs::Job;
    const NOUN: &'static str;
}

impl Shown for Backtest {
    type Row = BacktestRow;
    const NOUN: &'static str = "backtest";
}

impl Shown for Hyperopt {
    type Row = HyperoptRow;
    const NOUN: &'static str = "hyperopt";
}

/// One backtest, for subscriptions.
pub(super) async fn load_backtest(pool: &PgPool, id: Uuid) -> Result<Option<Backtest>> {
    load(pool, id).await
}

/// One hyperopt, for subscriptions.
pub(super) async fn load_hyperopt(pool: &PgPool, id: Uuid) -> Result<Option<Hyperopt>> {
    load(pool, id).await
}

async fn load<J: Shown>(pool: &PgPool, id: Uuid) -> Result<Option<J>> {
    let row = jobs::get::<J::Row>(pool, id)
        .await
        .map_err(errors::database)?;
    Ok(row.map(J::from))
}

async fn load_existing<J: Shown>(ctx: &Context<'_>, id: Uuid) -> Result<J> {
    load(&ctx.api().pool, id)
        .await?
        .ok_or_else(|| errors::not_found("id", format!("no such {}", J::NOUN)))
}

/// What a job list is sorted by.
#[derive(Enum, Copy, Clone, Debug, Default, Eq, PartialEq)]
pub enum JobOrderField {
    #[default]
    CreatedAt,
    /// Lifecycle order: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED.
    Status,
}

/// How to sort backtests; ties go by creation time, then id, in the same direction.
#[derive(InputObject, Clone, Copy)]
pub struct BacktestOrder {
    #[graphql(default)]
    pub field: JobOrderField,
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// How to sort hyperopts; ties go by creation time, then id, in the same direction.
#[derive(InputObject, Clone, Copy)]
#[graphql(name = "HyperOptOrder")]
pub struct HyperoptOrder {
    #[graphql(default)]
    pub field: JobOrderField,
    #[graphql(default)]
    pub direction: OrderDirection,
}

#[derive(InputObject, Default)]
pub struct BacktestFilter {
    /// Only jobs in any of these statuses.
    pub status: Option<Vec<JobStatus>>,
}

#[derive(InputObject, Default)]
#[graphql(name = "HyperOptFilter")]
pub struct HyperoptFilter {
    /// Only jobs in any of these statuses.
    pub status: Option<Vec<JobStatus>>,
}

fn order(field: JobOrderField, direction: OrderDirection) -> JobOrder {
    JobOrder {
        field: match field {
            JobOrderField::CreatedAt => jobs::JobOrderField::CreatedAt,
            JobOrderField::Status => jobs::JobOrderField::Status,
        },
        direction: direction.into(),
    }
}

/// One page of jobs of kind `J`, oldest first unless `order` says otherwise.
async fn list<J: Shown>(
    ctx: &Context<'_>,
    strategy_id: Option<ID>,
    statuses: Option<Vec<JobStatus>>,
    order: Option<JobOrder>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Page<J>> {
    let filter = JobFilter {
        strategy_id: strategy_id
            .map(|id| parse_id("strategyId", &id))
            .transpose()?,
        statuses: statuses.map(|s| s.into_iter().map(Into::into).collect()),
    };
    let limit = page_size(first)?;
    let after = decode_cursor(after.as_deref())?;
    let page = jobs::list::<J::Row>(
        &ctx.api().pool,
        &filter,
        order.unwrap_or_default(),
        after.as_ref(),
        limit,
    )
    .await
    .map_err(errors::page)?;
    Ok(connection(page, after.is_some(), J::from))
}

#[derive(Default)]
pub struct JobQuery;

#[Object]
impl JobQuery {
    /// Backtests, oldest first unless `orderBy` says otherwise.
    async fn backtests(
        &self,
        ctx: &Context<'_>,
        strategy_id: Option<ID>,
        filter: Option<BacktestFilter>,
        order_by: Option<BacktestOrder>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Backtest>> {
        let order = order_by.map(|o| order(o.field, o.direction));
        let statuses = filter.unwrap_or_default().status;
        list(ctx, strategy_id, statuses, order, first, after).await
    }

    async fn backtest(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Backtest>> {
        load(&ctx.api().pool, parse_id("id", &id)?).await
    }

    /// Hyperopts, oldest first unless `orderBy` says otherwise.
    async fn hyperopts(
        &self,
        ctx: &Context<'_>,
        strategy_id: Option<ID>,
        filter: Option<HyperoptFilter>,
        order_by: Option<HyperoptOrder>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Hyperopt>> {
        let order = order_by.map(|o| order(o.field, o.direction));
        let statuses = filter.unwrap_or_default().status;
        list(ctx, strategy_id, statuses, order, first, after).await
    }

    async fn hyperopt(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Hyperopt>> {
        load(&ctx.api().pool, parse_id("id", &id)?).await
    }
}

#[derive(InputObject)]
pub struct RunBacktestInput {
    pub strategy_id: ID,
    /// Where the candles come from: its public market data (no credentials are used).
    /// May be left out when exactly one exchange exists.
    pub exchange_id: Option<ID>,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    /// `YYYY-MM-DD`, after `startDate`.
    pub end_date: String,
    /// A freqtrade timeframe: `1m`, `5m`, `1h`, `1d`, …
    pub timeframe: String,
    pub stake_amount: f64,
    pub stake_currency: String,
    /// Markets like `BTC/USDT`.
    pub pairs: Vec<String>,
    /// Extra freqtrade settings (no credentials).
    pub config: Option<Json<Value>>,
}

#[derive(InputObject)]
pub struct RunHyperoptInput {
    pub strategy_id: ID,
    /// Where the candles come from: its public market data (no credentials are used).
    /// May be left out when exactly one exchange exists.
    pub exchange_id: Option<ID>,
    /// 1 to 10000.
    pub epochs: i32,
    pub start_date: String,
    pub end_date: String,
    pub timeframe: String,
    pub stake_amount: f64,
    pub stake_currency: String,
    pub pairs: Vec<String>,
    pub optimization_metric: OptimizationMetric,
    pub spaces: Vec<HyperoptSpace>,
    pub config: Option<Json<Value>>,
}

#[derive(Default)]
pub struct JobMutation;

#[Object]
impl JobMutation {
    /// Requests a backtest of the strategy's current version. It starts PENDING; the job
    /// executor runs it.
    async fn run_backtest(&self, ctx: &Context<'_>, input: RunBacktestInput) -> Result<Backtest> {
        let strategy_id = parse_id("strategyId", &input.strategy_id)?;
        let exchange_id = input
            .exchange_id
            .map(|id| parse_id("exchangeId", &id))
            .transpose()?;
        let api = ctx.api();
        let id = Uuid::now_v7();
        let request = BacktestCommand::RequestBacktest {
            backtest_id: id,
            input: JobInput {
                strategy_id,
                exchange_id,
                start_date: input.start_date,
                end_date: input.end_date,
                timeframe: input.timeframe,
                stake_amount: input.stake_amount,
                stake_currency: input.stake_currency,
                pairs: input.pairs,
                config: input.config.map(|c| c.0),
            },
        };
        execute(ctx, &api.commands.backtests, &id, request).await?;
        load_existing(ctx, id).await
    }

    /// Cancels a pending or running backtest.
    async fn cancel_backtest(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        let api = ctx.api();
        execute(
            ctx,
            &api.commands.backtests,
            &id,
            BacktestCommand::CancelBacktest,
        )
        .await?;
        Ok(true)
    }

    /// Deletes a backtest in any status (a running one is cancelled first).
    async fn delete_backtest(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        let api = ctx.api();
        execute(
            ctx,
            &api.commands.backtests,
            &id,
            BacktestCommand::DeleteBacktest,
        )
        .await?;
        Ok(true)
    }

    /// Requests a hyperopt of the strategy's current version. It starts PENDING; the job
    /// executor runs it.
    async fn run_hyperopt(&self, ctx: &Context<'_>, input: RunHyperoptInput) -> Result<Hyperopt> {
        let strategy_id = parse_id("strategyId", &input.strategy_id)?;
        let exchange_id = input
            .exchange_id
            .map(|id| parse_id("exchangeId", &id))
            .transpose()?;
        let api = ctx.api();
        let id = Uuid::now_v7();
        let request = HyperoptCommand::RequestHyperopt {
            hyperopt_id: id,
            input: JobInput {
                strategy_id,
                exchange_id,
                start_date: input.start_date,
                end_date: input.end_date,
                timeframe: input.timeframe,
                stake_amount: input.stake_amount,
                stake_currency: input.stake_currency,
                pairs: input.pairs,
                config: input.config.map(|c| c.0),
            },
            epochs: i64::from(input.epochs),
            spaces: input
                .spaces
                .into_iter()
                .map(|s| values::HyperoptSpace::from(s).as_str().to_owned())
                .collect(),
            optimization_metric: values::OptimizationMetric::from(input.optimization_metric)
                .as_str()
                .to_owned(),
        };
        execute(ctx, &api.commands.hyperopts, &id, request).await?;
        load_existing(ctx, id).await
    }

    /// Cancels a pending or running hyperopt.
    async fn cancel_hyperopt(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        let api = ctx.api();
        execute(
            ctx,
            &api.commands.hyperopts,
            &id,
            HyperoptCommand::CancelHyperopt,
        )
        .await?;
        Ok(true)
    }

    /// Deletes a hyperopt in any status (a running one is cancelled first).
    async fn delete_hyperopt(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        let api = ctx.api();
        execute(
            ctx,
            &api.commands.hyperopts,
            &id,
            HyperoptCommand::DeleteHyperopt,
        )
        .await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn summary_reads_freqtrade_and_plain_keys() {
        let freqtrade = json!({
            "total_trades": 12, "profit_total": 0.05, "profit_total_abs": 50.0,
            "max_drawdown_account": 0.02, "sharpe": 1.5, "winrate": 0.6,
            "best_pair": {"key": "BTC/USDT", "profit_sum": 0.1}, "worst_pair": {"key": "ETH/USDT"}
        });
        assert_eq!(
            BacktestSummary::from_results(&freqtrade),
            Some(BacktestSummary {
                total_trades: Some(12),
                profit_total: Some(0.05),
                profit_total_abs: Some(50.0),
                max_drawdown: Some(0.02),
                sharpe: Some(1.5),
                win_rate: Some(0.6),
                best_pair: Some("BTC/USDT".into()),
                worst_pair: Some("ETH/USDT".into()),
            })
        );
        let plain = json!({"max_drawdown": 2.1, "sharpe_ratio": 1.8, "win_rate": 0.65, "best_pair": "BTC/USDT"});
        let summary = BacktestSummary::from_results(&plain).expect("an object");
        assert_eq!(
            (
                summary.max_drawdown,
                summary.sharpe,
                summary.win_rate,
                summary.best_pair.as_deref(),
                summary.total_trades
            ),
            (Some(2.1), Some(1.8), Some(0.65), Some("BTC/USDT"), None)
        );
        assert_eq!(BacktestSummary::from_results(&json!([1])), None);
    }
}
