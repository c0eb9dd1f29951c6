//! The Exchange aggregate: an exchange account's settings and its sealed credentials.
//!
//! Secret names are unique per exchange; values arrive already encrypted. An exchange
//! cannot be deleted while bots trade on it.

mod commands;
mod events;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

pub use commands::ExchangeCommand;
pub use events::ExchangeEvent;

use crate::error::DomainError;
use crate::lookup::Services;
use crate::secret::SealedSecret;
use crate::values::{ConfigObject, ExchangeName, SecretName};

/// An exchange as rebuilt from its events. `Default` is the not-yet-created exchange.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    state: Option<ExchangeState>,
}

/// The exchange once created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeState {
    pub id: Uuid,
    pub name: ExchangeName,
    pub test_mode: bool,
    pub config: ConfigObject,
    pub secrets: BTreeMap<SecretName, SealedSecret>,
    pub deleted: bool,
}

impl Exchange {
    /// `None` until created.
    pub fn state(&self) -> Option<&ExchangeState> {
        self.state.as_ref()
    }

    /// Secrets the exchange requires for live trading that are not stored yet, in the
    /// exchange's order (empty before creation).
    pub fn missing_secrets(&self) -> Vec<&'static str> {
        let Some(state) = &self.state else {
            return Vec::new();
        };
        state
            .name
            .missing_secrets(state.secrets.keys().map(SecretName::as_str))
    }

    /// The live exchange, or NotFound when it was never created or is deleted.
    fn existing(&self) -> Result<&ExchangeState, DomainError> {
        match &self.state {
            None => Err(DomainError::not_found("id", "no such exchange")),
            Some(state) if state.deleted => {
                Err(DomainError::not_found("id", "the exchange was deleted"))
            }
            Some(state) => Ok(state),
        }
    }

    async fn create(
        &mut self,
        exchange_id: Uuid,
        name: &str,
        test_mode: bool,
        config: Value,
        secrets: Vec<(String, SealedSecret)>,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        if self.state.is_some() {
            self.existing()?;
            return Err(DomainError::conflict("id", "the exchange already exists"));
        }
        let name = ExchangeName::parse(name)?;
        if name.test_only() && !test_mode {
            return Err(test_only(name));
        }
        let config = ConfigObject::parse("config", config)?;
        let secrets = initial_secrets(secrets)?;
        let event = ExchangeEvent::ExchangeCreated {
            exchange_id,
            name,
            test_mode,
            config,
        };
        sink.write(event, self).await;
        for (name, value) in secrets {
            sink.write(ExchangeEvent::ExchangeSecretAdded { name, value }, self)
                .await;
        }
        Ok(())
    }

    async fn update(
        &mut self,
        test_mode: Option<bool>,
        config: Option<Value>,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        let state = self.existing()?;
        let config = config
            .map(|config| ConfigObject::parse("config", config))
            .transpose()?;
        if state.name.test_only() && test_mode == Some(false) {
            return Err(test_only(state.name));
        }
        let test_mode = test_mode.filter(|t| *t != state.test_mode);
        let config = config.filter(|c| *c != state.config);
        if test_mode.is_none() && config.is_none() {
            return Ok(());
        }
        sink.write(ExchangeEvent::ExchangeUpdated { test_mode, config }, self)
            .await;
        Ok(())
    }

    async fn add_secret(
        &mut self,
        name: &str,
        value: SealedSecret,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        let state = self.existing()?;
        let name = SecretName::parse(name)?;
        check_sealed(&value)?;
        if state.secrets.contains_key(&name) {
            return Err(DomainError::conflict(
                "name",
                format!("the exchange already has a secret named {name}; rotate it instead"),
            ));
        }
        sink.write(ExchangeEvent::ExchangeSecretAdded { name, value }, self)
            .await;
        Ok(())
    }

    async fn rotate_secret(
        &mut self,
        name: &str,
        value: SealedSecret,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        let state = self.existing()?;
        let name = SecretName::parse(name)?;
        check_sealed(&value)?;
        if !state.secrets.contains_key(&name) {
            return Err(no_such_secret(&name));
        }
        sink.write(ExchangeEvent::ExchangeSecretRotated { name, value }, self)
            .await;
        Ok(())
    }

    async fn reseal_secret(
        &mut self,
        name: &str,
        value: SealedSecret,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        let state = self.existing()?;
        let name = SecretName::parse(name)?;
        check_sealed(&value)?;
        let Some(stored) = state.secrets.get(&name) else {
            return Err(no_such_secret(&name));
        };
        if stored.key_id == value.key_id {
            return Ok(());
        }
        sink.write(ExchangeEvent::ExchangeSecretResealed { name, value }, self)
            .await;
        Ok(())
    }

    async fn remove_secret(
        &mut self,
        name: &str,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        let state = self.existing()?;
        let name = SecretName::parse(name)?;
        if !state.secrets.contains_key(&name) {
            return Err(no_such_secret(&name));
        }
        sink.write(ExchangeEvent::ExchangeSecretRemoved { name }, self)
            .await;
        Ok(())
    }

    async fn delete(
        &mut self,
        lookup: &Services,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        let state = self.existing()?;
        let bots = lookup.bots_using_exchange(state.id).await?;
        if bots > 0 {
            return Err(DomainError::conflict(
                "id",
                format!("{bots} bot(s) still use this exchange; delete them first"),
            ));
        }
        sink.write(ExchangeEvent::ExchangeDeleted, self).await;
        Ok(())
    }
}

/// The secrets an exchange is created with, all checked before anything is written;
/// errors name the entry (`secrets[1].name`).
fn initial_secrets(
    secrets: Vec<(String, SealedSecret)>,
) -> Result<Vec<(SecretName, SealedSecret)>, DomainError> {
    let mut checked: Vec<(SecretName, SealedSecret)> = Vec::with_capacity(secrets.len());
    for (i, (name, value)) in secrets.into_iter().enumerate() {
        let at = |field: &str| format!("secrets[{i}].{field}");
        let name = SecretName::parse(&name).map_err(|e| e.on_field(&at("name")))?;
        check_sealed(&value).map_err(|e| e.on_field(&at("value")))?;
        if checked.iter().any(|(seen, _)| *seen == name) {
            return Err(DomainError::invalid(
                at("name"),
                format!("{name} is given twice"),
            ));
        }
        checked.push((name, value));
    }
    Ok(checked)
}

fn no_such_secret(name: &SecretName) -> DomainError {
    DomainError::not_found("name", format!("the exchange has no secret named {name}"))
}

/// A sealed secret must at least carry its parts; the service's crypto module always
/// fills them, so an empty one is a bug upstream, refused rather than stored.
fn check_sealed(value: &SealedSecret) -> Result<(), DomainError> {
    if value.key_id.is_empty() || value.nonce.is_empty() || value.ciphertext.is_empty() {
        return Err(DomainError::invalid(
            "value",
            "sealed secret is missing its key id, nonce or ciphertext",
        ));
    }
    Ok(())
}

impl Aggregate for Exchange {
    const TYPE: &'static str = "exchange";
    type Command = ExchangeCommand;
    type Event = ExchangeEvent;
    type Error = DomainError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        lookup: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {
            ExchangeCommand::CreateExchange {
                exchange_id,
                name,
                test_mode,
                config,
                secrets,
            } => {
                self.create(exchange_id, &name, test_mode, config, secrets, sink)
                    .await
            }
            ExchangeCommand::UpdateExchange { test_mode, config } => {
                self.update(test_mode, config, sink).await
            }
            ExchangeCommand::AddExchangeSecret { name, value } => {
                self.add_secret(&name, value, sink).await
            }
            ExchangeCommand::RotateExchangeSecret { name, value } => {
                self.rotate_secret(&name, value, sink).await
            }
            ExchangeCommand::ResealExchangeSecret { name, value } => {
                self.reseal_secret(&name, value, sink).await
            }
            ExchangeCommand::RemoveExchangeSecret { name } => self.remove_secret(&name, sink).await,
            ExchangeCommand::DeleteExchange => self.delete(lookup, sink).await,
        }
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ExchangeEvent::ExchangeCreated {
                exchange_id,
                name,
                test_mode,
                config,
            } => {
                self.state = Some(ExchangeState {
                    id: exchange_id,
                    name,
                    test_mode,
                    config,
                    secrets: BTreeMap::new(),
                    deleted: false,
                });
            }
            ExchangeEvent::ExchangeUpdated { test_mode, config } => {
                if let Some(state) = &mut self.state {
                    if let Some(test_mode) = test_mode {
                        state.test_mode = test_mode;
                    }
                    if let Some(config) = config {
                        state.config = config;
                    }
                }
            }
            ExchangeEvent::ExchangeSecretAdded { name, value }
            | ExchangeEvent::ExchangeSecretRotated { name, value }
            | ExchangeEvent::ExchangeSecretResealed { name, value } => {
                if let Some(state) = &mut self.state {
                    state.secrets.insert(name, value);
                }
            }
            ExchangeEvent::ExchangeSecretRemoved { name } => {
                if let Some(state) = &mut self.state {
                    state.secrets.remove(&name);
                }
            }
            ExchangeEvent::ExchangeDeleted => {
                if let Some(state) = &mut self.state {
                    state.deleted = true;
                }
            }
        }
    }
}

fn test_only(name: ExchangeName) -> DomainError {
    DomainError::invalid(
        "testMode",
        format!("the {name} exchange has no real market: it is always in test mode"),
    )
}
