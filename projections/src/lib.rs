//! AnyTrade's read side: the ordered event log, the read models built from it, and the
//! runner that keeps each read model current with its own checkpoint.

pub mod bot_health;
pub mod bots;
pub mod exchanges;
pub mod jobs;
pub mod log;
pub mod page;
pub mod projector;
pub mod rebuild;
pub mod runner;
mod stored;
pub mod strategies;
pub mod trades;
pub mod typed;

use std::sync::Arc;

pub use log::{EventLog, LogFilter, LogPosition, LoggedEvent};
pub use projector::{ProjectionError, Projector};
pub use runner::Projections;
pub use typed::{AggregateKind, DecodeError, Event, EventMetadata, EventSelector, TypedEvent};

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

/// A domain value as the JSON it serializes to.
fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, ProjectionError> {
    serde_json::to_value(value)
        .map_err(|e| ProjectionError::Serialize(std::any::type_name::<T>(), e.to_string()))
}
