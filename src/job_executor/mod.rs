//! The job executor (README, "Backtests and hyperopts"): runs requested
//! backtests and hyperopts as runtime jobs, follows them, and records how each ended.
//!
//! Like the bot lifecycle it is level-triggered: every pass looks at the jobs the read
//! models show pending or running and acts on each job's current aggregate state, so a
//! re-delivered event, a crash between an action and its record, or a restart of the
//! control plane leaves nothing half done. Events only make the next pass come sooner;
//! cancellations and deletions are carried out at once.
//!
//! A pending job starts when fewer jobs of its kind run than the limit allows. A
//! running job is checked each pass: a hyperopt's progress is recorded from the epochs
//! freqtrade has written; a finished job's results are parsed from freqtrade's result
//! files; a job that ended otherwise fails with the runtime's reason.

mod results;
mod steps;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anytrade_aggregates::values::ResourceLimits;
use anytrade_aggregates::{
    BacktestCommand, BacktestEvent, BacktestState, HyperoptCommand, HyperoptEvent, HyperoptState,
    JobSpec, JobStatus,
};
use anytrade_projections::{Event, Projections, jobs};
use futures::StreamExt;
use serde_json::{Map, Value};
use sqlx::PgPool;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use crate::config::JobSettings;
use crate::freqtrade::config::job_config;
use crate::hub::{FeedEvent, Hub};
use crate::runtime::{self, Instance, InstanceState, JobKind, Runtime, RuntimeError, Runtimes};
use crate::store::{CommandError, CommandMetadata, Commands};

const ACTOR: &str = "system:job-executor";
/// The lines of a job's log kept for `logOutput`.
const LOG_LINES: usize = 200;
/// How often the runtimes' job instances are compared with the jobs' states.
const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// How often a running job's progress and log are read at most.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Why a pass over a job stopped short; the next pass tries again.
#[derive(Debug, thiserror::Error)]
enum PassError {
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("cannot list jobs: {0}")]
    Database(#[from] sqlx::Error),
}

/// A job as its aggregate holds it now.
enum Current {
    Backtest(BacktestState),
    Hyperopt(HyperoptState),
}

impl Current {
    fn spec(&self) -> &JobSpec {
        match self {
            Self::Backtest(state) => &state.spec,
            Self::Hyperopt(state) => &state.spec,
        }
    }

    fn status(&self) -> JobStatus {
        match self {
            Self::Backtest(state) => state.status,
            Self::Hyperopt(state) => state.status,
        }
    }

    /// What a hyperopt searches; `None` for a backtest.
    fn search(&self) -> Option<&HyperoptState> {
        match self {
            Self::Backtest(_) => None,
            Self::Hyperopt(state) => Some(state),
        }
    }

    /// Where freqtrade writes the job's results, under `user_data`.
    fn results_dir(&self) -> &'static str {
        match self {
            Self::Backtest(_) => "backtest_results",
            Self::Hyperopt(_) => "hyperopt_results",
        }
    }
}

/// What an event means to the executor.
enum JobChange {
    /// Start it when its turn comes.
    Requested,
    /// Stop it now.
    Cancelled,
    /// Stop it now and remove its files.
    Deleted,
    /// Its own records of what it did.
    Other,
}

impl JobChange {
    fn of_backtest(event: &BacktestEvent) -> Self {
        match event {
            BacktestEvent::BacktestRequested { .. } => Self::Requested,
            BacktestEvent::BacktestCancelled => Self::Cancelled,
            BacktestEvent::BacktestDeleted => Self::Deleted,
            BacktestEvent::BacktestStarted { .. }
            | BacktestEvent::BacktestCompleted { .. }
            | BacktestEvent::BacktestFailed { .. } => Self::Other,
        }
    }

    fn of_hyperopt(event: &HyperoptEvent) -> Self {
        match event {
            HyperoptEvent::HyperoptRequested { .. } => Self::Requested,
            HyperoptEvent::HyperoptCancelled => Self::Cancelled,
            HyperoptEvent::HyperoptDeleted => Self::Deleted,
            HyperoptEvent::HyperoptStarted { .. }
            | HyperoptEvent::HyperoptProgressReported { .. }
            | HyperoptEvent::HyperoptCompleted { .. }
            | HyperoptEvent::HyperoptFailed { .. } => Self::Other,
        }
    }
}

pub struct JobExecutor {
    commands: Arc<Commands>,
    runtimes: Runtimes,
    pool: PgPool,
    settings: JobSettings,
    /// Every job's CPU and memory limits, from the settings.
    limits: ResourceLimits,
    wake: Notify,
    /// When each running job's log and progress were last read.
    progress_read: Mutex<HashMap<Uuid, Instant>>,
}

impl JobExecutor {
    pub fn new(
        commands: Arc<Commands>,
        runtimes: Runtimes,
        pool: PgPool,
        settings: JobSettings,
    ) -> Arc<Self> {
        // Checked when the settings loaded.
        let limits = settings.resources().unwrap_or_default();
        Arc::new(Self {
            commands,
            runtimes,
            pool,
            settings,
            limits,
            wake: Notify::new(),
            progress_read: Mutex::default(),
        })
    }

    /// Follows the live log and passes over the jobs every poll interval until `stop`.
    pub fn spawn(
        self: Arc<Self>,
        hub: Hub,
        projections: Projections,
        mut stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut events = Box::pin(hub.events_after_read_models(&projections).await);
            let mut ticks = tokio::time::interval(Duration::from_millis(
                self.settings.poll_interval_ms.max(100),
            ));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut sweeps = tokio::time::interval(SWEEP_EVERY);
            sweeps.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    Some(event) = events.next() => self.on_event(&event),
                    _ = sweeps.tick() => self.sweep().await,
                    _ = ticks.tick() => self.pass().await,
                    _ = self.wake.notified() => self.pass().await,
                    _ = async { drop(stop.wait_for(|stop| *stop).await) } => return,
                }
            }
        })
    }

    fn on_event(self: &Arc<Self>, event: &FeedEvent) {
        let Some(typed) = &event.typed else { return };
        let (kind, change) = match &typed.event {
            Event::Backtest(change) => (JobKind::Backtest, JobChange::of_backtest(change)),
            Event::Hyperopt(change) => (JobKind::Hyperopt, JobChange::of_hyperopt(change)),
            _ => return,
        };
        let deleted = match change {
            JobChange::Requested => return self.wake.notify_one(),
            JobChange::Cancelled => false,
            JobChange::Deleted => true,
            JobChange::Other => return,
        };
        let id = typed.aggregate_id;
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.stop_job(kind, id, deleted).await {
                tracing::warn!(%id, kind = kind.as_str(), error = %e, "stopping a job failed");
            }
        });
    }

    /// One look at every pending and running job.
    async fn pass(&self) {
        for kind in [JobKind::Backtest, JobKind::Hyperopt] {
            if let Err(e) = self.pass_kind(kind).await {
                tracing::warn!(kind = kind.as_str(), error = %e, "job pass failed; the next one retries");
            }
        }
    }

    async fn pass_kind(&self, kind: JobKind) -> Result<(), PassError> {
        let jobs = jobs::unfinished(&self.pool, kind).await?;
        let mut running = 0;
        for (id, status) in &jobs {
            if *status == JobStatus::Running {
                running += 1;
                self.logged(kind, *id, self.follow(kind, *id).await);
            }
        }
        let limit = match kind {
            JobKind::Backtest => self.settings.max_backtests,
            JobKind::Hyperopt => self.settings.max_hyperopts,
        };
        for (id, _) in jobs
            .iter()
            .filter(|(_, status)| *status == JobStatus::Pending)
        {
            if running >= limit {
                break;
            }
            match self.launch(kind, *id).await {
                Ok(true) => running += 1,
                Ok(false) => {}
                Err(e) => self.logged(kind, *id, Err(e)),
            }
        }
        Ok(())
    }

    fn logged(&self, kind: JobKind, id: Uuid, outcome: Result<(), PassError>) {
        if let Err(e) = outcome {
            tracing::warn!(%id, kind = kind.as_str(), error = %e, "job step failed; the next pass retries");
        }
    }

    async fn current(&self, kind: JobKind, id: Uuid) -> Result<Option<Current>, PassError> {
        Ok(match kind {
            JobKind::Backtest => self
                .commands
                .backtests
                .load_state(&id)
                .await?
                .state()
                .filter(|s| !s.deleted)
                .cloned()
                .map(Current::Backtest),
            JobKind::Hyperopt => self
                .commands
                .hyperopts
                .load_state(&id)
                .await?
                .state()
                .filter(|s| !s.deleted)
                .cloned()
                .map(Current::Hyperopt),
        })
    }

    /// Starts a pending job. Whether the job runs now: a job the read model still shows
    /// pending may already have been started (the projection lags the event store), and
    /// it takes its place in the limit all the same.
    async fn launch(&self, kind: JobKind, id: Uuid) -> Result<bool, PassError> {
        let Some(job) = self.current(kind, id).await? else {
            return Ok(false);
        };
        if job.status() != JobStatus::Pending {
            return Ok(job.status() == JobStatus::Running);
        }
        let spec = match self.runtime_spec(kind, id, &job).await? {
            Ok(spec) => spec,
            Err(reason) => {
                self.record(kind, id, Outcome::Failed(reason)).await?;
                return Ok(false);
            }
        };
        let runtime = self.runtimes.for_bot(None)?;
        match runtime.run_job(&spec).await {
            Ok(instance) => {
                self.record(kind, id, Outcome::Started(instance.runtime_id))
                    .await?;
                Ok(true)
            }
            Err(e) => {
                self.record(kind, id, Outcome::Failed(e.to_string()))
                    .await?;
                Ok(false)
            }
        }
    }

    /// What the runtime runs for `job`, or why it cannot run (the job's failure).
    async fn runtime_spec(
        &self,
        kind: JobKind,
        id: Uuid,
        job: &Current,
    ) -> Result<Result<runtime::JobSpec, String>, PassError> {
        let spec = job.spec();
        let Some(exchange_id) = spec.exchange_id else {
            return Ok(Err(
                "the job names no exchange to download market data from".into(),
            ));
        };
        let exchange = self.commands.exchanges.load_state(&exchange_id).await?;
        let Some(exchange) = exchange.state().filter(|e| !e.deleted) else {
            return Ok(Err(format!("the job's exchange {exchange_id} was deleted")));
        };
        let strategy = self
            .commands
            .strategies
            .load_state(&spec.strategy_id)
            .await?;
        let Some(version) = strategy.state().and_then(|s| {
            s.versions
                .iter()
                .find(|v| v.version == spec.strategy_version)
        }) else {
            return Ok(Err(format!(
                "the job's strategy {} has no version {}",
                spec.strategy_id, spec.strategy_version
            )));
        };
        let config = match job_config(exchange, spec) {
            Ok(config) => config,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let steps = match job.search() {
            None => steps::backtest(spec),
            Some(search) => steps::hyperopt(
                spec,
                &steps::Search {
                    epochs: search.epochs,
                    spaces: &search.spaces,
                    metric: search.optimization_metric,
                },
            ),
        };
        Ok(Ok(runtime::JobSpec {
            job_id: id,
            kind,
            freqtrade_version: self.settings.freqtrade_version.clone(),
            config,
            strategy: runtime::StrategyFile {
                class_name: version.class_name.clone(),
                code: version.code.clone(),
            },
            steps,
            resources: self.limits,
        }))
    }

    /// The runtime that has the job, and its instance there.
    /// `None` only when every runtime answered without it: a runtime that cannot be
    /// asked (an engine down) is an error, so a job there is not taken for gone.
    async fn find(&self, id: Uuid) -> Result<Option<(Arc<dyn Runtime>, Instance)>, PassError> {
        let mut unanswered = None;
        for runtime in self.runtimes.all() {
            match runtime.job_status(id).await {
                Ok(Some(instance)) => return Ok(Some((runtime.clone(), instance))),
                Ok(None) => {}
                Err(e) => unanswered = Some(e),
            }
        }
        match unanswered {
            Some(e) => Err(e.into()),
            None => Ok(None),
        }
    }

    /// Checks a running job: progress while it runs, its outcome once it ended.
    async fn follow(&self, kind: JobKind, id: Uuid) -> Result<(), PassError> {
        let Some(job) = self.current(kind, id).await? else {
            return Ok(());
        };
        if job.status() != JobStatus::Running {
            return Ok(());
        }
        let Some((runtime, instance)) = self.find(id).await? else {
            self.forget_progress(id);
            let reason = "the job's process is gone (its files were removed)".to_owned();
            return self.record(kind, id, Outcome::Failed(reason)).await;
        };
        let outcome = match instance.state {
            InstanceState::Created | InstanceState::Running => {
                if self.progress_due(id) {
                    self.keep_logs(runtime.as_ref(), id).await?;
                    if let Some(search) = job.search() {
                        let file = self.latest_result(runtime.as_ref(), id, &job).await?;
                        if let Ok(file) = file {
                            let done = results::epochs_done(&file);
                            self.record_progress(id, search, done, false).await?;
                        }
                    }
                }
                return Ok(());
            }
            InstanceState::Finished => match self.results(runtime.as_ref(), id, &job).await? {
                Ok(results) => Outcome::Completed(results),
                Err(reason) => Outcome::Failed(reason),
            },
            InstanceState::Exited { detail } => {
                // A job cut off by a restart may have left its process running; this
                // ends it (and does nothing to a job that ended on its own).
                runtime.cancel_job(id).await?;
                Outcome::Failed(detail)
            }
        };
        if let (Some(search), Outcome::Completed(results)) = (job.search(), &outcome) {
            let done = results.get("epochs_done").and_then(Value::as_u64);
            let done = done.and_then(|done| u32::try_from(done).ok()).unwrap_or(0);
            self.record_progress(id, search, done, true).await?;
        }
        self.forget_progress(id);
        self.keep_logs(runtime.as_ref(), id).await?;
        self.record(kind, id, outcome).await
    }

    /// Whether a running job's log and progress are due to be read again (a hyperopt's
    /// epochs file grows by the epoch's trades on every epoch, so it is read at most
    /// every [`PROGRESS_EVERY`]).
    fn progress_due(&self, id: Uuid) -> bool {
        let Ok(mut read) = self.progress_read.lock() else {
            return true;
        };
        let now = Instant::now();
        match read.get(&id) {
            Some(last) if now.duration_since(*last) < PROGRESS_EVERY => false,
            _ => {
                read.insert(id, now);
                true
            }
        }
    }

    fn forget_progress(&self, id: Uuid) {
        if let Ok(mut read) = self.progress_read.lock() {
            read.remove(&id);
        }
    }

    /// Keeps the job's last [`LOG_LINES`] lines for `logOutput`.
    async fn keep_logs(&self, runtime: &dyn Runtime, id: Uuid) -> Result<(), PassError> {
        let lines = runtime.job_logs(id, LOG_LINES).await?;
        if lines.is_empty() {
            // Nothing to read now (a pod whose log is not served): what was kept stays.
            return Ok(());
        }
        jobs::logs::keep(&self.pool, id, &lines.join("\n")).await?;
        Ok(())
    }

    /// Records that a hyperopt has saved `done` epochs, when that is more than known.
    /// A `finished` search is at 100 % whatever it saved: freqtrade saves no epoch whose
    /// parameters repeat an earlier one's, so a small search space finishes with fewer.
    async fn record_progress(
        &self,
        id: Uuid,
        search: &HyperoptState,
        done: u32,
        finished: bool,
    ) -> Result<(), PassError> {
        let total = search.epochs.get().max(1);
        let done = done.min(total);
        let known = search.epoch.is_some_and(|seen| seen >= done) || done == 0;
        if known && !finished {
            return Ok(());
        }
        let progress = if finished {
            100.0
        } else {
            f64::from(done) * 100.0 / f64::from(total)
        };
        let command = HyperoptCommand::ReportHyperoptProgress {
            progress,
            epoch: (done > 0).then_some(done),
        };
        self.execute_hyperopt(id, command).await
    }

    /// The job's latest result file, as `<results dir>/.last_result.json` names it, or
    /// why there is none.
    async fn latest_result(
        &self,
        runtime: &dyn Runtime,
        id: Uuid,
        job: &Current,
    ) -> Result<Result<Vec<u8>, String>, PassError> {
        let dir = job.results_dir();
        let last_path = format!("{dir}/.last_result.json");
        let Some(last) = runtime.job_file(id, &last_path).await? else {
            return Ok(Err(format!("no {last_path} was written")));
        };
        let name = match job {
            Current::Backtest(_) => results::latest_backtest(&last),
            Current::Hyperopt(_) => results::latest_hyperopt(&last),
        };
        let name = match name {
            Ok(name) => name,
            Err(e) => return Ok(Err(e.to_string())),
        };
        Ok(runtime
            .job_file(id, &format!("{dir}/{name}"))
            .await?
            .ok_or_else(|| format!("the result {dir}/{name} is missing")))
    }

    /// A finished job's results, or why they cannot be read (the job's failure).
    async fn results(
        &self,
        runtime: &dyn Runtime,
        id: Uuid,
        job: &Current,
    ) -> Result<Result<Map<String, Value>, String>, PassError> {
        let file = match self.latest_result(runtime, id, job).await? {
            Ok(file) => file,
            Err(reason) => return Ok(Err(format!("the job finished, but {reason}"))),
        };
        Ok(match job {
            Current::Backtest(state) => results::backtest_stats(&file, &state.spec.strategy_class)
                .map_err(|e| e.to_string()),
            Current::Hyperopt(_) => results::hyperopt_epochs(&file)
                .map_err(|e| e.to_string())
                .and_then(|epochs| {
                    results::hyperopt_results(&epochs)
                        .ok_or_else(|| "the hyperopt finished no epoch".to_owned())
                }),
        })
    }

    /// Ends a cancelled or deleted job's process; a deleted job's files go too.
    async fn stop_job(&self, kind: JobKind, id: Uuid, deleted: bool) -> Result<(), PassError> {
        self.forget_progress(id);
        if deleted {
            jobs::logs::remove(&self.pool, id).await?;
        }
        let Some((runtime, instance)) = self.find(id).await? else {
            return Ok(());
        };
        if instance.is_running() {
            runtime.cancel_job(id).await?;
        }
        if deleted {
            runtime.cleanup(&instance.runtime_id).await?;
        }
        tracing::info!(%id, kind = kind.as_str(), deleted, "job stopped");
        Ok(())
    }

    /// At start and every [`SWEEP_EVERY`]: what the runtimes hold for a deleted or
    /// unknown job is removed, and a process still running for a job that has ended
    /// (cancelled, or recorded as finished while its process lingered) is stopped. This
    /// repeats what a cancellation or deletion did at once, should that have failed.
    async fn sweep(&self) {
        for runtime in self.runtimes.all() {
            let instances = match runtime.list_instances().await {
                Ok(instances) => instances,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot list runtime instances");
                    continue;
                }
            };
            for instance in instances {
                let Some((kind, id)) = job_of(&instance) else {
                    continue;
                };
                let outcome = match self.current(kind, id).await {
                    Ok(None) => self.stop_job(kind, id, true).await,
                    Ok(Some(job)) if job.status().is_finished() && instance.is_running() => {
                        self.stop_job(kind, id, false).await
                    }
                    Ok(Some(_)) => Ok(()),
                    Err(e) => Err(e),
                };
                self.logged(kind, id, outcome);
            }
        }
    }

    async fn record(&self, kind: JobKind, id: Uuid, outcome: Outcome) -> Result<(), PassError> {
        match &outcome {
            Outcome::Failed(reason) => {
                tracing::info!(%id, kind = kind.as_str(), %reason, "job failed")
            }
            Outcome::Started(runtime_id) => {
                tracing::info!(%id, kind = kind.as_str(), %runtime_id, "job started")
            }
            Outcome::Completed(_) => tracing::info!(%id, kind = kind.as_str(), "job completed"),
        }
        match kind {
            JobKind::Backtest => {
                let command = match outcome {
                    Outcome::Started(runtime_id) => BacktestCommand::StartBacktest { runtime_id },
                    Outcome::Completed(results) => BacktestCommand::CompleteBacktest {
                        results: Value::Object(results),
                    },
                    Outcome::Failed(error) => BacktestCommand::FailBacktest { error },
                };
                let done = self
                    .commands
                    .backtests
                    .execute(&id, command, &metadata())
                    .await;
                changed_meanwhile(id, done.map(|_| ()))
            }
            JobKind::Hyperopt => {
                let command = match outcome {
                    Outcome::Started(runtime_id) => HyperoptCommand::StartHyperopt { runtime_id },
                    Outcome::Completed(results) => HyperoptCommand::CompleteHyperopt {
                        results: Value::Object(results),
                    },
                    Outcome::Failed(error) => HyperoptCommand::FailHyperopt { error },
                };
                self.execute_hyperopt(id, command).await
            }
        }
    }

    async fn execute_hyperopt(&self, id: Uuid, command: HyperoptCommand) -> Result<(), PassError> {
        let done = self
            .commands
            .hyperopts
            .execute(&id, command, &metadata())
            .await;
        changed_meanwhile(id, done.map(|_| ()))
    }
}

/// What the executor records about a job.
enum Outcome {
    Started(String),
    Completed(Map<String, Value>),
    Failed(String),
}

/// A refusal because the job moved on meanwhile (cancelled while it was being
/// started, say) is not an error: the job's new state is what the next pass acts on.
fn changed_meanwhile(id: Uuid, done: Result<(), CommandError>) -> Result<(), PassError> {
    match done {
        Ok(()) => Ok(()),
        Err(CommandError::Domain(e)) => {
            tracing::info!(%id, reason = %e, "job changed meanwhile; leaving it to the next pass");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

fn metadata() -> CommandMetadata {
    CommandMetadata::issued_by(ACTOR)
}

/// The job an instance runs, by its `anytrade.kind` and `anytrade.job_id` labels.
fn job_of(instance: &Instance) -> Option<(JobKind, Uuid)> {
    let kind = JobKind::parse(instance.labels.get(runtime::labels::KIND)?).ok()?;
    let id = Uuid::parse_str(instance.labels.get(runtime::labels::JOB_ID)?).ok()?;
    Some((kind, id))
}
