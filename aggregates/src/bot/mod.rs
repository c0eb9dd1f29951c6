//! The Bot aggregate: one freqtrade bot, its settings and its lifecycle.
//!
//! Users create, update, start, stop, restart and delete bots; the runtime layer confirms
//! each step or reports a failure. Which step is allowed from which status lives in one
//! place, [`BotStatus::after`]. A bot pins one version of its strategy, so editing the
//! strategy never changes what a running bot executes. A live bot is checked against its
//! exchange twice: at creation (no test mode) and at every start (no test mode, all
//! required secrets stored), because secrets can be removed in between.

mod commands;
mod config;
mod events;
mod status;
#[cfg(test)]
mod tests;

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use commands::{BotCommand, BotConfigInput, ResourcesInput};
pub use config::BotConfig;
pub use events::BotEvent;
pub use status::{BotAction, BotStatus};

use crate::error::DomainError;
use crate::failure::failure_message;
use crate::lookup::Services;
use crate::values::{
    ApiUrl, BotId, BotMode, EntityName, FreqtradeVersion, ResourceLimits, RuntimeId, RuntimeKind,
    WantedState,
};

/// A bot as rebuilt from its events. `Default` is the not-yet-created bot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bot {
    state: Option<BotState>,
}

/// The bot once created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotState {
    pub id: BotId,
    pub name: EntityName,
    pub exchange_id: Uuid,
    pub strategy_id: Uuid,
    pub strategy_version: u32,
    pub mode: BotMode,
    pub runtime: Option<RuntimeKind>,
    pub config: BotConfig,
    pub resources: ResourceLimits,
    pub freqtrade_version: FreqtradeVersion,
    pub status: BotStatus,
    pub runtime_id: Option<RuntimeId>,
    /// Set while running.
    pub api_url: Option<ApiUrl>,
    pub last_error: Option<String>,
    /// A start or stop asked for while the bot was being created, not carried out yet.
    #[serde(default)]
    pub wanted: Option<WantedState>,
    /// It failed while it ran (its process lost, or unhealthy), not while starting: it
    /// was running as its user wanted, so the reconciler may start it again.
    #[serde(default)]
    pub failed_while_running: bool,
}

/// The raw inputs of `CreateBot`.
struct NewBot {
    bot_id: BotId,
    name: String,
    exchange_id: Uuid,
    strategy_id: Uuid,
    mode: String,
    runtime: Option<String>,
    config: BotConfigInput,
    resources: ResourcesInput,
    freqtrade_version: Option<String>,
}

/// The raw inputs of `UpdateBot`.
struct BotChanges {
    name: Option<String>,
    config: Option<BotConfigInput>,
    resources: Option<ResourcesInput>,
    runtime: Option<String>,
    freqtrade_version: Option<String>,
    strategy_version: Option<u32>,
}

impl Bot {
    /// `None` until created.
    pub fn state(&self) -> Option<&BotState> {
        self.state.as_ref()
    }

    pub fn status(&self) -> Option<BotStatus> {
        self.state.as_ref().map(|s| s.status)
    }

    /// The bot unless it was never created or is deleted.
    fn existing(&self) -> Result<&BotState, DomainError> {
        match &self.state {
            None => Err(DomainError::not_found("id", "no such bot")),
            Some(state) if state.status == BotStatus::Deleted => {
                Err(DomainError::not_found("id", "the bot was deleted"))
            }
            Some(state) => Ok(state),
        }
    }

    /// The existing bot, if `action` is allowed from its status.
    fn allowing(&self, action: BotAction) -> Result<&BotState, DomainError> {
        let state = self.existing()?;
        state.status.after(action)?;
        Ok(state)
    }

    async fn create(
        &mut self,
        new: NewBot,
        lookup: &Services,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        if self.state.is_some() {
            self.existing()?;
            return Err(DomainError::conflict("id", "the bot already exists"));
        }
        let name = EntityName::parse(&new.name)?;
        let mode = BotMode::parse(&new.mode)?;
        let runtime = new.runtime.as_deref().map(RuntimeKind::parse).transpose()?;
        let config = BotConfig::parse(new.config, mode)?;
        let resources = parse_resources(&new.resources)?;
        let freqtrade_version = new
            .freqtrade_version
            .as_deref()
            .map(FreqtradeVersion::parse)
            .transpose()?
            .unwrap_or_default();

        let exchange = lookup
            .exchange(new.exchange_id)
            .await?
            .ok_or_else(|| DomainError::not_found("exchangeId", "no such exchange"))?;
        let strategy = lookup
            .strategy(new.strategy_id)
            .await?
            .ok_or_else(|| DomainError::not_found("strategyId", "no such strategy"))?;
        if mode == BotMode::Live && exchange.test_mode {
            return Err(live_on_test_exchange());
        }

        let event = BotEvent::BotCreated {
            bot_id: new.bot_id,
            name,
            exchange_id: new.exchange_id,
            strategy_id: new.strategy_id,
            strategy_version: strategy.current_version,
            mode,
            runtime,
            config,
            resources,
            freqtrade_version,
        };
        sink.write(event, self).await;
        Ok(())
    }

    async fn update(
        &mut self,
        changes: BotChanges,
        lookup: &Services,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        let state = self.allowing(BotAction::Update)?;
        let name = changes
            .name
            .as_deref()
            .map(EntityName::parse)
            .transpose()?
            .filter(|n| *n != state.name);
        let config = changes
            .config
            .map(|c| BotConfig::parse(c, state.mode))
            .transpose()?
            .filter(|c| *c != state.config);
        let resources = changes
            .resources
            .as_ref()
            .map(parse_resources)
            .transpose()?
            .filter(|r| *r != state.resources);
        let runtime = changes
            .runtime
            .as_deref()
            .map(RuntimeKind::parse)
            .transpose()?
            .filter(|r| Some(*r) != state.runtime);
        let freqtrade_version = changes
            .freqtrade_version
            .as_deref()
            .map(FreqtradeVersion::parse)
            .transpose()?
            .filter(|v| *v != state.freqtrade_version);
        let strategy_version = match changes.strategy_version {
            Some(version) if version != state.strategy_version => {
                check_strategy_version(state.strategy_id, version, lookup).await?;
                Some(version)
            }
            _ => None,
        };

        let nothing_changes = name.is_none()
            && config.is_none()
            && resources.is_none()
            && runtime.is_none()
            && freqtrade_version.is_none()
            && strategy_version.is_none();
        if nothing_changes {
            return Ok(());
        }
        let event = BotEvent::BotUpdated {
            name,
            config,
            resources,
            runtime,
            freqtrade_version,
            strategy_version,
        };
        sink.write(event, self).await;
        Ok(())
    }

    /// A start or restart asked for while the bot is being created is recorded as
    /// wanted (checked as a start would be); otherwise it must be allowed now.
    async fn start(
        &mut self,
        action: BotAction,
        lookup: &Services,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        if self.existing()?.status == BotStatus::Creating {
            check_startable(self.existing()?, lookup).await?;
            return self.want(WantedState::Running, sink).await;
        }
        let state = self.allowing(action)?;
        if action == BotAction::Restart {
            sink.write(BotEvent::BotRestartRequested, self).await;
            return Ok(());
        }
        check_startable(state, lookup).await?;
        sink.write(BotEvent::BotStartRequested, self).await;
        Ok(())
    }

    /// Records what the user wants of a bot being created, unless it is wanted already.
    async fn want(
        &mut self,
        wanted: WantedState,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        let state = self.existing()?;
        if state.wanted.unwrap_or(WantedState::Stopped) != wanted {
            sink.write(BotEvent::BotWantedStateSet { wanted }, self)
                .await;
        }
        Ok(())
    }

    /// Stops first when something runs, then asks for deletion.
    async fn delete(&mut self, sink: &EventSink<Self>) -> Result<(), DomainError> {
        let state = self.existing()?;
        let mut status = state.status;
        let stop_first = matches!(status, BotStatus::Running | BotStatus::Starting);
        if stop_first {
            status = status.after(BotAction::Stop)?;
        }
        status.after(BotAction::Delete)?;
        if stop_first {
            sink.write(BotEvent::BotStopRequested, self).await;
        }
        sink.write(BotEvent::BotDeletionRequested, self).await;
        Ok(())
    }
}

/// A live bot's exchange must be out of test mode and hold every secret it requires.
async fn check_startable(state: &BotState, lookup: &Services) -> Result<(), DomainError> {
    if state.mode == BotMode::Live {
        let exchange = lookup.exchange(state.exchange_id).await?.ok_or_else(|| {
            DomainError::not_found("exchangeId", "the bot's exchange no longer exists")
        })?;
        if exchange.test_mode {
            return Err(live_on_test_exchange());
        }
        let missing = exchange.missing_secrets();
        if !missing.is_empty() {
            return Err(DomainError::invalid(
                "mode",
                format!(
                    "live trading on {} needs the exchange secrets {}; missing: {}",
                    exchange.name,
                    exchange.name.required_secrets().join(", "),
                    missing.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn live_on_test_exchange() -> DomainError {
    DomainError::invalid(
        "mode",
        "live trading needs an exchange with testMode off; this exchange is in test mode",
    )
}

fn parse_resources(input: &ResourcesInput) -> Result<ResourceLimits, DomainError> {
    ResourceLimits::parse(input.cpu.as_deref(), input.memory.as_deref())
}

/// A bot can be pinned to any existing version of its (not deleted) strategy.
async fn check_strategy_version(
    strategy_id: Uuid,
    version: u32,
    lookup: &Services,
) -> Result<(), DomainError> {
    let strategy = lookup.strategy(strategy_id).await?.ok_or_else(|| {
        DomainError::not_found("strategyId", "the bot's strategy no longer exists")
    })?;
    if !(1..=strategy.current_version).contains(&version) {
        return Err(DomainError::invalid(
            "strategyVersion",
            format!(
                "must be between 1 and {} (the strategy's current version), got {version}",
                strategy.current_version
            ),
        ));
    }
    Ok(())
}

impl Aggregate for Bot {
    const TYPE: &'static str = "bot";
    type Command = BotCommand;
    type Event = BotEvent;
    type Error = DomainError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        lookup: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            BotCommand::CreateBot {
                bot_id,
                name,
                exchange_id,
                strategy_id,
                mode,
                runtime,
                config,
                resources,
                freqtrade_version,
            } => {
                let new = NewBot {
                    bot_id,
                    name,
                    exchange_id,
                    strategy_id,
                    mode,
                    runtime,
                    config,
                    resources,
                    freqtrade_version,
                };
                return self.create(new, lookup, sink).await;
            }
            BotCommand::UpdateBot {
                name,
                config,
                resources,
                runtime,
                freqtrade_version,
                strategy_version,
            } => {
                let changes = BotChanges {
                    name,
                    config,
                    resources,
                    runtime,
                    freqtrade_version,
                    strategy_version,
                };
                return self.update(changes, lookup, sink).await;
            }
            BotCommand::StartBot => return self.start(BotAction::Start, lookup, sink).await,
            BotCommand::DeleteBot => return self.delete(sink).await,
            BotCommand::ConfirmBotProvisioned { runtime_id } => {
                self.allowing(BotAction::ConfirmProvisioned)?;
                BotEvent::BotProvisioned {
                    runtime_id: RuntimeId::parse(&runtime_id)?,
                }
            }
            BotCommand::ConfirmBotStarted {
                runtime_id,
                api_url,
            } => {
                self.allowing(BotAction::ConfirmStarted)?;
                BotEvent::BotStarted {
                    runtime_id: RuntimeId::parse(&runtime_id)?,
                    api_url: ApiUrl::parse(&api_url)?,
                }
            }
            BotCommand::StopBot if self.status() == Some(BotStatus::Creating) => {
                return self.want(WantedState::Stopped, sink).await;
            }
            BotCommand::StopBot => {
                self.allowing(BotAction::Stop)?;
                BotEvent::BotStopRequested
            }
            BotCommand::ConfirmBotStopped => {
                self.allowing(BotAction::ConfirmStopped)?;
                BotEvent::BotStopped
            }
            BotCommand::RestartBot => {
                return self.start(BotAction::Restart, lookup, sink).await;
            }
            BotCommand::ReportBotFailure { reason } => {
                self.allowing(BotAction::Fail)?;
                BotEvent::BotFailed {
                    reason: failure_message(&reason),
                }
            }
            BotCommand::ReportBotLost { reason } => {
                self.allowing(BotAction::Lose)?;
                BotEvent::BotFailed {
                    reason: failure_message(&reason),
                }
            }
            BotCommand::ConfirmBotRecovered => {
                self.allowing(BotAction::Recover)?;
                BotEvent::BotRecovered
            }
            BotCommand::ConfirmBotDeleted => {
                self.allowing(BotAction::ConfirmDeleted)?;
                BotEvent::BotDeleted
            }
            BotCommand::RequestTradeSync => {
                self.allowing(BotAction::SyncTrades)?;
                BotEvent::TradeSyncRequested
            }
            BotCommand::RequestTradeClose { trade_id } => {
                self.allowing(BotAction::CloseTrade)?;
                if trade_id <= 0 {
                    return Err(DomainError::invalid("tradeId", "must be positive"));
                }
                BotEvent::TradeCloseRequested { trade_id }
            }
            BotCommand::RecordInstanceRemoved { runtime_id, reason } => {
                BotEvent::BotInstanceRemoved {
                    runtime_id: RuntimeId::parse(&runtime_id)?,
                    reason: failure_message(&reason),
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        if let BotEvent::BotCreated {
            bot_id,
            name,
            exchange_id,
            strategy_id,
            strategy_version,
            mode,
            runtime,
            config,
            resources,
            freqtrade_version,
        } = event
        {
            self.state = Some(BotState {
                id: bot_id,
                name,
                exchange_id,
                strategy_id,
                strategy_version,
                mode,
                runtime,
                config,
                resources,
                freqtrade_version,
                status: BotStatus::Creating,
                runtime_id: None,
                api_url: None,
                last_error: None,
                wanted: None,
                failed_while_running: false,
            });
            return;
        }
        let Some(state) = &mut self.state else {
            return;
        };
        match event {
            BotEvent::BotCreated { .. } => {}
            BotEvent::BotProvisioned { runtime_id } => {
                state.status = BotStatus::Stopped;
                state.runtime_id = Some(runtime_id);
                // Staying stopped is done now; a wanted start is done by its request.
                if state.wanted == Some(WantedState::Stopped) {
                    state.wanted = None;
                }
            }
            BotEvent::BotUpdated {
                name,
                config,
                resources,
                runtime,
                freqtrade_version,
                strategy_version,
            } => {
                if let Some(name) = name {
                    state.name = name;
                }
                if let Some(config) = config {
                    state.config = config;
                }
                if let Some(resources) = resources {
                    state.resources = resources;
                }
                if runtime.is_some() {
                    state.runtime = runtime;
                }
                if let Some(version) = freqtrade_version {
                    state.freqtrade_version = version;
                }
                if let Some(version) = strategy_version {
                    state.strategy_version = version;
                }
            }
            BotEvent::BotStartRequested | BotEvent::BotRestartRequested => {
                state.status = BotStatus::Starting;
                state.wanted = None;
            }
            BotEvent::BotWantedStateSet { wanted } => state.wanted = Some(wanted),
            BotEvent::BotStarted {
                runtime_id,
                api_url,
            } => {
                state.status = BotStatus::Running;
                state.runtime_id = Some(runtime_id);
                state.api_url = Some(api_url);
                state.last_error = None;
                state.failed_while_running = false;
            }
            BotEvent::BotStopRequested => {
                state.status = BotStatus::Stopping;
                state.wanted = None;
                state.failed_while_running = false;
            }
            BotEvent::BotStopped => {
                state.status = BotStatus::Stopped;
                state.api_url = None;
            }
            BotEvent::BotFailed { reason } => {
                state.failed_while_running = state.status == BotStatus::Running;
                state.status = BotStatus::Error;
                state.last_error = Some(reason);
                state.wanted = None;
            }
            BotEvent::BotRecovered => {
                state.status = BotStatus::Running;
                state.last_error = None;
            }
            BotEvent::BotDeletionRequested => {
                state.status = BotStatus::Deleting;
                state.wanted = None;
            }
            BotEvent::BotDeleted => {
                state.status = BotStatus::Deleted;
                state.api_url = None;
            }
            // Requests for the trade sync, and runtime repairs: the bot itself does
            // not change.
            BotEvent::TradeSyncRequested
            | BotEvent::TradeCloseRequested { .. }
            | BotEvent::BotInstanceRemoved { .. } => {}
        }
    }
}
