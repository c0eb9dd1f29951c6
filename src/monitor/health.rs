//! The health monitor (README, "Health"): asks every running bot's
//! freqtrade `ping`, `show_config` and `health` once per interval.
//!
//! A success records when the bot was last seen (in `bot_health`, not the event log)
//! and brings a bot it had reported unhealthy back to running. Failures count up:
//! at `unhealthy_after` in a row the bot becomes `error` with the reason; past
//! `stop_after` its instance is stopped and that is recorded. Only those transitions
//! are events. Each bot has a fixed second within the interval (from its id), so a
//! fleet is checked evenly rather than in one burst; a bot that answers 429 is left
//! alone for as long as it asks.

use std::sync::Arc;
use std::time::Duration;

use anytrade_aggregates::values::BotId;
use anytrade_aggregates::{BotCommand, BotStatus};
use anytrade_projections::bot_health::{self, Answer};
use anytrade_projections::bots::{self, HealthCheckDue as Due};
use futures::StreamExt;
use sqlx::PgPool;
use tokio::sync::watch;

use super::backoff::Backoff;
use super::clients::{BotClients, ClientError};
use super::in_flight::InFlight;
use super::schedule::due_now;
use crate::freqtrade::client::FreqtradeError;
use crate::freqtrade::models::{Health, ShowConfig};
use crate::metrics::PollOutcome;
use crate::runtime::Runtimes;
use crate::store::{CommandMetadata, Commands};

const ACTOR: &str = "system:health-monitor";

/// How often and how patiently bots are checked.
#[derive(Debug, Clone, Copy)]
pub struct HealthPolicy {
    pub interval: Duration,
    /// Failed checks in a row that make a bot unhealthy (status error).
    pub unhealthy_after: u32,
    /// Failed checks in a row after which its instance is stopped.
    pub stop_after: u32,
    /// Checks in flight at once.
    pub concurrency: usize,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
            unhealthy_after: 3,
            stop_after: 10,
            concurrency: 32,
        }
    }
}

pub struct HealthMonitor {
    pool: PgPool,
    commands: Arc<Commands>,
    clients: Arc<BotClients>,
    runtimes: Runtimes,
    policy: HealthPolicy,
    /// Bots that answered 429 are left alone as long as they ask.
    backoff: Backoff,
    /// Bots being checked now: a slow bot is not checked twice at once.
    in_flight: InFlight,
}

impl HealthMonitor {
    pub fn new(
        pool: PgPool,
        commands: Arc<Commands>,
        clients: Arc<BotClients>,
        runtimes: Runtimes,
        policy: HealthPolicy,
    ) -> Arc<Self> {
        Arc::new(Self {
            pool,
            commands,
            clients,
            runtimes,
            policy,
            backoff: Backoff::default(),
            in_flight: InFlight::default(),
        })
    }

    /// Checks each bot once per interval until `stop`.
    pub fn spawn(self: Arc<Self>, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_secs(1));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = ticks.tick() => self.check_due().await,
                    _ = async { drop(stop.wait_for(|stop| *stop).await) } => return,
                }
            }
        })
    }

    /// Checks the bots whose second of the interval this is.
    async fn check_due(self: &Arc<Self>) {
        let due = bots::health_checks_due(
            &self.pool,
            due_now(self.policy.interval),
            i32::try_from(self.policy.unhealthy_after).unwrap_or(i32::MAX),
            i32::try_from(self.policy.stop_after).unwrap_or(i32::MAX),
        )
        .await;
        let due = match due {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "health monitor cannot list bots");
                return;
            }
        };
        futures::stream::iter(due)
            .for_each_concurrent(self.policy.concurrency, |bot| {
                let this = self.clone();
                async move { this.check(bot).await }
            })
            .await;
    }

    async fn check(&self, bot: Due) {
        if self.backoff.is_waiting(bot.id) {
            return;
        }
        let Some(_busy) = self.in_flight.begin(bot.id) else {
            return;
        };
        self.check_now(&bot).await;
    }

    async fn check_now(&self, bot: &Due) {
        let started = std::time::Instant::now();
        let answer = self.ask(bot).await;
        let outcome = match &answer {
            Ok(_) => PollOutcome::Ok,
            Err(ClientError::Freqtrade(FreqtradeError::RateLimited { .. })) => {
                PollOutcome::RateLimited
            }
            Err(_) => PollOutcome::Failed,
        };
        crate::metrics::metrics().health_check(outcome, started);
        match answer {
            Ok((config, health)) => self.seen(bot, &config, &health).await,
            Err(ClientError::Freqtrade(FreqtradeError::RateLimited { retry_after, .. })) => {
                self.backoff
                    .rate_limited(bot.id, retry_after, self.policy.interval);
            }
            Err(e) => {
                if matches!(
                    e,
                    ClientError::Freqtrade(FreqtradeError::Unauthorized { .. })
                ) {
                    self.clients.forget(bot.id);
                }
                self.missed(bot, &e.to_string()).await;
            }
        }
    }

    async fn ask(&self, bot: &Due) -> Result<(ShowConfig, Health), ClientError> {
        let client = self.clients.get(bot.id, &bot.api_url).await?;
        client.ping().await?;
        let config = client.show_config().await?;
        let health = client.health().await?;
        Ok((config, health))
    }

    async fn seen(&self, bot: &Due, config: &ShowConfig, health: &Health) {
        // The failures before this check decide whether it ends an unhealthy spell.
        let answer = Answer {
            bot_state: &config.state,
            api_version: Some(config.api_version),
            last_process_at: health.last_process,
        };
        let before = bot_health::record_success(&self.pool, bot.id, &answer).await;
        match before {
            Ok(Some(failures)) if failures as u32 >= self.policy.unhealthy_after => {
                // The bot refuses this unless it is in error.
                self.send(bot.id, BotCommand::ConfirmBotRecovered).await;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(bot = %bot.id, error = %e, "cannot record a health check"),
        }
    }

    async fn missed(&self, bot: &Due, error: &str) {
        let failures = bot_health::record_failure(&self.pool, bot.id, error).await;
        let failures = match failures {
            Ok(failures) => failures as u32,
            Err(e) => {
                tracing::warn!(bot = %bot.id, error = %e, "cannot record a failed health check");
                return;
            }
        };
        tracing::info!(bot = %bot.id, failures, %error, "health check failed");
        if failures == self.policy.unhealthy_after && bot.status == BotStatus::Running {
            let reason =
                format!("unhealthy: {failures} health checks failed in a row (last: {error})");
            // Refused unless the bot is still running: when the reconciler has started
            // it again meanwhile, this report is about the instance it replaced (a
            // failure reported while STARTING left it in error for good).
            self.send(bot.id, BotCommand::ReportBotLost { reason })
                .await;
        }
        if failures > self.policy.stop_after {
            self.stop_instance(bot, failures).await;
        }
    }

    /// Gives up on a bot that has not answered for too long: its instance is stopped.
    async fn stop_instance(&self, bot: &Due, failures: u32) {
        let runtime = match self.runtimes.for_bot(bot.runtime) {
            Ok(runtime) => runtime,
            Err(e) => {
                tracing::warn!(bot = %bot.id, error = %e, "cannot stop an unhealthy bot");
                return;
            }
        };
        if let Err(e) = runtime.stop_bot(bot.id).await {
            tracing::warn!(bot = %bot.id, error = %e, "cannot stop an unhealthy bot");
            return;
        }
        let command = BotCommand::RecordInstanceRemoved {
            runtime_id: runtime.runtime_id(bot.id),
            reason: format!("stopped after {failures} failed health checks in a row"),
        };
        self.send(bot.id, command).await;
    }

    async fn send(&self, bot: BotId, command: BotCommand) {
        let metadata = CommandMetadata::issued_by(ACTOR);
        if let Err(e) = self.commands.bots.execute(&bot, command, &metadata).await {
            tracing::info!(%bot, error = %e, "health transition not recorded");
        }
    }
}
