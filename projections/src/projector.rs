//! What a read model is to the runner: a name (its checkpoint), the tables it owns, and
//! how one event changes them.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use sqlx::PgConnection;

use crate::log::LoggedEvent;

/// Why a projector could not apply an event. The runner stops that projector rather
/// than skip the event, so a read model is never silently wrong.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event at position {position} ({event_type}) does not decode: {reason}")]
    Decode {
        position: i64,
        event_type: String,
        reason: String,
    },
}

/// A read model built from the event log.
#[async_trait]
pub trait Projector: Send + Sync + 'static {
    /// Unique among projectors; names the checkpoint.
    fn name(&self) -> &'static str;

    /// The tables it owns, children before parents: a rebuild empties them in this order.
    fn tables(&self) -> &'static [&'static str];

    /// Applies one event inside the batch transaction; events it does not care about
    /// are ignored. Applying the same event twice leaves the same rows.
    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &LoggedEvent,
    ) -> Result<(), ProjectionError>;
}

/// The event's payload as aggregate `A`'s event type, if the event belongs to `A`.
pub fn decode<E: DeserializeOwned>(
    event: &LoggedEvent,
    aggregate_type: &str,
) -> Result<Option<E>, ProjectionError> {
    if event.aggregate_type != aggregate_type {
        return Ok(None);
    }
    serde_json::from_value(event.payload.clone())
        .map(Some)
        .map_err(|e| ProjectionError::Decode {
            position: event.position,
            event_type: event.event_type.clone(),
            reason: e.to_string(),
        })
}
