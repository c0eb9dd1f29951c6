//! What happened to a backtest.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::job::JobSpec;
use crate::values::RuntimeId;

/// The variant's name is its `event_type` (and its tag in the stored payload).
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantNames,
)]
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
        <&'static str>::from(self).to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
