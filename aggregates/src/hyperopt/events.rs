//! What happened to a hyperopt.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::job::JobSpec;
use crate::values::{Epochs, HyperoptSpaces, OptimizationMetric, Progress, RuntimeId};

/// The variant's name is its `event_type` (and its tag in the stored payload).
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantNames,
)]
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
        <&'static str>::from(self).to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
