//! What can be asked of a hyperopt. Inputs are raw and parsed in `handle`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::job::JobInput;

// The request carries the raw form of every input, as the API gives them; a command lives
// for one request, so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum HyperoptCommand {
    /// A backtest's inputs plus what to optimize; the strategy's current version is pinned.
    RequestHyperopt {
        hyperopt_id: Uuid,
        input: JobInput,
        epochs: i64,
        spaces: Vec<String>,
        optimization_metric: String,
    },
    /// The runtime started the job (pending → running).
    StartHyperopt { runtime_id: String },
    /// Progress in percent while running; it never goes back, and the same value again
    /// records nothing. `epoch` is the last finished epoch, if known.
    ReportHyperoptProgress { progress: f64, epoch: Option<u32> },
    /// The best parameters found, a JSON object (running → completed).
    CompleteHyperopt { results: Value },
    /// Pending or running → failed.
    FailHyperopt { error: String },
    /// Pending or running → cancelled.
    CancelHyperopt,
    /// A running hyperopt is cancelled first.
    DeleteHyperopt,
}
