//! The Trade aggregate: one freqtrade trade of one bot, identified by `(bot, freqtrade
//! trade id)`. Its opening and its closing are facts recorded once each, however often
//! the sync reports them; prices that change every poll are not events.
//!
//! Trades are their own aggregates (not part of the Bot), so they stay when their bot
//! is deleted and a busy bot's history does not weigh on its lifecycle commands.

mod commands;
mod events;
#[cfg(test)]
mod tests;

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use commands::{TradeClosing, TradeCommand, TradeOpening};
pub use events::TradeEvent;

use crate::error::DomainError;
use crate::lookup::Services;
use crate::values::{BotId, Pair};

/// The aggregate id of freqtrade trade `trade_id` of `bot_id`: the same pair always gives
/// the same id, which is what makes recording idempotent.
pub fn trade_aggregate_id(bot_id: BotId, trade_id: i64) -> Uuid {
    Uuid::new_v5(&bot_id.uuid(), &trade_id.to_be_bytes())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    opened: bool,
    closed: bool,
}

impl Trade {
    pub fn is_open(&self) -> bool {
        self.opened && !self.closed
    }
}

fn check_opening(opening: &TradeOpening) -> Result<(), DomainError> {
    if opening.trade_id <= 0 {
        return Err(DomainError::invalid("tradeId", "must be positive"));
    }
    Pair::parse(&opening.pair)?;
    positive("openRate", opening.open_rate)?;
    positive("amount", opening.amount)?;
    if !(opening.stake_amount.is_finite() && opening.stake_amount >= 0.0) {
        return Err(DomainError::invalid(
            "stakeAmount",
            "must be a finite amount, 0 or more",
        ));
    }
    if opening.strategy_name.trim().is_empty() {
        return Err(DomainError::invalid("strategyName", "must not be empty"));
    }
    Ok(())
}

fn check_closing(opening: &TradeOpening, closing: &TradeClosing) -> Result<(), DomainError> {
    positive("closeRate", closing.close_rate)?;
    if !closing.profit_abs.is_finite() {
        return Err(DomainError::invalid("profitAbs", "must be a finite number"));
    }
    if !closing.profit_ratio.is_finite() {
        return Err(DomainError::invalid(
            "profitRatio",
            "must be a finite number",
        ));
    }
    if closing.close_date < opening.open_date {
        return Err(DomainError::invalid(
            "closeDate",
            "must not be before the open date",
        ));
    }
    Ok(())
}

fn positive(field: &str, value: f64) -> Result<(), DomainError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            "must be a finite number above 0",
        ))
    }
}

impl Aggregate for Trade {
    const TYPE: &'static str = "trade";
    type Command = TradeCommand;
    type Event = TradeEvent;
    type Error = DomainError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        _lookup: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {
            TradeCommand::RecordTradeOpened { opening } => {
                check_opening(&opening)?;
                if !self.opened {
                    sink.write(TradeEvent::TradeOpened { opening }, self).await;
                }
            }
            TradeCommand::RecordTradeClosed { opening, closing } => {
                check_opening(&opening)?;
                check_closing(&opening, &closing)?;
                let (bot_id, trade_id) = (opening.bot_id, opening.trade_id);
                if !self.opened {
                    sink.write(TradeEvent::TradeOpened { opening }, self).await;
                }
                if !self.closed {
                    let closed = TradeEvent::TradeClosed {
                        bot_id,
                        trade_id,
                        closing,
                    };
                    sink.write(closed, self).await;
                }
            }
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            TradeEvent::TradeOpened { .. } => self.opened = true,
            TradeEvent::TradeClosed { .. } => self.closed = true,
        }
    }
}
