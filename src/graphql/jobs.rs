//! Backtests and hyperopts: runs of a pinned strategy version over historical data.
//!
//! The mutations record intent only: `runBacktest` leaves a PENDING job, and the job
//! executor (a separate worker) starts it, reports progress and records the outcome.
//! Both kinds share their shape, lifecycle and listing, so one [`Job`] implementation
//! serves both; each adds its own fields (a backtest's summary, a hyperopt's search).

use anytrade_aggregates::values;
use anytrade_aggregates::{BacktestCommand, HyperoptCommand};
use async_graphql::dataloader::DataLoader;
use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, Json, Object, OutputType, Result, SimpleObject,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::context::{ContextExt, execute, parse_id};
use super::errors;
use super::exchanges::Exchange;
use super::loaders::{ExchangeLoader, JobLogLoader, StrategyLoader};
use super::pagination::OrderDirection;
use super::pagination::{Cursor, Page, connection, page_size};
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

/// Every status in lifecycle order: the order `STATUS` sorts by.
const STATUS_ORDER: [JobStatus; 5] = [
    JobStatus::Pending,
    JobStatus::Running,
    JobStatus::Completed,
    JobStatus::Failed,
    JobStatus::Cancelled,
];

impl JobStatus {
    fn as_str(self) -> &'static str {
        anytrade_aggregates::JobStatus::from(self).as_str()
    }

    fn parse(text: &str) -> Option<Self> {
        STATUS_ORDER.into_iter().find(|s| s.as_str() == text)
    }

    /// Position in [`STATUS_ORDER`], counted from 1 as SQL's `array_position` does.
    fn rank(self) -> i32 {
        STATUS_ORDER
            .iter()
            .position(|s| *s == self)
            .map_or(0, |i| i as i32 + 1)
    }
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

/// The columns both read models share.
#[derive(sqlx::FromRow)]
pub struct JobRow {
    id: Uuid,
    strategy_id: Uuid,
    strategy_version: i32,
    strategy_class: String,
    exchange_id: Option<Uuid>,
    status: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    timeframe: String,
    stake_amount: f64,
    stake_currency: String,
    pairs: sqlx::types::Json<Vec<String>>,
    config: Value,
    runtime_id: Option<String>,
    results: Option<Value>,
    error_message: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
}

const JOB_COLUMNS: &str = "id, strategy_id, strategy_version, strategy_class, exchange_id, status,
    start_date, end_date, timeframe, stake_amount, stake_currency, pairs, config, runtime_id,
    results, error_message, created_at, updated_at, started_at, completed_at";

/// A read-model value the projector could not have written: a bug, not user input.
fn corrupt(what: &str, value: &str) -> async_graphql::Error {
    errors::internal(
        "reading the read models",
        format!("unknown {what} {value:?}"),
    )
}

impl TryFrom<JobRow> for JobFields {
    type Error = async_graphql::Error;

    fn try_from(row: JobRow) -> Result<Self> {
        let status = JobStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?;
        Ok(Self {
            id: ID(row.id.to_string()),
            status,
            strategy_id: ID(row.strategy_id.to_string()),
            strategy_version: row.strategy_version,
            strategy_class: row.strategy_class,
            exchange_id: row.exchange_id.map(|id| ID(id.to_string())),
            start_date: row.start_date.format("%Y-%m-%d").to_string(),
            end_date: row.end_date.format("%Y-%m-%d").to_string(),
            timeframe: row.timeframe,
            stake_amount: row.stake_amount,
            stake_currency: row.stake_currency,
            pairs: row.pairs.0,
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
        })
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
    fn from_results(results: &Value) -> Option<Self> {
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

#[derive(sqlx::FromRow)]
pub struct HyperoptRow {
    #[sqlx(flatten)]
    job: JobRow,
    epochs: i32,
    spaces: sqlx::types::Json<Vec<String>>,
    optimization_metric: String,
    progress: f64,
    epoch: Option<i32>,
}

/// What the listing and loading code needs to know about a kind of job.
trait Job: OutputType + Sized {
    /// The read model (`backtests`, `hyperopts`).
    const TABLE: &'static str;
    /// Columns beyond [`JOB_COLUMNS`], each after a comma.
    const EXTRA_COLUMNS: &'static str;
    /// What messages call one (`backtest`).
    const NOUN: &'static str;
    type Row: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin;

    fn from_row(row: Self::Row) -> Result<Self>;
    fn fields(&self) -> &JobFields;
}

impl Job for Backtest {
    const TABLE: &'static str = "backtests";
    const EXTRA_COLUMNS: &'static str = "";
    const NOUN: &'static str = "backtest";
    type Row = JobRow;

    fn from_row(row: JobRow) -> Result<Self> {
        let summary = row.results.as_ref().and_then(BacktestSummary::from_results);
        Ok(Self {
            job: row.try_into()?,
            summary,
        })
    }

    fn fields(&self) -> &JobFields {
        &self.job
    }
}

impl Job for Hyperopt {
    const TABLE: &'static str = "hyperopts";
    const EXTRA_COLUMNS: &'static str = ", epochs, spaces, optimization_metric, progress, epoch";
    const NOUN: &'static str = "hyperopt";
    type Row = HyperoptRow;

    fn from_row(row: HyperoptRow) -> Result<Self> {
        let spaces = row
            .spaces
            .0
            .iter()
            .map(|s| {
                values::HyperoptSpace::parse(s)
                    .map(HyperoptSpace::from)
                    .map_err(|_| corrupt("hyperopt space", s))
            })
            .collect::<Result<_>>()?;
        let metric = values::OptimizationMetric::parse(&row.optimization_metric)
            .map_err(|_| corrupt("optimization metric", &row.optimization_metric))?;
        Ok(Self {
            job: row.job.try_into()?,
            epochs: row.epochs,
            spaces,
            optimization_metric: metric.into(),
            progress: row.progress,
            epoch: row.epoch,
        })
    }

    fn fields(&self) -> &JobFields {
        &self.job
    }
}

fn select<J: Job>() -> String {
    format!("SELECT {JOB_COLUMNS}{} FROM {}", J::EXTRA_COLUMNS, J::TABLE)
}

/// One backtest, for subscriptions.
pub(super) async fn load_backtest(pool: &PgPool, id: Uuid) -> Result<Option<Backtest>> {
    load(pool, id).await
}

/// One hyperopt, for subscriptions.
pub(super) async fn load_hyperopt(pool: &PgPool, id: Uuid) -> Result<Option<Hyperopt>> {
    load(pool, id).await
}

async fn load<J: Job>(pool: &PgPool, id: Uuid) -> Result<Option<J>> {
    let row: Option<J::Row> = sqlx::query_as(&format!("{} WHERE id = $1", select::<J>()))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(errors::database)?;
    row.map(J::from_row).transpose()
}

async fn load_existing<J: Job>(ctx: &Context<'_>, id: Uuid) -> Result<J> {
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

/// A sort order of a job list.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Order {
    field: JobOrderField,
    direction: OrderDirection,
}

impl Order {
    /// Oldest first, as every list of the API, when the caller gives no order.
    const DEFAULT: Self = Self {
        field: JobOrderField::CreatedAt,
        direction: OrderDirection::Asc,
    };

    /// Names the order inside its cursors, so a cursor is only used with its own order.
    fn tag(self) -> &'static str {
        match (self.field, self.direction) {
            (JobOrderField::CreatedAt, OrderDirection::Asc) => "created_at.asc",
            (JobOrderField::CreatedAt, OrderDirection::Desc) => "created_at.desc",
            (JobOrderField::Status, OrderDirection::Asc) => "status.asc",
            (JobOrderField::Status, OrderDirection::Desc) => "status.desc",
        }
    }

    /// The cursor of `job` in this order: the order's tag, the status rank and the
    /// creation time (the id is the cursor's own).
    fn cursor(self, job: &JobFields) -> Cursor {
        Cursor {
            key: format!(
                "{}|{}|{}",
                self.tag(),
                job.status.rank(),
                job.created_at.to_rfc3339()
            ),
            id: job.uuid,
        }
    }

    /// Reads back what [`Self::cursor`] wrote: (status rank, creation time).
    fn position(self, cursor: &Cursor) -> Result<(i32, DateTime<Utc>)> {
        let foreign = || errors::validation("after", "not a cursor of this list and order");
        let mut parts = cursor.key.splitn(3, '|');
        let (Some(tag), Some(rank), Some(at)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(foreign());
        };
        if tag != self.tag() {
            return Err(foreign());
        }
        Ok((
            rank.parse().map_err(|_| foreign())?,
            at.parse().map_err(|_| foreign())?,
        ))
    }
}

/// SQL for a row's [`JobStatus::rank`].
fn status_rank_sql() -> String {
    let names: Vec<String> = STATUS_ORDER
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!(
        "array_position(ARRAY[{}]::text[], status)",
        names.join(", ")
    )
}

/// A page request for a job list.
struct ListQuery {
    strategy_id: Option<Uuid>,
    statuses: Option<Vec<JobStatus>>,
    order: Order,
    limit: i64,
    after: Option<Cursor>,
}

impl ListQuery {
    fn new(
        strategy_id: Option<ID>,
        statuses: Option<Vec<JobStatus>>,
        order: Option<Order>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Self> {
        Ok(Self {
            strategy_id: strategy_id
                .map(|id| parse_id("strategyId", &id))
                .transpose()?,
            statuses,
            order: order.unwrap_or(Order::DEFAULT),
            limit: page_size(first)?,
            after: Cursor::decode(after.as_deref())?,
        })
    }

    fn push_filter(&self, query: &mut QueryBuilder<'_, Postgres>) {
        query.push(" WHERE TRUE");
        if let Some(strategy_id) = self.strategy_id {
            query.push(" AND strategy_id = ").push_bind(strategy_id);
        }
        if let Some(statuses) = &self.statuses {
            let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
            query.push(" AND status = ANY(").push_bind(names).push(")");
        }
    }

    /// One page of `J`, by keyset: rows strictly after the cursor in the order.
    async fn run<J: Job>(self, pool: &PgPool) -> Result<Page<J>> {
        let mut count = QueryBuilder::new(format!("SELECT count(*) FROM {}", J::TABLE));
        self.push_filter(&mut count);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(pool)
            .await
            .map_err(errors::database)?;

        let keys = match self.order.field {
            JobOrderField::CreatedAt => vec!["created_at".to_owned(), "id".to_owned()],
            JobOrderField::Status => {
                vec![status_rank_sql(), "created_at".to_owned(), "id".to_owned()]
            }
        };
        let (after, direction) = match self.order.direction {
            OrderDirection::Asc => (">", ""),
            OrderDirection::Desc => ("<", " DESC"),
        };
        let mut page = QueryBuilder::new(select::<J>());
        self.push_filter(&mut page);
        if let Some(cursor) = &self.after {
            let (rank, created_at) = self.order.position(cursor)?;
            page.push(format!(" AND ({}) {after} (", keys.join(", ")));
            if self.order.field == JobOrderField::Status {
                page.push_bind(rank).push(", ");
            }
            page.push_bind(created_at)
                .push(", ")
                .push_bind(cursor.id)
                .push(")");
        }
        let sorted: Vec<String> = keys.iter().map(|k| format!("{k}{direction}")).collect();
        page.push(format!(" ORDER BY {} LIMIT ", sorted.join(", ")))
            .push_bind(self.limit + 1);
        let rows: Vec<J::Row> = page
            .build_query_as()
            .fetch_all(pool)
            .await
            .map_err(errors::database)?;
        let jobs = rows.into_iter().map(J::from_row).collect::<Result<_>>()?;
        let order = self.order;
        Ok(connection(
            jobs,
            self.limit,
            self.after.is_some(),
            total,
            |job: &J| order.cursor(job.fields()),
        ))
    }
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
        let order = order_by.map(|o| Order {
            field: o.field,
            direction: o.direction,
        });
        let statuses = filter.unwrap_or_default().status;
        ListQuery::new(strategy_id, statuses, order, first, after)?
            .run(&ctx.api().pool)
            .await
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
        let order = order_by.map(|o| Order {
            field: o.field,
            direction: o.direction,
        });
        let statuses = filter.unwrap_or_default().status;
        ListQuery::new(strategy_id, statuses, order, first, after)?
            .run(&ctx.api().pool)
            .await
    }

    async fn hyperopt(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Hyperopt>> {
        load(&ctx.api().pool, parse_id("id", &id)?).await
    }
}

#[derive(InputObject)]
pub struct RunBacktestInput {
    pub strategy_id: ID,
    /// Where the candles come from: its public market data (no credentials are used).
    pub exchange_id: ID,
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
    pub exchange_id: ID,
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
        let exchange_id = parse_id("exchangeId", &input.exchange_id)?;
        let api = ctx.api();
        let id = Uuid::now_v7();
        let request = BacktestCommand::RequestBacktest {
            backtest_id: id,
            strategy_id,
            exchange_id,
            start_date: input.start_date,
            end_date: input.end_date,
            timeframe: input.timeframe,
            stake_amount: input.stake_amount,
            stake_currency: input.stake_currency,
            pairs: input.pairs,
            config: input.config.map(|c| c.0),
        };
        execute(ctx, &api.commands.backtests, &id.to_string(), request).await?;
        load_existing(ctx, id).await
    }

    /// Cancels a pending or running backtest.
    async fn cancel_backtest(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        let api = ctx.api();
        execute(
            ctx,
            &api.commands.backtests,
            &id.to_string(),
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
            &id.to_string(),
            BacktestCommand::DeleteBacktest,
        )
        .await?;
        Ok(true)
    }

    /// Requests a hyperopt of the strategy's current version. It starts PENDING; the job
    /// executor runs it.
    async fn run_hyperopt(&self, ctx: &Context<'_>, input: RunHyperoptInput) -> Result<Hyperopt> {
        let strategy_id = parse_id("strategyId", &input.strategy_id)?;
        let exchange_id = parse_id("exchangeId", &input.exchange_id)?;
        let api = ctx.api();
        let id = Uuid::now_v7();
        let request = HyperoptCommand::RequestHyperopt {
            hyperopt_id: id,
            strategy_id,
            exchange_id,
            start_date: input.start_date,
            end_date: input.end_date,
            timeframe: input.timeframe,
            stake_amount: input.stake_amount,
            stake_currency: input.stake_currency,
            pairs: input.pairs,
            config: input.config.map(|c| c.0),
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
        execute(ctx, &api.commands.hyperopts, &id.to_string(), request).await?;
        load_existing(ctx, id).await
    }

    /// Cancels a pending or running hyperopt.
    async fn cancel_hyperopt(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        let api = ctx.api();
        execute(
            ctx,
            &api.commands.hyperopts,
            &id.to_string(),
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
            &id.to_string(),
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
    fn status_ranks_follow_the_lifecycle_and_match_the_sql() {
        let ranks: Vec<i32> = STATUS_ORDER.iter().map(|s| s.rank()).collect();
        assert_eq!(ranks, [1, 2, 3, 4, 5]);
        assert_eq!(
            status_rank_sql(),
            "array_position(ARRAY['pending', 'running', 'completed', 'failed', 'cancelled']::text[], status)"
        );
        for status in STATUS_ORDER {
            assert_eq!(JobStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(JobStatus::parse("done"), None);
    }

    #[test]
    fn cursors_belong_to_their_order() {
        let job = JobFields {
            id: ID("x".into()),
            status: JobStatus::Running,
            strategy_id: ID("y".into()),
            strategy_version: 1,
            strategy_class: "A".into(),
            exchange_id: None,
            start_date: "2024-01-01".into(),
            end_date: "2024-02-01".into(),
            timeframe: "5m".into(),
            stake_amount: 10.0,
            stake_currency: "USDT".into(),
            pairs: vec![],
            config: Json(json!({})),
            results: None,
            error_message: None,
            runtime_id: None,
            created_at: "2026-11-24T20:00:00.123456Z".parse().expect("time"),
            updated_at: Utc::now(),
            started_at: None,
            completed_at: None,
            uuid: Uuid::now_v7(),
            strategy_uuid: Uuid::now_v7(),
            exchange_uuid: None,
        };
        let by_status = Order {
            field: JobOrderField::Status,
            direction: OrderDirection::Desc,
        };
        let cursor = by_status.cursor(&job);
        assert_eq!(
            by_status.position(&cursor).expect("own order"),
            (2, job.created_at)
        );
        assert!(Order::DEFAULT.position(&cursor).is_err());
        let garbage = Cursor {
            key: "status.desc|x|y".into(),
            id: job.uuid,
        };
        assert!(by_status.position(&garbage).is_err());
    }

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
