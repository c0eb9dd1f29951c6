//! Executes commands against one aggregate type: loads it from the event store,
//! lets it decide, appends its events with the command's metadata, and wakes the
//! log readers.

use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateError, CqrsFramework};
use postgres_es::{PostgresCqrs, PostgresEventRepository};
use sqlx::PgPool;

use anytrade_aggregates::DomainError;

use super::log::EventLog;
use super::metadata::CommandMetadata;

/// How often a command that lost an optimistic-concurrency race is retried against
/// the fresh state before it is reported as a conflict.
const CONFLICT_RETRIES: u32 = 3;

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

/// The command side for aggregate `A`, backed by postgres-es in event-store mode
/// (state is rebuilt from events on every command; no snapshots, so no double apply).
pub struct CommandBus<A: Aggregate> {
    cqrs: PostgresCqrs<A>,
    log: EventLog,
}

impl<A> CommandBus<A>
where
    A: Aggregate<Error = DomainError>,
    A::Command: Clone,
{
    pub fn new(pool: PgPool, log: EventLog, services: A::Services) -> Self {
        let store = PersistedEventStore::new_event_store(PostgresEventRepository::new(pool));
        Self {
            cqrs: CqrsFramework::new(store, Vec::new(), services),
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
        let mut attempts = 0;
        loop {
            attempts += 1;
            let result = self
                .cqrs
                .execute_with_metadata(id, command.clone(), metadata.to_map())
                .await;
            match result {
                Ok(()) => {
                    self.log.signal_append();
                    return Ok(());
                }
                Err(AggregateError::AggregateConflict) if attempts <= CONFLICT_RETRIES => continue,
                Err(AggregateError::AggregateConflict) => {
                    return Err(CommandError::Conflict {
                        aggregate: A::TYPE,
                        id: id.to_owned(),
                        attempts,
                    });
                }
                Err(AggregateError::UserError(e)) => return Err(CommandError::Domain(e)),
                Err(other) => return Err(CommandError::Store(other.to_string())),
            }
        }
    }
}
