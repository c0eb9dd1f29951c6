//! What a read model is to the runner: a name (its checkpoint), the tables it owns, and
//! how one event changes them.

use async_trait::async_trait;
use sqlx::PgConnection;

use crate::typed::{AggregateKind, DecodeError, TypedEvent};

/// Why a projector could not apply an event. The runner stops that projector rather
/// than skip the event, so a read model is never silently wrong.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("{0} does not serialize: {1}")]
    Serialize(&'static str, String),
}

/// A read model built from the event log. Its rows follow from the events of its own
/// aggregates alone, each aggregate's rows from that aggregate's events (no reads of
/// other rows to decide what to write), except where [`TypedEvent::partition`] groups
/// aggregates that share rows: a rebuild applies different partitions' events on
/// different connections at once.
#[async_trait]
pub trait Projector: Send + Sync + 'static {
    /// Unique among projectors; names the checkpoint.
    fn name(&self) -> &'static str;

    /// The aggregate whose events it reads; the runner decodes only those for it.
    fn aggregate(&self) -> AggregateKind;

    /// The tables it owns, children before parents: a rebuild empties them in this order.
    fn tables(&self) -> &'static [&'static str];

    /// Applies one event of its aggregate inside the batch transaction; events it does
    /// not care about are ignored. Applying the same event twice leaves the same rows.
    async fn apply(&self, tx: &mut PgConnection, event: TypedEvent) -> Result<(), ProjectionError>;

    /// Applies a batch of its aggregate's events, in log order, leaving the rows that
    /// applying them one by one would. A projector whose log is long overrides it with
    /// set-based statements: one statement per event is what bounds a rebuild.
    async fn apply_all(
        &self,
        tx: &mut PgConnection,
        events: Vec<TypedEvent>,
    ) -> Result<(), ProjectionError> {
        for event in events {
            self.apply(tx, event).await?;
        }
        Ok(())
    }
}
