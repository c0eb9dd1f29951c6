//! The backtests and hyperopts read models, and the last lines of each job's log
//! (`job_logs`, kept by the job executor). Both kinds of job share their columns and
//! lifecycle (pending → running → completed | failed | cancelled); a hyperopt adds its
//! search. This module owns the three tables: the projector writes the first two, and
//! every query the service makes of them is here.

mod list;
pub mod logs;
mod projector;

use anytrade_aggregates::values::{HyperoptSpace, OptimizationMetric};
use anytrade_aggregates::{JobKind, JobStatus};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Row};
use uuid::Uuid;

pub use list::{JobFilter, JobOrder, JobOrderField, list};
pub use projector::{BacktestsProjector, HyperoptsProjector};

use crate::stored;

/// The columns both read models share.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub id: Uuid,
    pub strategy_id: Uuid,
    pub strategy_version: i32,
    pub strategy_class: String,
    /// `None` for jobs requested before jobs named an exchange.
    pub exchange_id: Option<Uuid>,
    pub status: JobStatus,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub timeframe: String,
    pub stake_amount: f64,
    pub stake_currency: String,
    pub pairs: Vec<String>,
    pub config: Value,
    pub runtime_id: Option<String>,
    pub results: Option<Value>,
    pub error_message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl sqlx::FromRow<'_, PgRow> for JobRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        let pairs: sqlx::types::Json<Vec<String>> = row.try_get("pairs")?;
        Ok(Self {
            id: row.try_get("id")?,
            strategy_id: row.try_get("strategy_id")?,
            strategy_version: row.try_get("strategy_version")?,
            strategy_class: row.try_get("strategy_class")?,
            exchange_id: row.try_get("exchange_id")?,
            status: stored::column(row, "status", JobStatus::parse)?,
            start_date: row.try_get("start_date")?,
            end_date: row.try_get("end_date")?,
            timeframe: row.try_get("timeframe")?,
            stake_amount: row.try_get("stake_amount")?,
            stake_currency: row.try_get("stake_currency")?,
            pairs: pairs.0,
            config: row.try_get("config")?,
            runtime_id: row.try_get("runtime_id")?,
            results: row.try_get("results")?,
            error_message: row.try_get("error_message")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            started_at: row.try_get("started_at")?,
            completed_at: row.try_get("completed_at")?,
        })
    }
}

/// A row of the `backtests` read model.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestRow {
    pub job: JobRow,
}

impl sqlx::FromRow<'_, PgRow> for BacktestRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            job: JobRow::from_row(row)?,
        })
    }
}

/// A row of the `hyperopts` read model.
#[derive(Debug, Clone, PartialEq)]
pub struct HyperoptRow {
    pub job: JobRow,
    pub epochs: i32,
    pub spaces: Vec<HyperoptSpace>,
    pub optimization_metric: OptimizationMetric,
    /// Percent done, 0 to 100.
    pub progress: f64,
    /// The last finished epoch, once reported.
    pub epoch: Option<i32>,
}

impl sqlx::FromRow<'_, PgRow> for HyperoptRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        let spaces: sqlx::types::Json<Vec<String>> = row.try_get("spaces")?;
        let spaces = spaces
            .0
            .iter()
            .map(|space| HyperoptSpace::parse(space))
            .collect::<Result<_, _>>()
            .map_err(|e| sqlx::Error::ColumnDecode {
                index: "spaces".to_owned(),
                source: Box::new(e),
            })?;
        Ok(Self {
            job: JobRow::from_row(row)?,
            epochs: row.try_get("epochs")?,
            spaces,
            optimization_metric: stored::column(
                row,
                "optimization_metric",
                OptimizationMetric::parse,
            )?,
            progress: row.try_get("progress")?,
            epoch: row.try_get("epoch")?,
        })
    }
}

/// What the queries need to know of each kind of job.
pub trait Job: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin {
    const KIND: JobKind;
    /// Columns beyond [`JOB_COLUMNS`], each after a comma.
    const EXTRA_COLUMNS: &'static str;

    fn job(&self) -> &JobRow;
}

impl Job for BacktestRow {
    const KIND: JobKind = JobKind::Backtest;
    const EXTRA_COLUMNS: &'static str = "";

    fn job(&self) -> &JobRow {
        &self.job
    }
}

impl Job for HyperoptRow {
    const KIND: JobKind = JobKind::Hyperopt;
    const EXTRA_COLUMNS: &'static str = ", epochs, spaces, optimization_metric, progress, epoch";

    fn job(&self) -> &JobRow {
        &self.job
    }
}

/// The read model of a kind of job.
pub(crate) fn table(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Backtest => "backtests",
        JobKind::Hyperopt => "hyperopts",
    }
}

const JOB_COLUMNS: &str = "id, strategy_id, strategy_version, strategy_class, exchange_id, status,
    start_date, end_date, timeframe, stake_amount, stake_currency, pairs, config, runtime_id,
    results, error_message, created_at, updated_at, started_at, completed_at";

fn select<J: Job>() -> String {
    format!(
        "SELECT {JOB_COLUMNS}{} FROM {}",
        J::EXTRA_COLUMNS,
        table(J::KIND)
    )
}

pub async fn get<J: Job>(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<J>> {
    sqlx::query_as(&format!("{} WHERE id = $1", select::<J>()))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The pending and running jobs of `kind`, oldest first: the job executor's work.
pub async fn unfinished(
    db: impl PgExecutor<'_>,
    kind: JobKind,
) -> sqlx::Result<Vec<(Uuid, JobStatus)>> {
    let rows = sqlx::query(&format!(
        "SELECT id, status FROM {} WHERE status IN ($1, $2) ORDER BY created_at, id",
        table(kind)
    ))
    .bind(JobStatus::Pending.as_str())
    .bind(JobStatus::Running.as_str())
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("id")?,
                stored::column(row, "status", JobStatus::parse)?,
            ))
        })
        .collect()
}

/// How many jobs of `kind` are in each status (statuses no job has are left out).
pub async fn counts(
    db: impl PgExecutor<'_>,
    kind: JobKind,
) -> sqlx::Result<std::collections::HashMap<JobStatus, i64>> {
    let rows = sqlx::query(&format!(
        "SELECT status, count(*) AS jobs FROM {} GROUP BY status",
        table(kind)
    ))
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                stored::column(row, "status", JobStatus::parse)?,
                row.try_get("jobs")?,
            ))
        })
        .collect()
}

/// A strategy's backtests in figures.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct BacktestStats {
    pub backtest_count: i64,
    pub completed_backtests: i64,
    /// The best and the mean of the completed backtests' `profit_total` (a ratio).
    pub best_profit_total: Option<f64>,
    pub mean_profit_total: Option<f64>,
}

pub async fn backtest_stats(
    db: impl PgExecutor<'_>,
    strategy_id: Uuid,
) -> sqlx::Result<BacktestStats> {
    sqlx::query_as(
        "SELECT count(*) AS backtest_count,
                count(*) FILTER (WHERE status = $2) AS completed_backtests,
                max((results->>'profit_total')::float8) FILTER (WHERE status = $2) AS best_profit_total,
                avg((results->>'profit_total')::float8) FILTER (WHERE status = $2) AS mean_profit_total
           FROM backtests WHERE strategy_id = $1",
    )
    .bind(strategy_id)
    .bind(JobStatus::Completed.as_str())
    .fetch_one(db)
    .await
}
