//! AnyTrade's domain: aggregates, their commands and events, and the value types that
//! make invalid input unrepresentable. No I/O: the one outside fact an aggregate may ask
//! for comes through the [`Lookup`] port.
//!
//! Each aggregate module (`exchange`, `strategy`, `bot`, `backtest`, `hyperopt`) holds the
//! aggregate with its `apply`, its commands, its events and its given/when/then tests, as
//! the cqrs-es demo lays them out. Commands carry raw input and are parsed in `handle`;
//! events carry parsed values only.

#![forbid(unsafe_code)]
// Nothing here may panic on user input: no unwrap, expect, panic or unchecked indexing
// outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod backtest;
pub mod bot;
pub mod error;
pub mod exchange;
pub mod failure;
pub mod hyperopt;
pub mod job;
pub mod lookup;
pub mod secret;
pub mod strategy;
pub mod strategy_code;
pub mod trade;
pub mod values;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod garbage;

pub use backtest::{Backtest, BacktestCommand, BacktestEvent, BacktestState};
pub use bot::{
    Bot, BotAction, BotCommand, BotConfig, BotConfigInput, BotEvent, BotState, BotStatus,
    ResourcesInput,
};
pub use error::DomainError;
pub use exchange::{Exchange, ExchangeCommand, ExchangeEvent, ExchangeState};
pub use hyperopt::{Hyperopt, HyperoptCommand, HyperoptEvent, HyperoptState};
pub use job::{JobAction, JobInput, JobKind, JobSpec, JobStatus};
pub use lookup::{ExchangeFacts, Lookup, Services, StrategyFacts};
pub use secret::SealedSecret;
pub use strategy::{Strategy, StrategyCommand, StrategyEvent, StrategyState, StrategyVersion};
pub use strategy_code::{CodeProblem, StrategyAnalysis, StrategyCode, analyze};
pub use trade::{Trade, TradeClosing, TradeCommand, TradeEvent, TradeOpening, trade_aggregate_id};
