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

    async fn apply_all(
        &self,
        tx: &mut PgConnection,
        events: Vec<TypedEvent>,
    ) -> Result<(), ProjectionError> {
        for event in latest_progress(events) {
            self.apply(tx, event).await?;
        }
        Ok(())
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

/// `events` with each run of consecutive progress reports of one hyperopt reduced to
/// its last report, carrying the last epoch any of them named: what applying the whole
/// run would leave. A long hyperopt reports thousands of times.
fn latest_progress(events: Vec<TypedEvent>) -> Vec<TypedEvent> {
    let reported_epoch = |event: &TypedEvent| match &event.event {
        Event::Hyperopt(HyperoptEvent::HyperoptProgressReported { epoch, .. }) => Some(*epoch),
        _ => None,
    };
    let mut kept: Vec<TypedEvent> = Vec::with_capacity(events.len());
    for mut event in events {
        let earlier = kept
            .last()
            .filter(|last| last.aggregate_id == event.aggregate_id)
            .and_then(reported_epoch);
        if let (
            Some(earlier),
            Event::Hyperopt(HyperoptEvent::HyperoptProgressReported { epoch, .. }),
        ) = (earlier, &mut event.event)
        {
            *epoch = epoch.or(earlier);
            kept.pop();
        }
        kept.push(event);
    }
    kept
}

#[cfg(test)]
mod tests {
    use anytrade_aggregates::values::Progress;

    use super::*;

    fn event(hyperopt: Uuid, position: i64, event: HyperoptEvent) -> TypedEvent {
        TypedEvent::at(hyperopt, position, Event::Hyperopt(event))
    }

    fn report(hyperopt: Uuid, position: i64, progress: f64, epoch: Option<u32>) -> TypedEvent {
        let progress = Progress::parse(progress).expect("progress");
        event(
            hyperopt,
            position,
            HyperoptEvent::HyperoptProgressReported { progress, epoch },
        )
    }

    #[test]
    fn a_run_of_reports_leaves_its_last_with_the_last_epoch_named() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let events = vec![
            report(a, 1, 10.0, Some(1)),
            report(a, 2, 20.0, Some(2)),
            report(a, 3, 30.0, None),
            report(b, 4, 5.0, Some(1)),
            report(a, 5, 40.0, Some(4)),
            event(a, 6, HyperoptEvent::HyperoptCancelled),
            report(a, 7, 50.0, None),
        ];
        let kept = latest_progress(events.clone());
        let expected = vec![
            report(a, 3, 30.0, Some(2)),
            events[3].clone(),
            events[4].clone(),
            events[5].clone(),
            events[6].clone(),
        ];
        let strip = |events: Vec<TypedEvent>| -> Vec<(i64, Event)> {
            events.into_iter().map(|e| (e.position, e.event)).collect()
        };
        assert_eq!(strip(kept), strip(expected));
    }
}
