//! The bot lifecycle process manager: carries out what `startBot`, `stopBot`,
//! `restartBot` and `deleteBot` (and bot creation) record, through the runtime, and
//! confirms each outcome with a follow-up command; and the reconciler, which compares
//! the bots that should run with what the runtimes run and repairs drift.
//!
//! It acts on a bot's *current* state, read from the event store, never on an event
//! alone: an event only says "look at this bot now". So a re-delivered event finds the
//! work done (the runtime adopts a running bot instead of starting a second one), and
//! rebuilding projections or replaying the log starts and stops nothing: only live
//! events and the periodic pass wake it. At start it looks at every bot, which repairs
//! a crash between an action and its confirmation.
//!
//! A bot that should run and whose process is gone (the control plane was down, the
//! container engine restarted, the process was killed) is started again, within the
//! [`RestartBudget`]; the loss is recorded first (`BotFailed` with what the runtime
//! said), so the bot's history shows every outage.
//!
//! Work on one bot is serialized: events arriving while a bot is being worked on are
//! folded into one more pass over it.

mod restarts;
pub mod spec;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anytrade_aggregates::values::{BotId, WantedState};
use anytrade_aggregates::{BotCommand, BotEvent, BotState, BotStatus, DomainError};
use anytrade_projections::{Event, Projections, bots};
use futures::StreamExt;
use sqlx::PgPool;
use tokio::sync::watch;
use tracing::Instrument;

use crate::crypto::Keyring;
use crate::hub::{FeedEvent, Hub};
use crate::runtime::{Instance, Runtime, RuntimeError, Runtimes};
use crate::store::{CommandError, CommandMetadata, Commands};
pub use restarts::{RestartBudget, RestartPolicy};

/// The actor named in the metadata of every command this manager issues.
const ACTOR: &str = "system:bot-lifecycle";

/// Why a pass over a bot stopped short; the next pass tries again.
#[derive(Debug, thiserror::Error)]
enum PassError {
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Credentials(#[from] crate::bot_credentials::CredentialsError),
    #[error("cannot list bots: {0}")]
    Database(#[from] sqlx::Error),
}

/// One pass over one bot.
#[derive(Clone)]
struct Job {
    /// A restart was asked for: stop the running process before starting.
    restart: bool,
    metadata: CommandMetadata,
}

impl Job {
    fn merge(self, later: Job) -> Job {
        Job {
            restart: self.restart || later.restart,
            metadata: later.metadata,
        }
    }
}

pub struct Lifecycle {
    commands: Arc<Commands>,
    runtimes: Runtimes,
    pool: PgPool,
    keys: Arc<Keyring>,
    /// Bots being worked on, with the pass queued after the current one.
    active: Mutex<HashMap<BotId, Option<Job>>>,
    restarts: RestartBudget,
}

impl Lifecycle {
    pub fn new(
        commands: Arc<Commands>,
        runtimes: Runtimes,
        pool: PgPool,
        keys: Arc<Keyring>,
        restarts: RestartPolicy,
    ) -> Arc<Self> {
        Arc::new(Self {
            commands,
            runtimes,
            pool,
            keys,
            active: Mutex::default(),
            restarts: RestartBudget::new(restarts),
        })
    }

    /// Follows the live log and reconciles every `interval` until `stop`.
    pub fn spawn(
        self: Arc<Self>,
        hub: Hub,
        projections: Projections,
        interval: Duration,
        mut stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut events = Box::pin(hub.events_after_read_models(&projections).await);
            self.sweep(true).await;
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                tokio::select! {
                    Some(event) = events.next() => self.on_event(&event),
                    _ = ticks.tick() => self.sweep(false).await,
                    _ = async { drop(stop.wait_for(|stop| *stop).await) } => return,
                }
            }
        })
    }

    fn on_event(self: &Arc<Self>, event: &FeedEvent) {
        let Some(typed) = &event.typed else { return };
        let Event::Bot(change) = &typed.event else {
            return;
        };
        let bot = BotId::from(typed.aggregate_id);
        match change {
            BotEvent::BotFailed { .. } => self.restarts.saw_failure(bot),
            BotEvent::BotStartRequested
            | BotEvent::BotStopRequested
            | BotEvent::BotDeletionRequested
            | BotEvent::BotRestartRequested => self.restarts.asked(bot),
            _ => {}
        }
        let restart = match change {
            // A bot created with a start wanted is started once provisioned.
            BotEvent::BotCreated { .. }
            | BotEvent::BotProvisioned { .. }
            | BotEvent::BotStartRequested
            | BotEvent::BotStopRequested
            | BotEvent::BotDeletionRequested => false,
            BotEvent::BotRestartRequested => true,
            // Confirmations of this manager's own work, wishes it acts on once the bot
            // is created, and what other workers handle.
            BotEvent::BotWantedStateSet { .. }
            | BotEvent::BotUpdated { .. }
            | BotEvent::BotStarted { .. }
            | BotEvent::BotStopped
            | BotEvent::BotFailed { .. }
            | BotEvent::BotRecovered
            | BotEvent::BotDeleted
            | BotEvent::TradeSyncRequested
            | BotEvent::TradeCloseRequested { .. }
            | BotEvent::BotInstanceRemoved { .. } => return,
        };
        let metadata = CommandMetadata::caused_by(ACTOR, typed);
        self.schedule(bot, Job { restart, metadata });
    }

    /// Works on `bot` now, or right after the pass already running on it.
    fn schedule(self: &Arc<Self>, bot: BotId, job: Job) {
        {
            let Ok(mut active) = self.active.lock() else {
                return;
            };
            if let Some(queued) = active.get_mut(&bot) {
                *queued = Some(match queued.take() {
                    Some(earlier) => earlier.merge(job),
                    None => job,
                });
                return;
            }
            active.insert(bot, None);
        }
        let this = self.clone();
        tokio::spawn(async move {
            let mut job = job;
            loop {
                // Every line logged while the bot is worked on names it and the request
                // that caused the work.
                let span = tracing::info_span!(
                    "bot_lifecycle",
                    bot_id = %bot,
                    correlation_id = %job.metadata.correlation_id
                );
                if let Err(e) = this.settle(bot, &job).instrument(span).await {
                    tracing::warn!(%bot, error = %e, "bot lifecycle pass failed; the reconciler retries");
                }
                let Ok(mut active) = this.active.lock() else {
                    return;
                };
                match active.get_mut(&bot).and_then(Option::take) {
                    Some(next) => job = next,
                    None => {
                        active.remove(&bot);
                        return;
                    }
                }
            }
        });
    }

    fn is_active(&self, bot: BotId) -> bool {
        self.active.lock().is_ok_and(|a| a.contains_key(&bot))
    }

    /// Schedules every bot that needs a look: at start all of them; later those whose
    /// state and runtime disagree, and instances no bot owns.
    async fn sweep(self: &Arc<Self>, startup: bool) {
        let bots = match bots::lifecycles(&self.pool).await {
            Ok(bots) => bots,
            Err(e) => {
                tracing::warn!(error = %e, "reconciler cannot list bots");
                return;
            }
        };
        let mut instances: HashMap<BotId, Instance> = HashMap::new();
        for runtime in self.runtimes.all() {
            match runtime.list_instances().await {
                Ok(listed) => instances.extend(
                    listed
                        .into_iter()
                        .filter_map(|instance| Some((instance.bot_id()?, instance))),
                ),
                Err(e) => {
                    tracing::warn!(runtime = %runtime.kind(), error = %e, "cannot list instances")
                }
            }
        }
        let known: HashSet<BotId> = bots.iter().map(|bot| bot.id).collect();
        let mut due: Vec<BotId> = Vec::new();
        let now = Instant::now();
        for bot in &bots {
            let instance = instances.get(&bot.id);
            let running = instance.is_some_and(Instance::is_running);
            let drift = match bot.status {
                BotStatus::Running => !running,
                BotStatus::Stopped => running || bot.wanted == Some(WantedState::Running),
                // Seen failing, perhaps while it ran (the pass looks), and ended or gone
                // (a Deployment deleted leaves no instance at all).
                BotStatus::Error => !running && self.restarts.allows_failed(bot.id, now),
                BotStatus::Deleted => false,
                // Transitional: someone must be carrying it out.
                BotStatus::Creating
                | BotStatus::Starting
                | BotStatus::Stopping
                | BotStatus::Deleting => !self.is_active(bot.id),
            };
            if startup || drift {
                due.push(bot.id);
            }
        }
        due.extend(instances.keys().filter(|id| !known.contains(id)));
        let metadata = CommandMetadata::issued_by(ACTOR);
        for id in due {
            let job = Job {
                restart: false,
                metadata: metadata.clone(),
            };
            self.schedule(id, job);
        }
    }

    /// Brings bot `id` where its state says it should be.
    async fn settle(&self, id: BotId, job: &Job) -> Result<(), PassError> {
        let bot = self.commands.bots.load_state(&id).await?;
        let Some(state) = bot.state().filter(|s| s.status != BotStatus::Deleted) else {
            return self.remove_leftovers(id, job).await;
        };
        let runtime = match self.runtimes.for_bot(state.runtime) {
            Ok(runtime) => runtime,
            Err(e) => return self.without_runtime(state, e, job).await,
        };
        match state.status {
            BotStatus::Creating => {
                match runtime
                    .create_bot(id, state.freqtrade_version.as_str())
                    .await
                {
                    Ok(instance) => {
                        let command = BotCommand::ConfirmBotProvisioned {
                            runtime_id: instance.runtime_id,
                        };
                        self.send(id, command, job).await
                    }
                    Err(e) => self.fail(id, e.to_string(), job).await,
                }
            }
            BotStatus::Starting => self.start(state, runtime.as_ref(), job).await,
            BotStatus::Stopping => {
                runtime.stop_bot(id).await?;
                self.send(id, BotCommand::ConfirmBotStopped, job).await
            }
            BotStatus::Deleting => {
                runtime.delete_bot(id).await?;
                crate::bot_credentials::delete(&self.pool, id).await?;
                self.send(id, BotCommand::ConfirmBotDeleted, job).await
            }
            BotStatus::Running => {
                let instance = runtime.bot_status(id).await?;
                if instance.as_ref().is_some_and(Instance::is_running) {
                    return Ok(());
                }
                self.restart_lost(state, instance, runtime.as_ref(), job)
                    .await
            }
            BotStatus::Error
                if state.failed_while_running
                    && self.restarts.allows_failed(id, Instant::now()) =>
            {
                let instance = runtime.bot_status(id).await?;
                if instance.as_ref().is_some_and(Instance::is_running) {
                    // Unhealthy, not gone: the health monitor decides.
                    return Ok(());
                }
                self.restart_lost(state, instance, runtime.as_ref(), job)
                    .await
            }
            BotStatus::Stopped if state.wanted == Some(WantedState::Running) => {
                // Asked to start while it was being created: the start's own event
                // brings the pass that runs it.
                self.send(id, BotCommand::StartBot, job).await
            }
            BotStatus::Stopped => {
                let instance = runtime.bot_status(id).await?;
                if let Some(instance) = instance.filter(Instance::is_running) {
                    runtime.stop_bot(id).await?;
                    let command = BotCommand::RecordInstanceRemoved {
                        runtime_id: instance.runtime_id,
                        reason: "the bot is stopped but its freqtrade process was running".into(),
                    };
                    self.send(id, command, job).await?;
                }
                Ok(())
            }
            BotStatus::Error | BotStatus::Deleted => Ok(()),
        }
    }

    /// Runs the bot, or adopts the process that already runs it.
    async fn start(
        &self,
        state: &BotState,
        runtime: &dyn Runtime,
        job: &Job,
    ) -> Result<(), PassError> {
        let id = state.id;
        // A restart is a stop, then a start with new credentials (saved in between), so
        // a crash at any point leaves a process whose credentials are the stored ones,
        // or none.
        if job.restart {
            runtime.stop_bot(id).await?;
        } else if let Some(instance) = runtime.bot_status(id).await?.filter(Instance::is_running)
            && let Some(api_url) = instance.api_url
        {
            let command = BotCommand::ConfirmBotStarted {
                runtime_id: instance.runtime_id,
                api_url,
            };
            return self.send(id, command, job).await;
        }
        let (spec, credentials) = match spec::bot_spec(&self.commands, &self.keys, state).await {
            Ok(made) => made,
            Err(e) => return self.fail(id, e.to_string(), job).await,
        };
        // Stored before the process exists, so a crash right after leaves a bot whose
        // credentials are known.
        crate::bot_credentials::save(
            &self.pool,
            &self.keys,
            id,
            &credentials.username,
            &credentials.password,
        )
        .await?;
        match runtime.start_bot(&spec).await {
            Ok(instance) => match instance.api_url {
                Some(api_url) => {
                    let command = BotCommand::ConfirmBotStarted {
                        runtime_id: instance.runtime_id,
                        api_url,
                    };
                    self.send(id, command, job).await
                }
                None => {
                    let reason = format!(
                        "the runtime started {} but reported no REST API address for it",
                        instance.runtime_id
                    );
                    self.fail(id, reason, job).await
                }
            },
            Err(e) => self.fail(id, e.to_string(), job).await,
        }
    }

    /// Starts again a bot that ran and whose process is gone (`instance` is what the
    /// runtime has left of it), recording the loss first; within the budget, else the
    /// bot stays in error with the reason.
    async fn restart_lost(
        &self,
        state: &BotState,
        instance: Option<Instance>,
        runtime: &dyn Runtime,
        job: &Job,
    ) -> Result<(), PassError> {
        let id = state.id;
        let detail = match instance.map(|i| i.state) {
            Some(crate::runtime::InstanceState::Exited { detail }) => detail,
            _ => "no instance".to_owned(),
        };
        let lost = format!("the freqtrade process is gone ({detail})");
        let policy = self.restarts.policy();
        let Some(attempt) = self.restarts.take(id, Instant::now()) else {
            if state.status == BotStatus::Running {
                let reason = format!("{lost}; not started again: restarts are {policy}");
                return self
                    .send(id, BotCommand::ReportBotLost { reason }, job)
                    .await;
            }
            return Ok(());
        };
        if state.status == BotStatus::Running {
            let reason = format!("{lost}; starting it again (restart {attempt}, {policy})");
            // Refused unless still running: a stop or deletion meanwhile wins.
            self.send(id, BotCommand::ReportBotLost { reason }, job)
                .await?;
        }
        let bot = self.commands.bots.load_state(&id).await?;
        if !bot
            .state()
            .is_some_and(|s| s.status == BotStatus::Error && s.failed_while_running)
        {
            return Ok(());
        }
        tracing::info!(bot = %id, %lost, attempt, "starting a lost bot again");
        self.send(id, BotCommand::StartBot, job).await?;
        let bot = self.commands.bots.load_state(&id).await?;
        match bot.state() {
            Some(state) if state.status == BotStatus::Starting => {
                self.start(state, runtime, job).await
            }
            _ => Ok(()),
        }
    }

    /// A bot whose runtime this control plane does not have: nothing of it can exist,
    /// so stopping and deleting are done; creating and starting fail with the reason.
    async fn without_runtime(
        &self,
        state: &BotState,
        error: RuntimeError,
        job: &Job,
    ) -> Result<(), PassError> {
        let command = match state.status {
            BotStatus::Creating | BotStatus::Starting | BotStatus::Running => {
                return self.fail(state.id, error.to_string(), job).await;
            }
            BotStatus::Stopping => BotCommand::ConfirmBotStopped,
            BotStatus::Deleting => BotCommand::ConfirmBotDeleted,
            BotStatus::Stopped | BotStatus::Error | BotStatus::Deleted => return Ok(()),
        };
        self.send(state.id, command, job).await
    }

    /// Removes what any runtime still holds for a deleted or unknown bot.
    async fn remove_leftovers(&self, id: BotId, job: &Job) -> Result<(), PassError> {
        for runtime in self.runtimes.all() {
            let Some(instance) = runtime.bot_status(id).await? else {
                continue;
            };
            runtime.delete_bot(id).await?;
            tracing::info!(bot = %id, runtime_id = %instance.runtime_id, "removed an instance no bot owns");
            let command = BotCommand::RecordInstanceRemoved {
                runtime_id: instance.runtime_id,
                reason: "no bot owns it (the bot is deleted or unknown)".into(),
            };
            self.send(id, command, job).await?;
        }
        Ok(())
    }

    async fn fail(&self, id: BotId, reason: String, job: &Job) -> Result<(), PassError> {
        tracing::warn!(bot = %id, %reason, "bot failed");
        self.send(id, BotCommand::ReportBotFailure { reason }, job)
            .await
    }

    /// Issues `command`. A refusal because the bot moved on meanwhile (stopped while
    /// starting, say: a conflict on its status) is not an error: the pass queued by that
    /// change takes over. Any other refusal means the runtime reported something the bot
    /// cannot record (an unusable address, say): the bot fails with that reason at
    /// once, rather than waiting in a transitional status for the reconciler.
    async fn send(&self, id: BotId, command: BotCommand, job: &Job) -> Result<(), PassError> {
        let failure = matches!(command, BotCommand::ReportBotFailure { .. });
        let name: &'static str = (&command).into();
        match self
            .commands
            .bots
            .execute(&id, command, &job.metadata)
            .await
        {
            Ok(_) => {
                tracing::info!(bot = %id, command = name, "bot lifecycle step done");
                Ok(())
            }
            Err(CommandError::Domain(e @ DomainError::Conflict { .. })) => {
                tracing::info!(bot = %id, reason = %e, "bot changed meanwhile; leaving it to the next pass");
                Ok(())
            }
            Err(CommandError::Domain(e)) if !failure => {
                let reason = format!("refused: {e}");
                Box::pin(self.fail(id, reason, job)).await
            }
            Err(e) => Err(e.into()),
        }
    }
}
