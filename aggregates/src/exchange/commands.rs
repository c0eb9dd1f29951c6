//! What can be asked of an exchange. Inputs are raw (as the API received them) and parsed
//! in `handle`, so every bad input becomes a [`DomainError`](crate::DomainError).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::secret::SealedSecret;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum ExchangeCommand {
    /// `name` is an [`ExchangeName`](crate::values::ExchangeName); `config` a JSON object
    /// of non-secret settings (rate limits, ccxt options); `secrets` (name, value) are
    /// stored with it: one command, so the exchange exists with all of them or not at all.
    CreateExchange {
        exchange_id: Uuid,
        name: String,
        test_mode: bool,
        config: Value,
        #[serde(default)]
        secrets: Vec<(String, SealedSecret)>,
    },
    /// Fields left `None` stay as they are; `config` replaces the whole object.
    UpdateExchange {
        test_mode: Option<bool>,
        config: Option<Value>,
    },
    /// Stores a new secret; its name must not be taken on this exchange.
    AddExchangeSecret {
        name: String,
        value: SealedSecret,
    },
    /// Replaces the value of an existing secret.
    RotateExchangeSecret {
        name: String,
        value: SealedSecret,
    },
    /// The same value sealed again under another key, when keys are rotated. A value
    /// already sealed under that key id changes nothing, so a rotation can be re-run.
    ResealExchangeSecret {
        name: String,
        value: SealedSecret,
    },
    RemoveExchangeSecret {
        name: String,
    },
    /// Refused while bots still trade on the exchange.
    DeleteExchange,
}
