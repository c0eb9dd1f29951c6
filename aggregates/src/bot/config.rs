//! A bot's freqtrade settings, parsed from the API's `BotConfigInput`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::DomainError;
use crate::values::{BotMode, ConfigObject, MaxOpenTrades, Pairs, StakeAmount, Timeframe};

use super::commands::BotConfigInput;

/// Top-level freqtrade keys `extra` may not set: AnyTrade sets them from typed fields
/// (`dry_run` from the mode, so an override can never turn a dry-run bot live), from the
/// pinned strategy, or manages them itself (`api_server` holds generated credentials).
const MANAGED_KEYS: &[&str] = &[
    "dry_run",
    "max_open_trades",
    "stake_amount",
    "timeframe",
    "strategy",
    "api_server",
];

/// Overrides on top of the base template, exchange and strategy settings. `None` keeps
/// the value from those layers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BotConfig {
    pub max_open_trades: Option<MaxOpenTrades>,
    pub stake_amount: Option<StakeAmount>,
    pub pairs: Option<Pairs>,
    pub timeframe: Option<Timeframe>,
    /// Further freqtrade settings, merged last.
    pub extra: ConfigObject,
}

impl BotConfig {
    /// Errors name `config.maxOpenTrades`, `config.stakeAmount`, `config.pairs[i]`,
    /// `config.timeframe`, `config.dryRun` or `config.extra…`.
    pub(crate) fn parse(input: BotConfigInput, mode: BotMode) -> Result<Self, DomainError> {
        let within = |e: DomainError| e.within("config");
        let max_open_trades = input
            .max_open_trades
            .map(MaxOpenTrades::parse)
            .transpose()
            .map_err(within)?;
        let stake_amount = input
            .stake_amount
            .as_deref()
            .map(StakeAmount::parse)
            .transpose()
            .map_err(within)?;
        let pairs = input
            .pairs
            .as_deref()
            .map(Pairs::parse)
            .transpose()
            .map_err(within)?;
        let timeframe = input
            .timeframe
            .as_deref()
            .map(Timeframe::parse)
            .transpose()
            .map_err(within)?;
        if let Some(dry_run) = input.dry_run
            && dry_run != mode.is_dry_run()
        {
            return Err(DomainError::invalid(
                "config.dryRun",
                format!(
                    "must agree with mode {mode}: dryRun {} contradicts it",
                    dry_run
                ),
            ));
        }
        let extra = match input.extra {
            Some(extra) => parse_extra(extra)?,
            None => ConfigObject::default(),
        };
        Ok(Self {
            max_open_trades,
            stake_amount,
            pairs,
            timeframe,
            extra,
        })
    }
}

fn parse_extra(extra: Value) -> Result<ConfigObject, DomainError> {
    let extra = ConfigObject::parse("config.extra", extra)?;
    let map = extra.as_map();
    if let Some(key) = MANAGED_KEYS.iter().find(|key| map.contains_key(**key)) {
        return Err(DomainError::invalid(
            format!("config.extra.{key}"),
            "is set by AnyTrade (use the bot's own fields)",
        ));
    }
    if map
        .get("exchange")
        .and_then(Value::as_object)
        .is_some_and(|exchange| exchange.contains_key("name"))
    {
        return Err(DomainError::invalid(
            "config.extra.exchange.name",
            "is set by AnyTrade from the bot's exchange",
        ));
    }
    Ok(extra)
}
