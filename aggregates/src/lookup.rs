//! The one port through which aggregates learn about other aggregates.
//!
//! An aggregate only sees its own events. Some rules need a fact about another entity
//! (does the exchange exist, is a strategy name taken, is an exchange still used by bots),
//! so every aggregate gets the same small read-only [`Lookup`] as its cqrs-es `Services`.
//! The service implements it over its read models; tests use
//! `testing::FakeLookup` (feature `testing`). The answers can be slightly stale (read models
//! trail the event log); the rules that use them are guard rails, not transactions.

use std::sync::Arc;

use uuid::Uuid;

use crate::error::DomainError;
use crate::values::ExchangeName;

/// What every aggregate receives as `Services`.
pub type Services = Arc<dyn Lookup>;

/// Read-only facts about other aggregates. Deleted entities are reported as absent
/// (`None`, or not counted). A failure to answer is [`DomainError::Unavailable`].
#[async_trait::async_trait]
pub trait Lookup: Send + Sync {
    async fn exchange(&self, id: Uuid) -> Result<Option<ExchangeFacts>, DomainError>;

    /// The id of the only exchange, when exactly one exists.
    async fn only_exchange(&self) -> Result<Option<Uuid>, DomainError>;

    async fn strategy(&self, id: Uuid) -> Result<Option<StrategyFacts>, DomainError>;

    /// The id of the (not deleted) strategy with exactly this name.
    async fn strategy_named(&self, name: &str) -> Result<Option<Uuid>, DomainError>;

    /// How many bots (not deleted) trade on the exchange.
    async fn bots_using_exchange(&self, id: Uuid) -> Result<u64, DomainError>;

    /// How many bots (not deleted) run the strategy.
    async fn bots_using_strategy(&self, id: Uuid) -> Result<u64, DomainError>;
}

/// What a bot needs to know about its exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeFacts {
    pub name: ExchangeName,
    pub test_mode: bool,
    /// Names of the secrets stored for the exchange (never their values).
    pub secret_names: Vec<String>,
}

impl ExchangeFacts {
    /// Secrets `name` requires that are not stored, in the exchange's order.
    pub fn missing_secrets(&self) -> Vec<&'static str> {
        self.name
            .missing_secrets(self.secret_names.iter().map(String::as_str))
    }
}

/// What bots and jobs need to know about their strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyFacts {
    pub name: String,
    pub current_version: u32,
    pub class_name: String,
}
