//! What happened to a trade: it opened, it closed. Each is recorded once.

use crate::values::BotId;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::commands::{TradeClosing, TradeOpening};

/// The variant's name is its `event_type` (and its tag in the stored payload).
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantNames,
)]
pub enum TradeEvent {
    TradeOpened {
        opening: TradeOpening,
    },
    /// Names its bot and freqtrade trade id too, so readers can route it without
    /// looking the opening up.
    TradeClosed {
        bot_id: BotId,
        trade_id: i64,
        closing: TradeClosing,
    },
}

impl DomainEvent for TradeEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
