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

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::Mutex;

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventStore};
use cqrs_es::{Aggregate, AggregateError, EventStore};
use lru::LruCache;
use sqlx::PgPool;

use anytrade_aggregates::DomainError;

use super::log::EventLog;
use super::metadata::CommandMetadata;
use super::repository::EventRepository;

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
}

/// An aggregate's state and the sequence of the last event it has seen.
struct Known<A> {
    aggregate: A,
    sequence: usize,
    /// Read from the store during this command, rather than assumed.
    verified: bool,
}

/// The command side for aggregate `A`.
pub struct CommandBus<A: Aggregate> {
    store: PersistedEventStore<EventRepository, A>,
    services: A::Services,
    states: Mutex<LruCache<String, (A, usize)>>,
    log: EventLog,
}

impl<A> CommandBus<A>
where
    A: Aggregate<Error = DomainError>,
    A::Command: Clone,
{
    pub fn new(pool: PgPool, log: EventLog, services: A::Services) -> Self {
        let capacity = NonZeroUsize::new(CACHED_AGGREGATES).unwrap_or(NonZeroUsize::MIN);
        Self {
            store: PersistedEventStore::new_event_store(EventRepository::new(pool)),
            services,
            states: Mutex::new(LruCache::new(capacity)),
            log,
        }
    }

    /// Runs `command` on the aggregate `id`. On success its events are committed.
    pub async fn execute(
        &self,
        id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
    ) -> Result<(), CommandError> {
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
                    match self.append(id, known.sequence, events, metadata).await {
                        Ok(sequence) => {
                            self.remember(id, known.aggregate, sequence);
                            self.log.signal_append();
                            return Ok(());
                        }
                        Err(AggregateError::AggregateConflict) => {
                            conflicts += 1;
                            if conflicts > CONFLICT_RETRIES {
                                return Err(CommandError::Conflict {
                                    aggregate: A::TYPE,
                                    id: id.to_owned(),
                                    attempts: conflicts,
                                });
                            }
                        }
                        Err(e) => return Err(CommandError::Store(e.to_string())),
                    }
                }
                // Refused or no change, on assumed state: decide again on stored state.
                _ if !known.verified => {}
                Ok(()) => {
                    self.remember(id, known.aggregate, known.sequence);
                    return Ok(());
                }
                Err(e) => return Err(CommandError::Domain(e)),
            }
            known = self.load(id).await?;
        }
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
            .map_err(|e| CommandError::Store(e.to_string()))?;
        Ok(Known {
            aggregate: context.aggregate,
            sequence: context.current_sequence,
            verified: true,
        })
    }

    /// Appends `events` after `sequence`; returns the new last sequence.
    async fn append(
        &self,
        id: &str,
        sequence: usize,
        events: Vec<A::Event>,
        metadata: &CommandMetadata,
    ) -> Result<usize, AggregateError<DomainError>> {
        let count = events.len();
        // In event-store mode the store reads only the id and sequence from the context.
        let context = EventStoreAggregateContext {
            aggregate_id: id.to_owned(),
            aggregate: A::default(),
            current_sequence: sequence,
            current_snapshot: None,
        };
        let metadata: HashMap<String, String> = metadata.to_map();
        self.store.commit(events, context, metadata).await?;
        Ok(sequence + count)
    }
}
