//! Where bots run. One [`Runtime`] trait with one
//! implementation per backend; everything a runtime creates carries the `anytrade.*`
//! labels, so the service can list what it owns and reconcile it with what should run.
//!
//! Implemented here: [`local`] (child processes), [`docker`] (containers) and
//! [`kubernetes`] (Deployments and Jobs in a namespace).

pub(crate) mod container;
mod counted;
pub mod docker;
pub(crate) mod files;
pub mod kubernetes;
pub mod local;
pub(crate) mod output;
mod selection;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anytrade_aggregates::values::{BotId, ResourceLimits, RuntimeKind};
use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;
use zeroize::Zeroizing;

pub use counted::Counted;
pub use selection::{Runtimes, detect, in_cluster, own_namespace};

/// Label keys every runtime puts on what it creates.
pub mod labels {
    pub const MANAGED: &str = "anytrade.managed";
    pub const KIND: &str = "anytrade.kind";
    pub const BOT_ID: &str = "anytrade.bot_id";
    pub const JOB_ID: &str = "anytrade.job_id";
}

/// Everything a runtime needs to run one bot: the checked freqtrade config (without
/// the API listen address, which the runtime chooses), the strategy file, and the
/// secrets that reach freqtrade only as environment variables.
pub struct BotSpec {
    pub bot_id: BotId,
    pub freqtrade_version: String,
    pub config: Value,
    pub strategy: StrategyFile,
    pub environment: Vec<(&'static str, Zeroizing<String>)>,
    pub resources: ResourceLimits,
}

/// What kind of job a [`JobSpec`] runs.
pub use anytrade_aggregates::JobKind;

/// Everything a runtime needs to run one backtest or hyperopt: freqtrade commands run
/// in order (download the data, then test), each given the job's config and
/// `user_data`. A step is a subcommand and its arguments, like
/// `["backtesting", "--strategy", "MyStrategy", "--timerange", "20240101-20240301"]`.
pub struct JobSpec {
    pub job_id: Uuid,
    pub kind: JobKind,
    pub freqtrade_version: String,
    pub config: Value,
    pub strategy: StrategyFile,
    pub steps: Vec<Vec<String>>,
    pub resources: ResourceLimits,
}

/// A strategy as freqtrade loads it: `user_data/strategies/<class_name>.py`.
pub struct StrategyFile {
    pub class_name: String,
    pub code: String,
}

/// What a runtime runs for AnyTrade, as it reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub runtime_id: String,
    pub kind: RuntimeKind,
    pub state: InstanceState,
    pub labels: BTreeMap<String, String>,
    /// The freqtrade REST API base URL, while it runs.
    pub api_url: Option<String>,
}

impl Instance {
    /// The bot this instance belongs to, by its `anytrade.bot_id` label.
    pub fn bot_id(&self) -> Option<BotId> {
        self.labels
            .get(labels::BOT_ID)
            .and_then(|id| id.parse().ok())
    }

    pub fn is_running(&self) -> bool {
        self.state == InstanceState::Running
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceState {
    /// Prepared, not running.
    Created,
    Running,
    /// A job that ran every step successfully.
    Finished,
    /// Ended otherwise (a bot that is gone; a job failed, cancelled or killed);
    /// `detail` says how, when the runtime knows.
    Exited {
        detail: String,
    },
}

/// Why a runtime could not do what was asked, in words a user can act on. Its kind
/// (`unavailable`, `install`, …) is what the metrics count.
#[derive(Debug, thiserror::Error, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum RuntimeError {
    #[error("runtime {kind} is not available on this control plane (available: {available})")]
    Unavailable {
        kind: RuntimeKind,
        available: String,
    },
    #[error("freqtrade {version} cannot be installed: {reason}")]
    Install { version: String, reason: String },
    #[error("no free port for the freqtrade API in {range}")]
    NoFreePort { range: String },
    #[error("the bot's config is not valid: {0}")]
    Config(#[from] crate::freqtrade::config::ConfigError),
    #[error("freqtrade exited at start ({status}): {reason}")]
    ExitedAtStart { status: String, reason: String },
    #[error("freqtrade did not answer on {api_url} within {seconds} s")]
    StartTimeout { api_url: String, seconds: u64 },
    #[error("no instance {0}")]
    NotFound(String),
    #[error("job {0} has no steps")]
    NoSteps(Uuid),
    #[error("{0:?} is not a path inside the job's user_data")]
    OutsideJob(String),
    #[error("image {image} is not available: {reason}")]
    Image { image: String, reason: String },
    #[error("the container engine refused: {0}")]
    Engine(String),
    #[error("the Kubernetes API server refused: {0}")]
    Cluster(String),
    #[error("{name} was not ready within {seconds} s: {why}")]
    NotReady {
        name: String,
        seconds: u64,
        why: String,
    },
    #[error("the job's results: {0}")]
    Results(String),
    #[error("{key} is not set: {reason}")]
    Unset { key: &'static str, reason: String },
    #[error("cannot {action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
}

impl RuntimeError {
    pub(crate) fn io(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let action = action.into();
        move |source| Self::Io { action, source }
    }
}

/// A backend that runs freqtrade bots. Every method is idempotent: a repeated call
/// (a re-delivered event, a retry after a crash) finds what the first one made and
/// never makes a second process.
#[async_trait]
pub trait Runtime: Send + Sync {
    fn kind(&self) -> RuntimeKind;

    /// The runtime's stable handle for a bot, known before anything exists.
    fn runtime_id(&self, bot_id: BotId) -> String;

    /// Prepares the bot (directories, freqtrade installation) without starting it.
    async fn create_bot(
        &self,
        bot_id: BotId,
        freqtrade_version: &str,
    ) -> Result<Instance, RuntimeError>;

    /// Runs the bot with `spec` and returns once its REST API answers; a bot already
    /// running is left as it is and returned.
    async fn start_bot(&self, spec: &BotSpec) -> Result<Instance, RuntimeError>;

    /// Ends the bot's processes; stopping a stopped bot does nothing.
    async fn stop_bot(&self, bot_id: BotId) -> Result<(), RuntimeError>;

    /// Stops the bot and removes everything the runtime holds for it.
    async fn delete_bot(&self, bot_id: BotId) -> Result<(), RuntimeError>;

    /// The bot's instance as the runtime sees it now; `None` when it has none.
    async fn bot_status(&self, bot_id: BotId) -> Result<Option<Instance>, RuntimeError>;

    /// The last `lines` lines the bot wrote.
    async fn logs(&self, bot_id: BotId, lines: usize) -> Result<Vec<String>, RuntimeError>;

    /// Starts job `spec`; a job that already ran or runs is returned as it is.
    async fn run_job(&self, spec: &JobSpec) -> Result<Instance, RuntimeError>;

    /// The job's instance as the runtime sees it now; `None` when it has none.
    async fn job_status(&self, job_id: Uuid) -> Result<Option<Instance>, RuntimeError>;

    /// Ends the job's running step and runs no further one.
    async fn cancel_job(&self, job_id: Uuid) -> Result<(), RuntimeError>;

    /// The last `lines` lines the job wrote.
    async fn job_logs(&self, job_id: Uuid, lines: usize) -> Result<Vec<String>, RuntimeError>;

    /// A file the job wrote, by its path under the job's `user_data` (results such as
    /// `backtest_results/.last_result.json`); `None` when there is none.
    async fn job_file(&self, job_id: Uuid, path: &str) -> Result<Option<Vec<u8>>, RuntimeError>;

    /// Everything this runtime holds for AnyTrade (by its labels), running or not.
    async fn list_instances(&self) -> Result<Vec<Instance>, RuntimeError>;

    /// Removes an instance by runtime id, whatever bot it belonged to.
    async fn cleanup(&self, runtime_id: &str) -> Result<(), RuntimeError>;
}

/// Whether a bot's freqtrade REST API at `api_url` answers its unauthenticated `ping`
/// (within 2 s): the sign that a started bot is up.
pub(crate) async fn api_answers(http: &reqwest::Client, api_url: &str) -> bool {
    http.get(format!("{api_url}/api/v1/ping"))
        .timeout(std::time::Duration::from_secs(2))
        .send()
        .await
        .is_ok_and(|response| response.status().is_success())
}

/// The runtimes this control plane can use, by kind.
pub type RuntimeMap = HashMap<RuntimeKind, Arc<dyn Runtime>>;
