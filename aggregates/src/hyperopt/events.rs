//! What happened to a hyperopt.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::job::JobSpec;
use crate::values::{Epochs, HyperoptSpaces, OptimizationMetric, Progress, RuntimeId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HyperoptEvent {
    HyperoptRequested {
        hyperopt_id: Uuid,
        spec: JobSpec,
        epochs: Epochs,
        spaces: HyperoptSpaces,
        optimization_metric: OptimizationMetric,
    },
    HyperoptStarted {
        runtime_id: RuntimeId,
    },
    HyperoptProgressReported {
        progress: Progress,
        epoch: Option<u32>,
    },
    HyperoptCompleted {
        results: Map<String, Value>,
    },
    HyperoptFailed {
        error: String,
    },
    HyperoptCancelled,
    HyperoptDeleted,
}

impl DomainEvent for HyperoptEvent {
    fn event_type(&self) -> String {
        match self {
            Self::HyperoptRequested { .. } => "HyperoptRequested",
            Self::HyperoptStarted { .. } => "HyperoptStarted",
            Self::HyperoptProgressReported { .. } => "HyperoptProgressReported",
            Self::HyperoptCompleted { .. } => "HyperoptCompleted",
            Self::HyperoptFailed { .. } => "HyperoptFailed",
            Self::HyperoptCancelled => "HyperoptCancelled",
            Self::HyperoptDeleted => "HyperoptDeleted",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
