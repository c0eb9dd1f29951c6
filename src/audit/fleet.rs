//! The whole fleet as it stood at a moment: the exchanges, strategies and bots read
//! models rebuilt from the events committed by then, into a scratch schema that is
//! read and dropped. The live read models are not touched.

use anytrade_projections::rebuild::Scratch;
use anytrade_projections::{LogPosition, Projector};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use anytrade_projections::bots::BotsProjector;
use anytrade_projections::exchanges::ExchangesProjector;
use anytrade_projections::strategies::StrategiesProjector;

/// Why the fleet cannot be shown at a time.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("the log's first event was committed at {first}; nothing existed at {time}")]
    BeforeFirstEvent {
        time: DateTime<Utc>,
        first: DateTime<Utc>,
    },
    #[error("the log is empty")]
    EmptyLog,
    #[error(transparent)]
    Projection(#[from] anytrade_projections::ProjectionError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The read models' rows at `time` (code and secrets left out).
#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    pub time: DateTime<Utc>,
    /// How many events were committed by then.
    pub events: u64,
    pub exchanges: Vec<Value>,
    pub strategies: Vec<Value>,
    pub bots: Vec<Value>,
}

pub async fn at(pool: &PgPool, time: DateTime<Utc>) -> Result<Fleet, FleetError> {
    let first = anytrade_projections::log::first_commit(pool)
        .await?
        .ok_or(FleetError::EmptyLog)?;
    if time < first {
        return Err(FleetError::BeforeFirstEvent { time, first });
    }
    let projectors: [&dyn Projector; 3] =
        [&ExchangesProjector, &StrategiesProjector, &BotsProjector];
    let schema = format!("anytrade_fleet_{}", uuid::Uuid::new_v4().simple());
    let scratch = Scratch::create(pool, &schema, &projectors).await?;
    let result = replay_and_read(pool, &scratch, &projectors, time).await;
    scratch.drop(pool).await?;
    result
}

async fn replay_and_read(
    pool: &PgPool,
    scratch: &Scratch,
    projectors: &[&dyn Projector],
    time: DateTime<Utc>,
) -> Result<Fleet, FleetError> {
    // `until` is exclusive: the fleet at `time` includes what committed at `time`.
    let until = time + chrono::Duration::microseconds(1);
    let (_, events) = scratch
        .replay(pool, projectors, LogPosition::START, Some(until))
        .await?;
    let rows = |query: String| async move {
        let rows: Option<Value> = sqlx::query_scalar(&query).fetch_one(pool).await?;
        Ok::<_, sqlx::Error>(match rows {
            Some(Value::Array(rows)) => rows,
            _ => Vec::new(),
        })
    };
    let s = scratch.quoted();
    Ok(Fleet {
        time,
        events,
        exchanges: rows(format!(
            "SELECT jsonb_agg(to_jsonb(t) || jsonb_build_object('secrets', COALESCE(
                    (SELECT jsonb_agg(s.name ORDER BY s.name) FROM {s}.exchange_secrets s
                      WHERE s.exchange_id = t.id), '[]')) ORDER BY t.created_at, t.id)
               FROM {s}.exchanges t"
        ))
        .await?,
        strategies: rows(format!(
            "SELECT jsonb_agg(to_jsonb(t) ORDER BY t.created_at, t.id) FROM {s}.strategies t"
        ))
        .await?,
        bots: rows(format!(
            "SELECT jsonb_agg(to_jsonb(t) ORDER BY t.created_at, t.id) FROM {s}.bots t"
        ))
        .await?,
    })
}
