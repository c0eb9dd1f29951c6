//! The ordered event log: every committed event once, in an order a checkpoint can
//! resume from without skipping anything.
//!
//! Positions are taken when a row is inserted, but transactions commit in any order:
//! a reader that simply follows `position` would pass over an event whose transaction
//! commits after a later position became visible. So the log is read in
//! `(transaction_id, position)` order and only up to the oldest transaction still in
//! flight (`pg_snapshot_xmin`). Transaction ids are handed out in the order in which
//! transactions first write, so no transaction that could still commit can add an
//! event before the reader's checkpoint. The order agrees with commit order for every
//! pair of causally related events (a command that read another's result starts
//! writing after that one committed); only truly concurrent transactions may be
//! delivered in a different order than they committed.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::Value;
use serde_json::value::RawValue;
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::projector::ProjectionError;
use crate::typed::{AggregateKind, EventRow, TypedEvent};

/// Where a reader stands in the log; `LogPosition::START` is before the first event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LogPosition {
    pub transaction_id: i64,
    pub position: i64,
}

impl LogPosition {
    pub const START: LogPosition = LogPosition {
        transaction_id: 0,
        position: 0,
    };
}

/// One committed event as the log delivers it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    pub position: i64,
    pub transaction_id: i64,
    pub committed_at: DateTime<Utc>,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
}

impl LoggedEvent {
    pub fn log_position(&self) -> LogPosition {
        LogPosition {
            transaction_id: self.transaction_id,
            position: self.position,
        }
    }
}

/// SQL for when an event first committed: the time it kept through an import, else its
/// transaction's commit time while PostgreSQL keeps it, else its insert time.
#[macro_export]
macro_rules! committed_at {
    () => {
        "COALESCE(original_committed_at, pg_xact_commit_timestamp(transaction_id::xid), \
         recorded_at)"
    };
}

/// The start of every query that reads [`LoggedEvent`]s. The transaction id goes out
/// under another name: an output column named `transaction_id` would be what a later
/// `ORDER BY transaction_id` sorts by, a computed value no index has, so every read
/// would sort the rest of the log instead of walking `events_log_order`.
macro_rules! select_events {
    () => {
        select_events!("metadata")
    };
    ($metadata:literal) => {
        concat!(
            "SELECT position, transaction_id::text::bigint AS log_transaction_id, ",
            committed_at!(),
            " AS committed_at, aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, ",
            $metadata,
            " AS metadata FROM events"
        )
    };
}

/// The events of one aggregate, in sequence order, up to a sequence and a commit time.
macro_rules! aggregate_events {
    ($metadata:literal) => {
        concat!(
            select_events!($metadata),
            " WHERE aggregate_type = $1 AND aggregate_id = $2 \
                AND ($3::bigint IS NULL OR sequence <= $3) \
                AND ($4::timestamptz IS NULL OR ",
            committed_at!(),
            " <= $4) ORDER BY sequence"
        )
    };
}

/// The read every tailing reader repeats; public so a test can check its plan.
pub const READ_AFTER: &str = concat!(
    select_events!(),
    "
 WHERE (transaction_id, position) > ($1::text::xid8, $2)
   AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
 ORDER BY transaction_id, position
 LIMIT $3"
);

/// Which events a filtered read returns: each field that is set must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogFilter {
    pub aggregate_type: Option<AggregateKind>,
    pub aggregate_id: Option<Uuid>,
    /// A variant name of the aggregate's event enum, as stored in `event_type`.
    pub event_type: Option<String>,
    /// Committed at or after.
    pub since: Option<DateTime<Utc>>,
    /// Committed before.
    pub until: Option<DateTime<Utc>>,
    pub actor: Option<String>,
    pub correlation_id: Option<Uuid>,
}

/// Reads the event log; cheap to clone, shared by every reader in the process.
#[derive(Clone)]
pub struct EventLog {
    pool: PgPool,
    appended: Arc<Notify>,
    poll_interval: Duration,
}

impl EventLog {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            appended: Arc::new(Notify::new()),
            poll_interval: Duration::from_millis(100),
        }
    }

    /// How long a tailing reader waits before looking again when nothing in this
    /// process has signalled an append (writes from other processes, held-back xmin).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Wakes tailing readers; the command bus calls it after each commit.
    pub fn signal_append(&self) {
        self.appended.notify_waiters();
    }

    /// Up to `limit` events after `after`, in log order.
    pub async fn read_after(
        &self,
        after: LogPosition,
        limit: i64,
    ) -> Result<Vec<LoggedEvent>, sqlx::Error> {
        read_after(&self.pool, after, limit).await
    }

    /// The position of the last event readers can see now (`START` for an empty log).
    pub async fn head(&self) -> Result<LogPosition, sqlx::Error> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT transaction_id::text::bigint, position FROM events
              WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY transaction_id DESC, position DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.map_or(LogPosition::START, |(transaction_id, position)| {
                LogPosition {
                    transaction_id,
                    position,
                }
            }),
        )
    }

    /// The last `limit` events matching `filter` that readers can see now, newest
    /// first (the tail a person reads), and the head they were read up to: resuming
    /// after it misses nothing newer and repeats nothing.
    pub async fn latest(
        &self,
        filter: &LogFilter,
        limit: i64,
    ) -> Result<(Vec<LoggedEvent>, LogPosition), sqlx::Error> {
        let head = self.head().await?;
        let rows = matching(LogPosition::START, head, filter, limit, Order::NewestFirst)
            .build()
            .fetch_all(&self.pool)
            .await?;
        let events = rows.iter().map(decode).collect::<Result<_, _>>()?;
        Ok((events, head))
    }

    /// The log position of the event at a global `position`, so a client that only
    /// kept the position it last saw can resume right after it.
    pub async fn locate(&self, position: i64) -> Result<Option<LogPosition>, sqlx::Error> {
        if position <= 0 {
            return Ok(Some(LogPosition::START));
        }
        let row = sqlx::query(
            "SELECT transaction_id::text::bigint AS transaction_id FROM events WHERE position = $1",
        )
        .bind(position)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(LogPosition {
                transaction_id: row.try_get("transaction_id")?,
                position,
            })
        })
        .transpose()
    }

    /// The next batch after `after`, waiting until there is one. Never returns an
    /// empty batch; cancel the future to stop waiting.
    pub async fn next_batch(
        &self,
        after: LogPosition,
        limit: i64,
    ) -> Result<Vec<LoggedEvent>, sqlx::Error> {
        loop {
            // Register interest before reading, so an append that lands between the
            // read and the wait still wakes us.
            let appended = self.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            let batch = self.read_after(after, limit).await?;
            if !batch.is_empty() {
                return Ok(batch);
            }
            tokio::select! {
                _ = appended => {}
                _ = tokio::time::sleep(self.poll_interval) => {}
            }
        }
    }

    /// The checkpoint a named reader saved, or the start of the log.
    pub async fn checkpoint(&self, reader: &str) -> Result<LogPosition, sqlx::Error> {
        Self::checkpoint_on(&self.pool, reader).await
    }

    /// [`EventLog::checkpoint`] through `executor`, e.g. inside the reader's transaction.
    pub async fn checkpoint_on<'e>(
        executor: impl sqlx::PgExecutor<'e>,
        reader: &str,
    ) -> Result<LogPosition, sqlx::Error> {
        let row =
            sqlx::query("SELECT transaction_id, position FROM log_checkpoints WHERE reader = $1")
                .bind(reader)
                .fetch_optional(executor)
                .await?;
        match row {
            None => Ok(LogPosition::START),
            Some(row) => Ok(LogPosition {
                transaction_id: row.try_get("transaction_id")?,
                position: row.try_get("position")?,
            }),
        }
    }

    /// Saves a reader's checkpoint inside the caller's transaction, so the reader's own
    /// writes and its checkpoint commit together.
    pub async fn save_checkpoint(
        tx: &mut sqlx::PgConnection,
        reader: &str,
        at: LogPosition,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO log_checkpoints (reader, transaction_id, position) VALUES ($1, $2, $3)
             ON CONFLICT (reader) DO UPDATE
               SET transaction_id = EXCLUDED.transaction_id, position = EXCLUDED.position,
                   updated_at = now()",
        )
        .bind(reader)
        .bind(at.transaction_id)
        .bind(at.position)
        .execute(tx)
        .await?;
        Ok(())
    }
}

/// When the log's first event committed; `None` for an empty log.
pub async fn first_commit<'e>(
    executor: impl sqlx::PgExecutor<'e>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(concat!(
        "SELECT ",
        committed_at!(),
        " FROM events ORDER BY position LIMIT 1"
    ))
    .fetch_optional(executor)
    .await
}

/// How many events readers can see after `after`, and when the oldest of them
/// committed.
pub async fn waiting_after<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    after: LogPosition,
) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT count(*), min(",
        committed_at!(),
        ") FROM events WHERE (transaction_id, position) > ($1::text::xid8, $2) \
           AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())"
    ))
    .bind(after.transaction_id.to_string())
    .bind(after.position)
    .fetch_one(executor)
    .await
}

/// Up to `limit` events after `after`, in log order, read through `executor` (a pool, or
/// the transaction of a rebuild).
pub async fn read_after<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    after: LogPosition,
    limit: i64,
) -> Result<Vec<LoggedEvent>, sqlx::Error> {
    let rows = sqlx::query(READ_AFTER)
        .bind(after.transaction_id.to_string())
        .bind(after.position)
        .bind(limit)
        .fetch_all(executor)
        .await?;
    rows.iter().map(decode).collect()
}

/// Up to `limit` events matching `filter` after `after` and at most `upto`, in log
/// order. `upto` must be a position readers can see (e.g. [`EventLog::head`]): nothing
/// can still commit before it, so a reader that walks the log in bounded windows
/// neither skips nor repeats an event. The filter runs in the database, so a narrow
/// filter over a long log reads only what it returns.
pub async fn read_matching<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    after: LogPosition,
    upto: LogPosition,
    filter: &LogFilter,
    limit: i64,
) -> Result<Vec<LoggedEvent>, sqlx::Error> {
    let rows = matching(after, upto, filter, limit, Order::LogOrder)
        .build()
        .fetch_all(executor)
        .await?;
    rows.iter().map(decode).collect()
}

/// Events read by [`read_matching`], decoded into the domain's types straight from the
/// stored JSON text: what a replay reads, with no tree of JSON values built in between.
pub struct TypedBatch {
    /// The position of the last event read, whatever its aggregate.
    pub last: Option<LogPosition>,
    pub read: u64,
    /// The events of the aggregates asked for, in log order.
    pub events: Vec<TypedEvent>,
}

/// [`read_matching`] into a [`TypedBatch`] of the events of `kinds`.
pub async fn read_typed<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    after: LogPosition,
    upto: LogPosition,
    filter: &LogFilter,
    limit: i64,
    kinds: &[AggregateKind],
) -> Result<TypedBatch, ProjectionError> {
    let mut batch = TypedBatch {
        last: None,
        read: 0,
        events: Vec::with_capacity(limit.clamp(0, 10_000) as usize),
    };
    // Each row is decoded as it arrives, while the database sends the next ones.
    let mut query = matching(after, upto, filter, limit, Order::LogOrder);
    let mut rows = query.build().fetch(executor);
    while let Some(row) = rows.try_next().await? {
        let event = EventRow {
            log_position: LogPosition {
                transaction_id: row.try_get("log_transaction_id")?,
                position: row.try_get("position")?,
            },
            committed_at: row.try_get("committed_at")?,
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
        };
        batch.last = Some(event.log_position);
        batch.read += 1;
        if kinds
            .iter()
            .any(|kind| kind.as_str() == event.aggregate_type)
        {
            let payload: Json<&RawValue> = row.try_get("payload")?;
            let metadata: Json<&RawValue> = row.try_get("metadata")?;
            batch.events.push(event.decode(payload.0, metadata.0)?);
        }
    }
    Ok(batch)
}

/// Which end of a window of the log [`matching`] reads from.
#[derive(Clone, Copy)]
enum Order {
    LogOrder,
    NewestFirst,
}

/// The query of [`read_matching`].
fn matching<'q>(
    after: LogPosition,
    upto: LogPosition,
    filter: &LogFilter,
    limit: i64,
    order: Order,
) -> sqlx::QueryBuilder<'q, sqlx::Postgres> {
    let mut query = sqlx::QueryBuilder::new(select_events!());
    query
        .push(" WHERE (transaction_id, position) > (")
        .push_bind(after.transaction_id.to_string())
        .push("::xid8, ")
        .push_bind(after.position)
        .push(") AND (transaction_id, position) <= (")
        .push_bind(upto.transaction_id.to_string())
        .push("::xid8, ")
        .push_bind(upto.position)
        .push(")");
    if let Some(kind) = filter.aggregate_type {
        query
            .push(" AND aggregate_type = ")
            .push_bind(kind.as_str());
    }
    if let Some(id) = filter.aggregate_id {
        query.push(" AND aggregate_id = ").push_bind(id.to_string());
    }
    if let Some(event_type) = &filter.event_type {
        query
            .push(" AND event_type = ")
            .push_bind(event_type.clone());
    }
    if let Some(since) = filter.since {
        query
            .push(concat!(" AND ", committed_at!(), " >= "))
            .push_bind(since);
    }
    if let Some(until) = filter.until {
        query
            .push(concat!(" AND ", committed_at!(), " < "))
            .push_bind(until);
    }
    if let Some(actor) = &filter.actor {
        query
            .push(" AND metadata->>'actor' = ")
            .push_bind(actor.clone());
    }
    if let Some(correlation_id) = filter.correlation_id {
        query
            .push(" AND metadata->>'correlation_id' = ")
            .push_bind(correlation_id.to_string());
    }
    query
        .push(match order {
            Order::LogOrder => " ORDER BY transaction_id, position LIMIT ",
            Order::NewestFirst => " ORDER BY transaction_id DESC, position DESC LIMIT ",
        })
        .push_bind(limit);
    query
}

/// The events of one aggregate in sequence order: the first `up_to_sequence` of them
/// and only those committed at or before `committed_by`, when given.
pub async fn read_aggregate<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    kind: AggregateKind,
    id: Uuid,
    up_to_sequence: Option<i64>,
    committed_by: Option<DateTime<Utc>>,
) -> Result<Vec<LoggedEvent>, sqlx::Error> {
    let query = aggregate_events!("metadata");
    read_one_aggregate(executor, query, kind, id, up_to_sequence, committed_by).await
}

/// [`read_aggregate`] with each event's metadata left out (read as `{}`): folding an
/// aggregate's state needs only the payloads, and the metadata is most of a long
/// aggregate's bytes.
pub async fn read_aggregate_payloads<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    kind: AggregateKind,
    id: Uuid,
    up_to_sequence: Option<i64>,
    committed_by: Option<DateTime<Utc>>,
) -> Result<Vec<LoggedEvent>, sqlx::Error> {
    let query = aggregate_events!("'{}'::jsonb");
    read_one_aggregate(executor, query, kind, id, up_to_sequence, committed_by).await
}

async fn read_one_aggregate<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    query: &'static str,
    kind: AggregateKind,
    id: Uuid,
    up_to_sequence: Option<i64>,
    committed_by: Option<DateTime<Utc>>,
) -> Result<Vec<LoggedEvent>, sqlx::Error> {
    let rows = sqlx::query(query)
        .bind(kind.as_str())
        .bind(id.to_string())
        .bind(up_to_sequence)
        .bind(committed_by)
        .fetch_all(executor)
        .await?;
    rows.iter().map(decode).collect()
}

fn decode(row: &sqlx::postgres::PgRow) -> Result<LoggedEvent, sqlx::Error> {
    Ok(LoggedEvent {
        position: row.try_get("position")?,
        transaction_id: row.try_get("log_transaction_id")?,
        committed_at: row.try_get("committed_at")?,
        aggregate_type: row.try_get("aggregate_type")?,
        aggregate_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
    })
}
