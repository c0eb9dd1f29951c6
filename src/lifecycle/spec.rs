//! A bot's [`BotSpec`] from its stored state: the exchange and the strategy version it
//! is pinned to as the event store holds them now, the exchange's secrets opened for a
//! live bot only, and fresh API credentials.

use anytrade_aggregates::BotState;
use uuid::Uuid;

use crate::crypto::{Keyring, exchange_secret_context};
use crate::freqtrade::config::{ApiCredentials, bot_config, exchange_environment};
use crate::runtime::{BotSpec, StrategyFile};
use crate::store::Commands;

/// Why a spec could not be made; each becomes the bot's error message.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("the bot's exchange {0} does not exist")]
    NoExchange(Uuid),
    #[error("the bot's strategy {0} has no version {1}")]
    NoStrategyVersion(Uuid, u32),
    #[error("exchange secret {0} cannot be opened with the configured keys")]
    Secret(String),
    #[error(transparent)]
    Config(#[from] crate::freqtrade::config::ConfigError),
    #[error("cannot read the event store: {0}")]
    Store(#[from] crate::store::CommandError),
}

/// The spec to run `bot` with, and the API credentials it will have.
pub async fn bot_spec(
    commands: &Commands,
    keys: &Keyring,
    bot: &BotState,
) -> Result<(BotSpec, ApiCredentials), SpecError> {
    let exchange = commands.exchanges.load_state(&bot.exchange_id).await?;
    let exchange = exchange
        .state()
        .ok_or(SpecError::NoExchange(bot.exchange_id))?;
    let strategy = commands.strategies.load_state(&bot.strategy_id).await?;
    let version = strategy
        .state()
        .and_then(|s| {
            s.versions
                .iter()
                .find(|v| v.version == bot.strategy_version)
        })
        .ok_or(SpecError::NoStrategyVersion(
            bot.strategy_id,
            bot.strategy_version,
        ))?;
    let credentials = ApiCredentials::generate();
    let config = bot_config(exchange, bot, &version.class_name, &credentials.username)?;

    let mut environment = credentials.environment();
    if !bot.mode.is_dry_run() {
        let mut secrets = Vec::new();
        for (name, sealed) in &exchange.secrets {
            let context = exchange_secret_context(exchange.id, name.as_str());
            let value = keys
                .open(sealed, &context)
                .map_err(|_| SpecError::Secret(name.to_string()))?;
            secrets.push((name.as_str(), value));
        }
        environment.extend(exchange_environment(secrets));
    }
    let spec = BotSpec {
        bot_id: bot.id,
        freqtrade_version: bot.freqtrade_version.as_str().to_owned(),
        config,
        strategy: StrategyFile {
            class_name: version.class_name.clone(),
            code: version.code.clone(),
        },
        environment,
        resources: bot.resources,
    };
    Ok((spec, credentials))
}
