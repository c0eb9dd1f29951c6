//! postgres-es's event repository with one change: a command's events are appended in a
//! single INSERT statement instead of BEGIN, one INSERT per event, COMMIT.
//!
//! A statement is atomic on its own, so the result is the same (all of a command's
//! events or none; a stale sequence hits the primary key and is an optimistic-lock
//! conflict), with one round trip to the database instead of three or more. Each event
//! carries the bytes its chained hash covers, rendered here, so the insert trigger only
//! adds the predecessor's hash and digests (`event_hash`). Reads are postgres-es's own.

use anytrade_projections::LogPosition;
use cqrs_es::Aggregate;
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlx::PgPool;

use super::event_hash;

const APPEND: &str = "
INSERT INTO events
    (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata,
     hash)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                     $6::jsonb[], $7::jsonb[], $8::bytea[])
RETURNING transaction_id::text::bigint, position";

/// The event repository every command bus uses.
pub struct EventRepository {
    pool: PgPool,
    reads: PostgresEventRepository,
}

impl EventRepository {
    pub fn new(pool: PgPool) -> Self {
        Self {
            reads: PostgresEventRepository::new(pool.clone()),
            pool,
        }
    }

    /// Appends `events` atomically; returns where the last one sits in the log
    /// (`None` when there was nothing to append).
    pub async fn append(
        &self,
        events: &[SerializedEvent],
    ) -> Result<Option<LogPosition>, PersistenceError> {
        if events.is_empty() {
            return Ok(None);
        }
        let column = |f: fn(&SerializedEvent) -> String| events.iter().map(f).collect::<Vec<_>>();
        let json = |f: fn(&SerializedEvent) -> Value| events.iter().map(f).collect::<Vec<_>>();
        let sequences: Vec<i64> = events.iter().map(|e| e.sequence as i64).collect();
        let result: Result<Vec<(i64, i64)>, sqlx::Error> = sqlx::query_as(APPEND)
            .bind(column(|e| e.aggregate_type.clone()))
            .bind(column(|e| e.aggregate_id.clone()))
            .bind(sequences)
            .bind(column(|e| e.event_type.clone()))
            .bind(column(|e| e.event_version.clone()))
            .bind(json(|e| e.payload.clone()))
            .bind(json(|e| e.metadata.clone()))
            .bind(events.iter().map(event_hash::appended).collect::<Vec<_>>())
            .fetch_all(&self.pool)
            .await;
        match result {
            Ok(rows) => Ok(rows
                .into_iter()
                .map(|(transaction_id, position)| LogPosition {
                    transaction_id,
                    position,
                })
                .max()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(PersistenceError::OptimisticLockError)
            }
            Err(e @ (sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed)) => {
                Err(PersistenceError::ConnectionError(Box::new(e)))
            }
            Err(e) => Err(PersistenceError::UnknownError(Box::new(e))),
        }
    }
}

impl PersistedEventRepository for EventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.reads.get_events::<A>(aggregate_id).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.reads
            .get_last_events::<A>(aggregate_id, last_sequence)
            .await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        self.reads.get_snapshot::<A>(aggregate_id).await
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        match snapshot_update {
            // Event-store mode, the only mode AnyTrade uses.
            None => self.append(events).await.map(|_| ()),
            Some(_) => self.reads.persist::<A>(events, snapshot_update).await,
        }
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_events::<A>(aggregate_id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_all_events::<A>().await
    }
}
