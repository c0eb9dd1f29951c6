//! AnyTrade's read side: the ordered event log, the read models built from it, and the
//! runner that keeps each read model current with its own checkpoint.

pub mod log;

pub use log::{EventLog, LogPosition, LoggedEvent};
