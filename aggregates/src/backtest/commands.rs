//! What can be asked of a backtest. Inputs are raw and parsed in `handle`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::job::JobInput;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum BacktestCommand {
    /// The strategy's current version is pinned.
    RequestBacktest { backtest_id: Uuid, input: JobInput },
    /// The runtime started the job (pending → running).
    StartBacktest { runtime_id: String },
    /// freqtrade's result statistics, a JSON object (running → completed).
    CompleteBacktest { results: Value },
    /// The job failed (pending or running → failed). An empty message is stored as a
    /// generic one; a very long one is cut.
    FailBacktest { error: String },
    /// Pending or running → cancelled.
    CancelBacktest,
    /// A running backtest is cancelled first.
    DeleteBacktest,
}
