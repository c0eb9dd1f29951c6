//! The event store: command execution (postgres-es) and the ordered log readers tail.

mod command_bus;
mod commands;
pub mod event_hash;
mod metadata;
mod repository;

pub use anytrade_projections::{EventLog, LogPosition, LoggedEvent};
pub use command_bus::{CommandBus, CommandError, Keyed};
pub use commands::Commands;
pub use metadata::CommandMetadata;
pub use repository::EventRepository;
