//! The one error type of the domain.
//!
//! Every aggregate answers a refused command with a [`DomainError`], so the service maps
//! errors to API responses in one place. `field` is the API's camelCase path of the input
//! at fault (`name`, `exchangeId`, `config.pairs[2]`, `resources.memory`), so a client can
//! point at the exact input; `reason` is a sentence for a human.

use std::fmt::Display;

/// Why a command was refused, or why a value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The input is malformed or breaks a rule (the user can fix it).
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The aggregate, or an entity the input refers to, does not exist (or was deleted).
    #[error("not found {field}: {reason}")]
    NotFound { field: String, reason: String },
    /// The input clashes with the current state: a duplicate name, a wrong lifecycle
    /// status, an entity still in use.
    #[error("conflict {field}: {reason}")]
    Conflict { field: String, reason: String },
    /// A lookup the aggregate needed failed (I/O in the service layer). Never the user's
    /// fault; worth retrying.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, reason: impl Display) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.to_string(),
        }
    }

    pub fn not_found(field: impl Into<String>, reason: impl Display) -> Self {
        Self::NotFound {
            field: field.into(),
            reason: reason.to_string(),
        }
    }

    pub fn conflict(field: impl Into<String>, reason: impl Display) -> Self {
        Self::Conflict {
            field: field.into(),
            reason: reason.to_string(),
        }
    }

    pub fn unavailable(reason: impl Display) -> Self {
        Self::Unavailable(reason.to_string())
    }

    /// The input field at fault, if the error names one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. }
            | Self::NotFound { field, .. }
            | Self::Conflict { field, .. } => Some(field),
            Self::Unavailable(_) => None,
        }
    }

    /// The human-readable reason, without the field.
    pub fn reason(&self) -> &str {
        match self {
            Self::Invalid { reason, .. }
            | Self::NotFound { reason, .. }
            | Self::Conflict { reason, .. }
            | Self::Unavailable(reason) => reason,
        }
    }

    /// The same error with its field nested under `prefix`: a value type reports
    /// `pairs[2]`, the bot command that holds it inside `config` reports `config.pairs[2]`.
    #[must_use]
    pub fn within(self, prefix: &str) -> Self {
        let nest = |field: String| {
            if field.is_empty() {
                prefix.to_owned()
            } else {
                format!("{prefix}.{field}")
            }
        };
        match self {
            Self::Invalid { field, reason } => Self::Invalid {
                field: nest(field),
                reason,
            },
            Self::NotFound { field, reason } => Self::NotFound {
                field: nest(field),
                reason,
            },
            Self::Conflict { field, reason } => Self::Conflict {
                field: nest(field),
                reason,
            },
            Self::Unavailable(reason) => Self::Unavailable(reason),
        }
    }

    /// The same error reported on another field (a value parsed for a differently named
    /// input).
    #[must_use]
    pub fn on_field(self, field: &str) -> Self {
        match self {
            Self::Invalid { reason, .. } => Self::invalid(field, reason),
            Self::NotFound { reason, .. } => Self::not_found(field, reason),
            Self::Conflict { reason, .. } => Self::conflict(field, reason),
            Self::Unavailable(reason) => Self::Unavailable(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_kind_field_and_reason() {
        assert_eq!(
            DomainError::invalid("name", "must not be empty").to_string(),
            "invalid name: must not be empty"
        );
        assert_eq!(
            DomainError::not_found("exchangeId", "no such exchange").to_string(),
            "not found exchangeId: no such exchange"
        );
        assert_eq!(
            DomainError::conflict("status", "bot is running").to_string(),
            "conflict status: bot is running"
        );
        assert_eq!(
            DomainError::unavailable("database down").to_string(),
            "unavailable: database down"
        );
    }

    #[test]
    fn within_nests_the_field_and_keeps_the_reason() {
        let error = DomainError::invalid("pairs[2]", "must be uppercase").within("config");
        assert_eq!(
            error,
            DomainError::invalid("config.pairs[2]", "must be uppercase")
        );
        assert_eq!(error.field(), Some("config.pairs[2]"));
        assert_eq!(error.reason(), "must be uppercase");
        assert_eq!(
            DomainError::unavailable("x").within("config"),
            DomainError::unavailable("x")
        );
    }

    #[test]
    fn on_field_renames_the_field() {
        assert_eq!(
            DomainError::invalid("timeframe", "bad").on_field("config.timeframe"),
            DomainError::invalid("config.timeframe", "bad")
        );
    }
}
