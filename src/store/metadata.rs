//! Who issued a command, when, and why: stored as each event's metadata so the log
//! doubles as the audit trail.

use std::collections::HashMap;

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

    /// A command issued in reaction to the event at `position`, continuing its correlation.
    pub fn caused_by_event(
        actor: impl Into<String>,
        position: i64,
        event_metadata: &serde_json::Value,
    ) -> Self {
        let correlation_id = event_metadata
            .get("correlation_id")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
            .unwrap_or_else(Uuid::now_v7);
        Self {
            actor: actor.into(),
            issued_at: Utc::now(),
            correlation_id,
            causation_id: format!("event:{position}"),
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
        let stored = serde_json::to_value(request.to_map()).expect("map serializes");
        let reaction = CommandMetadata::caused_by_event("system:bot-manager", 42, &stored);
        assert_eq!(reaction.correlation_id, request.correlation_id);
        assert_eq!(reaction.causation_id, "event:42");
        assert_eq!(
            request.causation_id,
            format!("command:{}", request.correlation_id)
        );
    }
}
