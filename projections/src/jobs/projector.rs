//! Keeps the `backtests` and `hyperopts` tables in step with their events. Both are
//! jobs with the same lifecycle, so they share the updates.

use anytrade_aggregates::{BacktestEvent, HyperoptEvent, JobKind, JobSpec, JobStatus};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{ProjectionError, Projector};
use crate::typed::{AggregateKind, Event, TypedEvent};

/// A lifecycle step common to both kinds of job.
enum Step {
    Started(String),
    Completed(Map<String, Value>),
    Failed(String),
    Cancelled,
    Deleted,
}

/// Applies `step` to job `id` of `kind`.
async fn apply_step(
    tx: &mut PgConnection,
    kind: JobKind,
    id: Uuid,
    step: Step,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let table = super::table(kind);
    let set =
        |columns: &str| format!("UPDATE {table} SET {columns}, updated_at = $2 WHERE id = $1");
    match step {
        Step::Started(runtime_id) => {
            sqlx::query(&set("status = $3, runtime_id = $4, started_at = $2"))
                .bind(id)
                .bind(at)
                .bind(JobStatus::Running.as_str())
                .bind(runtime_id)
                .execute(tx)
                .await?
        }
        Step::Completed(results) => {
            sqlx::query(&set("status = $3, results = $4, completed_at = $2"))
                .bind(id)
                .bind(at)
                .bind(JobStatus::Completed.as_str())
                .bind(Value::Object(results))
                .execute(tx)
                .await?
        }
        Step::Failed(error) => {
            sqlx::query(&set("status = $3, error_message = $4, completed_at = $2"))
                .bind(id)
                .bind(at)
                .bind(JobStatus::Failed.as_str())
                .bind(error)
                .execute(tx)
                .await?
        }
        Step::Cancelled => {
            sqlx::query(&set("status = $3, completed_at = $2"))
                .bind(id)
                .bind(at)
                .bind(JobStatus::Cancelled.as_str())
                .execute(tx)
                .await?
        }
        Step::Deleted => {
            sqlx::query(&format!("DELETE FROM {table} WHERE id = $1"))
                .bind(id)
                .execute(tx)
                .await?
        }
    };
    Ok(())
}

/// Inserts a requested job's spec columns ([`SPEC_COLUMNS`], binds `$1`–`$14`); further
/// columns' values follow the spec's binds.
fn insert_spec<'q>(
    sql: &'q str,
    id: Uuid,
    spec: &JobSpec,
    at: DateTime<Utc>,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(sql)
        .bind(id)
        .bind(spec.strategy_id)
        .bind(spec.strategy_version as i32)
        .bind(spec.strategy_class.clone())
        .bind(spec.dates.start())
        .bind(spec.dates.end())
        .bind(spec.timeframe.to_string())
        .bind(spec.stake_amount.amount().unwrap_or_default())
        .bind(spec.stake_currency.to_string())
        .bind(Value::from(spec.pairs.to_strings()))
        .bind(spec.config.to_value())
        .bind(at)
        .bind(spec.exchange_id)
        .bind(JobStatus::Pending.as_str())
}

const SPEC_COLUMNS: &str = "id, strategy_id, strategy_version, strategy_class, status, start_date,
    end_date, timeframe, stake_amount, stake_currency, pairs, config, created_at, updated_at,
    exchange_id";

pub struct BacktestsProjector;

#[async_trait]
impl Projector for BacktestsProjector {
    fn aggregate(&self) -> AggregateKind {
        AggregateKind::Backtest
    }

    fn name(&self) -> &'static str {
        "backtests"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["backtests"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: TypedEvent) -> Result<(), ProjectionError> {
        let Event::Backtest(change) = event.event else {
            return Ok(());
        };
        let id = event.aggregate_id;
        let at = event.committed_at;
        let step = match change {
            BacktestEvent::BacktestRequested { spec, .. } => {
                let sql = format!(
                    "INSERT INTO backtests ({SPEC_COLUMNS}) VALUES
                     ($1, $2, $3, $4, $14, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)
                     ON CONFLICT (id) DO NOTHING"
                );
                insert_spec(&sql, id, &spec, at).execute(&mut *tx).await?;
                return Ok(());
            }
            BacktestEvent::BacktestStarted { runtime_id } => Step::Started(runtime_id.to_string()),
            BacktestEvent::BacktestCompleted { results } => Step::Completed(results),
            BacktestEvent::BacktestFailed { error } => Step::Failed(error),
            BacktestEvent::BacktestCancelled => Step::Cancelled,
            BacktestEvent::BacktestDeleted => Step::Deleted,
        };
        apply_step(tx, JobKind::Backtest, id, step, at).await?;
        Ok(())
    }
}

pub struct HyperoptsProjector;

#[async_trait]
impl Projector for HyperoptsProjector {
    fn aggregate(&self) -> AggregateKind {
        AggregateKind::Hyperopt
    }

    fn name(&self) -> &'static str {
        "hyperopts"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["hyperopts"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: TypedEvent) -> Result<(), ProjectionError> {
        let Event::Hyperopt(change) = event.event else {
            return Ok(());
        };
        let id = event.aggregate_id;
        let at = event.committed_at;
        let step = match change {
            HyperoptEvent::HyperoptRequested {
                spec,
                epochs,
                spaces,
                optimization_metric,
                ..
            } => {
                let sql = format!(
                    "INSERT INTO hyperopts ({SPEC_COLUMNS}, epochs, spaces, optimization_metric, progress)
                     VALUES ($1, $2, $3, $4, $14, $5, $6, $7, $8, $9, $10, $11, $12, $12,
                             $13, $15, $16, $17, 0) ON CONFLICT (id) DO NOTHING"
                );
                insert_spec(&sql, id, &spec, at)
                    .bind(epochs.get() as i32)
                    .bind(Value::from(spaces.to_strings()))
                    .bind(optimization_metric.to_string())
                    .execute(&mut *tx)
                    .await?;
                return Ok(());
            }
            HyperoptEvent::HyperoptProgressReported { progress, epoch } => {
                sqlx::query(
                    "UPDATE hyperopts SET progress = $2, epoch = COALESCE($3, epoch), updated_at = $4
                     WHERE id = $1",
                )
                .bind(id)
                .bind(progress.get())
                .bind(epoch.map(|e| e as i32))
                .bind(at)
                .execute(&mut *tx)
                .await?;
                return Ok(());
            }
            HyperoptEvent::HyperoptStarted { runtime_id } => Step::Started(runtime_id.to_string()),
            HyperoptEvent::HyperoptCompleted { results } => Step::Completed(results),
            HyperoptEvent::HyperoptFailed { error } => Step::Failed(error),
            HyperoptEvent::HyperoptCancelled => Step::Cancelled,
            HyperoptEvent::HyperoptDeleted => Step::Deleted,
        };
        apply_step(tx, JobKind::Hyperopt, id, step, at).await?;
        Ok(())
    }
}
