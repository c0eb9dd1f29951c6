//! Who issued a command, when, and why: stored as each event's metadata so the log
//! doubles as the audit trail.

use std::collections::HashMap;

use anytrade_projections::TypedEvent;
use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

/// Metadata attached to every event a command produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandMetadata {
    /// The user or component that issued the command (`user:alice`, `system:reconciler`).
    pub actor: String,
    pub issued_at: DateTime<Utc>,
    /// Shared by every command that follows from one original request.
    pub correlation_id: Uuid,
    /// What directly caused this command: `command:<uuid>` for a request, or
    /// `event:<position>` when a process manager reacts to an event.
    pub causation_id: String,
}

impl CommandMetadata {
    /// A fresh request: it starts its own correlation.
    pub fn issued_by(actor: impl Into<String>) -> Self {
        let id = Uuid::now_v7();
        Self {
            actor: actor.into(),
            issued_at: Utc::now(),
            correlation_id: id,
            causation_id: format!("command:{id}"),
        }
    }

    /// A command issued in reaction to `event`, continuing its correlation.
    pub fn caused_by(actor: impl Into<String>, event: &TypedEvent) -> Self {
        Self {
            actor: actor.into(),
            issued_at: Utc::now(),
            correlation_id: event.metadata.correlation_id.unwrap_or_else(Uuid::now_v7),
            causation_id: format!("event:{}", event.position),
        }
    }

    pub fn to_map(&self) -> HashMap<String, String> {
        HashMap::from([
            ("actor".to_owned(), self.actor.clone()),
            (
                "issued_at".to_owned(),
                self.issued_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            ),
            ("correlation_id".to_owned(), self.correlation_id.to_string()),
            ("causation_id".to_owned(), self.causation_id.clone()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reaction_keeps_the_correlation_and_names_its_cause() {
        let request = CommandMetadata::issued_by("user:alice");
        let logged = anytrade_projections::LoggedEvent {
            position: 42,
            transaction_id: 1,
            committed_at: Utc::now(),
            aggregate_type: "bot".into(),
            aggregate_id: Uuid::now_v7().to_string(),
            sequence: 2,
            event_type: "BotStopped".into(),
            event_version: "1.0".into(),
            payload: serde_json::json!("BotStopped"),
            metadata: serde_json::to_value(request.to_map()).expect("map serializes"),
        };
        let event = logged.decode().expect("decodes");
        let reaction = CommandMetadata::caused_by("system:bot-manager", &event);
        assert_eq!(reaction.correlation_id, request.correlation_id);
        assert_eq!(reaction.causation_id, "event:42");
        assert_eq!(
            request.causation_id,
            format!("command:{}", request.correlation_id)
        );
    }
}
