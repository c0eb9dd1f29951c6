//! What happened to a backtest.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::job::JobSpec;
use crate::values::RuntimeId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BacktestEvent {
    BacktestRequested { backtest_id: Uuid, spec: JobSpec },
    BacktestStarted { runtime_id: RuntimeId },
    BacktestCompleted { results: Map<String, Value> },
    BacktestFailed { error: String },
    BacktestCancelled,
    BacktestDeleted,
}

impl DomainEvent for BacktestEvent {
    fn event_type(&self) -> String {
        match self {
            Self::BacktestRequested { .. } => "BacktestRequested",
            Self::BacktestStarted { .. } => "BacktestStarted",
            Self::BacktestCompleted { .. } => "BacktestCompleted",
            Self::BacktestFailed { .. } => "BacktestFailed",
            Self::BacktestCancelled => "BacktestCancelled",
            Self::BacktestDeleted => "BacktestDeleted",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
