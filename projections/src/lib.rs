//! AnyTrade's read side: the ordered event log, the read models built from it, and the
//! runner that keeps each read model current with its own checkpoint.

pub mod bots;
pub mod exchanges;
pub mod jobs;
pub mod log;
pub mod projector;
pub mod runner;
pub mod strategies;
pub mod trades;

use std::sync::Arc;

pub use log::{EventLog, LogPosition, LoggedEvent};
pub use projector::{ProjectionError, Projector};
pub use runner::Projections;

/// Every read model, in the order `projections rebuild` lists them.
pub fn all() -> Vec<Arc<dyn Projector>> {
    vec![
        Arc::new(exchanges::ExchangesProjector),
        Arc::new(strategies::StrategiesProjector),
        Arc::new(bots::BotsProjector),
        Arc::new(jobs::BacktestsProjector),
        Arc::new(jobs::HyperoptsProjector),
        Arc::new(trades::TradesProjector),
    ]
}

/// Aggregate ids are UUIDs; anything else in the log is a bug worth stopping for.
fn aggregate_uuid(event: &LoggedEvent) -> Result<uuid::Uuid, ProjectionError> {
    uuid::Uuid::parse_str(&event.aggregate_id).map_err(|e| ProjectionError::Decode {
        position: event.position,
        event_type: event.event_type.clone(),
        reason: format!("aggregate id is not a UUID: {e}"),
    })
}

/// A domain value as the JSON it serializes to.
fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, ProjectionError> {
    serde_json::to_value(value).map_err(|e| ProjectionError::Decode {
        position: 0,
        event_type: std::any::type_name::<T>().to_owned(),
        reason: e.to_string(),
    })
}
