//! A [`Lookup`] with canned answers, for aggregate tests here and in the service crate
//! (enable the `testing` feature), and the plain commands test fleets are made of.

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

use crate::bot::{BotCommand, BotConfigInput};
use crate::error::DomainError;
use crate::lookup::{ExchangeFacts, Lookup, Services, StrategyFacts};
use crate::values::{BotId, ExchangeName};

/// Creates a dry-run bot named `name` trading `pairs`, all else left to the defaults:
/// what benchmarks and test fleets create by the hundred.
pub fn create_dry_run_bot(
    bot_id: BotId,
    name: String,
    exchange_id: Uuid,
    strategy_id: Uuid,
    pairs: &[&str],
) -> BotCommand {
    BotCommand::CreateBot {
        bot_id,
        name,
        exchange_id,
        strategy_id,
        mode: "dry_run".into(),
        runtime: None,
        config: BotConfigInput {
            pairs: Some(pairs.iter().map(|pair| (*pair).to_owned()).collect()),
            ..Default::default()
        },
        resources: Default::default(),
        freqtrade_version: None,
    }
}

/// Answers from its public fields. With `unavailable` set, every call fails with
/// [`DomainError::Unavailable`], as when the read side is down.
#[derive(Debug, Clone, Default)]
pub struct FakeLookup {
    pub exchanges: HashMap<Uuid, ExchangeFacts>,
    pub strategies: HashMap<Uuid, StrategyFacts>,
    pub bots_per_exchange: HashMap<Uuid, u64>,
    pub bots_per_strategy: HashMap<Uuid, u64>,
    pub unavailable: Option<String>,
}

impl FakeLookup {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an exchange with the given secrets stored.
    #[must_use]
    pub fn with_exchange(
        mut self,
        id: Uuid,
        name: ExchangeName,
        test_mode: bool,
        secret_names: &[&str],
    ) -> Self {
        self.exchanges.insert(
            id,
            ExchangeFacts {
                name,
                test_mode,
                secret_names: secret_names.iter().map(|s| (*s).to_owned()).collect(),
            },
        );
        self
    }

    #[must_use]
    pub fn with_strategy(
        mut self,
        id: Uuid,
        name: &str,
        current_version: u32,
        class_name: &str,
    ) -> Self {
        self.strategies.insert(
            id,
            StrategyFacts {
                name: name.to_owned(),
                current_version,
                class_name: class_name.to_owned(),
            },
        );
        self
    }

    #[must_use]
    pub fn with_bots_using_exchange(mut self, id: Uuid, bots: u64) -> Self {
        self.bots_per_exchange.insert(id, bots);
        self
    }

    #[must_use]
    pub fn with_bots_using_strategy(mut self, id: Uuid, bots: u64) -> Self {
        self.bots_per_strategy.insert(id, bots);
        self
    }

    #[must_use]
    pub fn unavailable(mut self, reason: &str) -> Self {
        self.unavailable = Some(reason.to_owned());
        self
    }

    /// This lookup as aggregate `Services`.
    pub fn services(self) -> Services {
        Arc::new(self)
    }

    fn check(&self) -> Result<(), DomainError> {
        match &self.unavailable {
            Some(reason) => Err(DomainError::unavailable(reason)),
            None => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl Lookup for FakeLookup {
    async fn exchange(&self, id: Uuid) -> Result<Option<ExchangeFacts>, DomainError> {
        self.check()?;
        Ok(self.exchanges.get(&id).cloned())
    }

    async fn only_exchange(&self) -> Result<Option<Uuid>, DomainError> {
        self.check()?;
        let mut ids = self.exchanges.keys();
        Ok(match (ids.next(), ids.next()) {
            (Some(id), None) => Some(*id),
            _ => None,
        })
    }

    async fn strategy(&self, id: Uuid) -> Result<Option<StrategyFacts>, DomainError> {
        self.check()?;
        Ok(self.strategies.get(&id).cloned())
    }

    async fn strategy_named(&self, name: &str) -> Result<Option<Uuid>, DomainError> {
        self.check()?;
        Ok(self
            .strategies
            .iter()
            .find(|(_, facts)| facts.name == name)
            .map(|(id, _)| *id))
    }

    async fn bots_using_exchange(&self, id: Uuid) -> Result<u64, DomainError> {
        self.check()?;
        Ok(self.bots_per_exchange.get(&id).copied().unwrap_or(0))
    }

    async fn bots_using_strategy(&self, id: Uuid) -> Result<u64, DomainError> {
        self.check()?;
        Ok(self.bots_per_strategy.get(&id).copied().unwrap_or(0))
    }
}
