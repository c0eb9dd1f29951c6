//! Executes commands against one aggregate type: decides on the aggregate's state,
//! appends the resulting events with the command's metadata, and wakes the log readers.
//!
//! State comes from postgres-es in event-store mode (rebuilt from the aggregate's
//! events; no snapshots, so no double apply), with one shortcut: the state a command
//! left behind is kept in memory, and the next command on that aggregate decides on it
//! without reading the events again. A fresh id is assumed new. The shortcut is safe
//! because the append checks it: the events are appended at the sequence that follows
//! the assumed state, and if any other writer (another process, too) got there first,
//! the primary key refuses the append, the state is read from the store and the command
//! decided again. A command that is refused or changes nothing on assumed state is
//! likewise decided again on the stored state before its answer counts.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Instant;

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistedEventStore, PersistenceError, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent, EventStore};
use lru::LruCache;
use sqlx::PgPool;
use tracing::Instrument;

use anytrade_aggregates::DomainError;
use anytrade_projections::{EventLog, LogPosition};

use super::metadata::CommandMetadata;
use super::repository::EventRepository;
use crate::metrics::{CommandOutcome, metrics};

/// How often a command that lost an optimistic-concurrency race is retried against
/// the fresh state before it is reported as a conflict.
const CONFLICT_RETRIES: u32 = 3;

/// How many aggregates' states each bus keeps in memory.
const CACHED_AGGREGATES: usize = 10_000;

/// Why a command was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The aggregate refused the command; nothing was appended.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Other commands kept changing the aggregate while this one was being decided.
    #[error("{aggregate} {id} was changed concurrently {attempts} times; try again")]
    Conflict {
        aggregate: &'static str,
        id: String,
        attempts: u32,
    },
    /// The event store could not be read or written.
    #[error("event store failure: {0}")]
    Store(String),
    /// The database did not answer; the command may be tried again.
    #[error("the event store is unavailable: {0}")]
    Unavailable(String),
}

impl CommandError {
    /// A failure to read an aggregate: unavailable when the database did not answer.
    fn from_load<E: std::error::Error>(e: cqrs_es::AggregateError<E>) -> Self {
        match e {
            cqrs_es::AggregateError::DatabaseConnectionError(e) => Self::Unavailable(e.to_string()),
            cqrs_es::AggregateError::UnexpectedError(e) if no_connection(e.as_ref()) => {
                Self::Unavailable(e.to_string())
            }
            e => Self::Store(e.to_string()),
        }
    }
}

/// Whether a store error means no connection could be had: postgres-es counts only
/// I/O and TLS errors as connection errors, and passes a pool that timed out or closed
/// (the database away) as unexpected.
fn no_connection(e: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    matches!(
        e.downcast_ref::<sqlx::Error>(),
        Some(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_))
    )
}

/// The type of an aggregate's id. It becomes text (the store's `aggregate_id`) only
/// inside the bus, so a bot's id cannot be passed where an exchange's is meant.
pub trait Keyed: Aggregate {
    type Id: std::fmt::Display + Send + Sync + ?Sized;
}

impl Keyed for anytrade_aggregates::Bot {
    type Id = anytrade_aggregates::values::BotId;
}

macro_rules! keyed_by_uuid {
    ($($aggregate:ty),+) => {
        $(impl Keyed for $aggregate {
            type Id = uuid::Uuid;
        })+
    };
}

keyed_by_uuid!(
    anytrade_aggregates::Exchange,
    anytrade_aggregates::Strategy,
    anytrade_aggregates::Backtest,
    anytrade_aggregates::Hyperopt,
    anytrade_aggregates::Trade
);

/// An aggregate's state and the sequence of the last event it has seen.
struct Known<A> {
    aggregate: A,
    sequence: usize,
    /// Read from the store during this command, rather than assumed.
    verified: bool,
}

/// The command side for aggregate `A`.
pub struct CommandBus<A: Aggregate> {
    /// Reads aggregates (postgres-es, event-store mode).
    store: PersistedEventStore<EventRepository, A>,
    /// Appends their events.
    appends: EventRepository,
    services: A::Services,
    states: Mutex<LruCache<String, (A, usize)>>,
    log: EventLog,
}

impl<A> CommandBus<A>
where
    A: Keyed<Error = DomainError>,
    A::Command: Clone,
    for<'c> &'c A::Command: Into<&'static str>,
{
    pub fn new(pool: PgPool, log: EventLog, services: A::Services) -> Self {
        let capacity = NonZeroUsize::new(CACHED_AGGREGATES).unwrap_or(NonZeroUsize::MIN);
        Self {
            store: PersistedEventStore::new_event_store(EventRepository::new(pool.clone())),
            appends: EventRepository::new(pool),
            services,
            states: Mutex::new(LruCache::new(capacity)),
            log,
        }
    }

    /// Runs `command` on the aggregate `id`. On success its events are committed, and
    /// the log position of the last one is returned (`None`: nothing changed). Counted
    /// in the metrics by outcome, and logged with the command's correlation id.
    pub async fn execute(
        &self,
        id: &A::Id,
        command: A::Command,
        metadata: &CommandMetadata,
    ) -> Result<Option<LogPosition>, CommandError> {
        let name: &'static str = (&command).into();
        let started = Instant::now();
        let span = tracing::info_span!(
            "command",
            aggregate = A::TYPE,
            id = %id,
            command = name,
            correlation_id = %metadata.correlation_id,
        );
        let outcome = self.decide(id, command, metadata).instrument(span).await;
        let counted = match &outcome {
            Ok(_) => CommandOutcome::Ok,
            Err(CommandError::Domain(_)) => CommandOutcome::Rejected,
            Err(CommandError::Conflict { .. }) => CommandOutcome::Conflict,
            Err(CommandError::Store(_) | CommandError::Unavailable(_)) => CommandOutcome::Failed,
        };
        metrics().command(A::TYPE, name, counted, started);
        outcome
    }

    async fn decide(
        &self,
        id: &A::Id,
        command: A::Command,
        metadata: &CommandMetadata,
    ) -> Result<Option<LogPosition>, CommandError> {
        let key = id.to_string();
        let id = key.as_str();
        let mut known = self.remembered(id);
        let mut conflicts = 0;
        loop {
            let sink = EventSink::default();
            let decided = known
                .aggregate
                .handle(command.clone(), &self.services, &sink)
                .await;
            let events = sink.collect().await;
            match decided {
                Ok(()) if !events.is_empty() => {
                    let count = events.len();
                    match self.append(id, known.sequence, events, metadata).await {
                        Ok(position) => {
                            self.remember(id, known.aggregate, known.sequence + count);
                            self.log.signal_append();
                            return Ok(position);
                        }
                        Err(PersistenceError::OptimisticLockError) => {
                            conflicts += 1;
                            if conflicts > CONFLICT_RETRIES {
                                return Err(CommandError::Conflict {
                                    aggregate: A::TYPE,
                                    id: id.to_owned(),
                                    attempts: conflicts,
                                });
                            }
                        }
                        Err(PersistenceError::ConnectionError(e)) => {
                            return Err(CommandError::Unavailable(e.to_string()));
                        }
                        Err(PersistenceError::UnknownError(e)) if no_connection(e.as_ref()) => {
                            return Err(CommandError::Unavailable(e.to_string()));
                        }
                        Err(e) => return Err(CommandError::Store(e.to_string())),
                    }
                }
                // Refused or no change, on assumed state: decide again on stored state.
                _ if !known.verified => {}
                Ok(()) => {
                    self.remember(id, known.aggregate, known.sequence);
                    return Ok(None);
                }
                Err(e) => return Err(CommandError::Domain(e)),
            }
            known = self.load(id).await?;
        }
    }

    /// The aggregate `id` as stored now (a new one if it has no events).
    pub async fn load_state(&self, id: &A::Id) -> Result<A, CommandError> {
        Ok(self.load(&id.to_string()).await?.aggregate)
    }

    /// The state the last command left, or a new aggregate; either still to be checked.
    fn remembered(&self, id: &str) -> Known<A> {
        let cached = self
            .states
            .lock()
            .ok()
            .and_then(|mut states| states.pop(id));
        let (aggregate, sequence) = cached.unwrap_or_default();
        Known {
            aggregate,
            sequence,
            verified: false,
        }
    }

    fn remember(&self, id: &str, aggregate: A, sequence: usize) {
        if let Ok(mut states) = self.states.lock() {
            states.put(id.to_owned(), (aggregate, sequence));
        }
    }

    async fn load(&self, id: &str) -> Result<Known<A>, CommandError> {
        let context = self
            .store
            .load_aggregate(id)
            .await
            .map_err(CommandError::from_load)?;
        Ok(Known {
            aggregate: context.aggregate,
            sequence: context.current_sequence,
            verified: true,
        })
    }

    /// Appends `events` after `sequence`, each with the command's metadata.
    async fn append(
        &self,
        id: &str,
        sequence: usize,
        events: Vec<A::Event>,
        metadata: &CommandMetadata,
    ) -> Result<Option<LogPosition>, PersistenceError> {
        let metadata = serde_json::to_value(metadata.to_map())?;
        let serialized = events
            .into_iter()
            .zip(sequence + 1..)
            .map(|(event, sequence)| {
                Ok(SerializedEvent::new(
                    id.to_owned(),
                    sequence,
                    A::TYPE.to_owned(),
                    event.event_type(),
                    event.event_version(),
                    serde_json::to_value(&event)?,
                    metadata.clone(),
                ))
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        self.appends.append(&serialized).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_that_timed_out_or_closed_is_unavailable_not_a_store_failure() {
        for unavailable in [sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed] {
            let load =
                cqrs_es::AggregateError::<DomainError>::UnexpectedError(Box::new(unavailable));
            assert!(matches!(
                CommandError::from_load(load),
                CommandError::Unavailable(_)
            ));
        }
        let other = cqrs_es::AggregateError::<DomainError>::UnexpectedError(Box::new(
            sqlx::Error::RowNotFound,
        ));
        assert!(matches!(
            CommandError::from_load(other),
            CommandError::Store(_)
        ));
    }
}
