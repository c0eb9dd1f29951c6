//! What happened to an exchange. Events carry parsed values only.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::secret::SealedSecret;
use crate::values::{ConfigObject, ExchangeName, SecretName};

/// The variant's name is its `event_type` (and its tag in the stored payload).
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantNames,
)]
pub enum ExchangeEvent {
    ExchangeCreated {
        exchange_id: Uuid,
        name: ExchangeName,
        test_mode: bool,
        config: ConfigObject,
    },
    /// Only the settings that changed are `Some`.
    ExchangeUpdated {
        test_mode: Option<bool>,
        config: Option<ConfigObject>,
    },
    ExchangeSecretAdded {
        name: SecretName,
        value: SealedSecret,
    },
    ExchangeSecretRotated {
        name: SecretName,
        value: SealedSecret,
    },
    /// The value did not change; it is now sealed under another key.
    ExchangeSecretResealed {
        name: SecretName,
        value: SealedSecret,
    },
    ExchangeSecretRemoved {
        name: SecretName,
    },
    ExchangeDeleted,
}

impl DomainEvent for ExchangeEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
