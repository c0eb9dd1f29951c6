//! The Strategy aggregate: a named freqtrade strategy and the history of its code.
//!
//! Every distinct code (by SHA-256) is a numbered version; bots and jobs pin a version, so
//! editing a strategy never changes what a running bot executes. Names are unique across
//! strategies (checked through the [`Lookup`](crate::Lookup)); a strategy cannot be deleted
//! while bots run it.

mod commands;
mod events;
#[cfg(test)]
mod tests;

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use commands::StrategyCommand;
pub use events::StrategyEvent;

use crate::error::DomainError;
use crate::lookup::Services;
use crate::strategy_code::StrategyCode;
use crate::values::EntityName;

/// Longest accepted description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 4096;

/// A strategy as rebuilt from its events. `Default` is the not-yet-created strategy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Strategy {
    state: Option<StrategyState>,
}

/// The strategy once created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyState {
    pub id: Uuid,
    pub name: EntityName,
    pub description: String,
    /// Oldest first; `versions[n - 1]` is version `n`.
    pub versions: Vec<StrategyVersion>,
    pub deleted: bool,
}

/// One version of a strategy's code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyVersion {
    pub version: u32,
    pub code: String,
    pub sha256: String,
    pub class_name: String,
}

impl Strategy {
    /// `None` until created.
    pub fn state(&self) -> Option<&StrategyState> {
        self.state.as_ref()
    }

    /// The newest version, once created.
    pub fn current_version(&self) -> Option<&StrategyVersion> {
        self.state.as_ref().and_then(|s| s.versions.last())
    }

    fn existing(&self) -> Result<&StrategyState, DomainError> {
        match &self.state {
            None => Err(DomainError::not_found("id", "no such strategy")),
            Some(state) if state.deleted => {
                Err(DomainError::not_found("id", "the strategy was deleted"))
            }
            Some(state) => Ok(state),
        }
    }

    async fn create(
        &mut self,
        strategy_id: Uuid,
        name: &str,
        description: String,
        code: &str,
        lookup: &Services,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        if self.state.is_some() {
            self.existing()?;
            return Err(DomainError::conflict("id", "the strategy already exists"));
        }
        let name = EntityName::parse(name)?;
        let description = parse_description(description)?;
        let code = StrategyCode::parse(code)?;
        check_name_is_free(&name, strategy_id, lookup).await?;
        let created = StrategyEvent::StrategyCreated {
            strategy_id,
            name,
            description,
        };
        sink.write(created, self).await;
        sink.write(version_added(1, code), self).await;
        Ok(())
    }

    async fn update(
        &mut self,
        name: Option<String>,
        description: Option<String>,
        code: Option<String>,
        lookup: &Services,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        let state = self.existing()?;
        let id = state.id;
        let name = name
            .map(|n| EntityName::parse(&n))
            .transpose()?
            .filter(|n| *n != state.name);
        let description = description
            .map(parse_description)
            .transpose()?
            .filter(|d| *d != state.description);
        let code = code.map(|c| StrategyCode::parse(&c)).transpose()?;
        let current = state.versions.last();
        let code = code.filter(|c| current.is_none_or(|v| v.sha256 != c.sha256()));
        let next_version = current.map_or(1, |v| v.version.saturating_add(1));
        if let Some(name) = &name {
            check_name_is_free(name, id, lookup).await?;
        }

        if let Some(name) = name {
            sink.write(StrategyEvent::StrategyRenamed { name }, self)
                .await;
        }
        if let Some(description) = description {
            sink.write(
                StrategyEvent::StrategyDescriptionChanged { description },
                self,
            )
            .await;
        }
        if let Some(code) = code {
            sink.write(version_added(next_version, code), self).await;
        }
        Ok(())
    }

    async fn delete(
        &mut self,
        lookup: &Services,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        let state = self.existing()?;
        let bots = lookup.bots_using_strategy(state.id).await?;
        if bots > 0 {
            return Err(DomainError::conflict(
                "id",
                format!("{bots} bot(s) still run this strategy; delete them first"),
            ));
        }
        sink.write(StrategyEvent::StrategyDeleted, self).await;
        Ok(())
    }
}

fn version_added(version: u32, code: StrategyCode) -> StrategyEvent {
    StrategyEvent::StrategyVersionAdded {
        version,
        code: code.code().to_owned(),
        sha256: code.sha256().to_owned(),
        class_name: code.class_name().to_owned(),
    }
}

fn parse_description(description: String) -> Result<String, DomainError> {
    let chars = description.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(DomainError::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters, got {chars}"),
        ));
    }
    Ok(description)
}

async fn check_name_is_free(
    name: &EntityName,
    own_id: Uuid,
    lookup: &Services,
) -> Result<(), DomainError> {
    match lookup.strategy_named(name.as_str()).await? {
        Some(other) if other != own_id => Err(DomainError::conflict(
            "name",
            format!("a strategy named {name} already exists"),
        )),
        _ => Ok(()),
    }
}

impl Aggregate for Strategy {
    const TYPE: &'static str = "strategy";
    type Command = StrategyCommand;
    type Event = StrategyEvent;
    type Error = DomainError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        lookup: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {
            StrategyCommand::CreateStrategy {
                strategy_id,
                name,
                description,
                code,
            } => {
                self.create(strategy_id, &name, description, &code, lookup, sink)
                    .await
            }
            StrategyCommand::UpdateStrategy {
                name,
                description,
                code,
            } => self.update(name, description, code, lookup, sink).await,
            StrategyCommand::DeleteStrategy => self.delete(lookup, sink).await,
        }
    }

    fn apply(&mut self, event: Self::Event) {
        if let StrategyEvent::StrategyCreated {
            strategy_id,
            name,
            description,
        } = event
        {
            self.state = Some(StrategyState {
                id: strategy_id,
                name,
                description,
                versions: Vec::new(),
                deleted: false,
            });
            return;
        }
        let Some(state) = &mut self.state else {
            return;
        };
        match event {
            StrategyEvent::StrategyCreated { .. } => {}
            StrategyEvent::StrategyVersionAdded {
                version,
                code,
                sha256,
                class_name,
            } => state.versions.push(StrategyVersion {
                version,
                code,
                sha256,
                class_name,
            }),
            StrategyEvent::StrategyRenamed { name } => state.name = name,
            StrategyEvent::StrategyDescriptionChanged { description } => {
                state.description = description;
            }
            StrategyEvent::StrategyDeleted => state.deleted = true,
        }
    }
}
