//! An aggregate's state at any point of its history, by folding its events through the
//! same `apply` the command path uses: what the audit trail shows is exactly what the
//! aggregate knew then.

use anytrade_aggregates::{Backtest, Bot, Exchange, Hyperopt, Strategy, Trade};
use anytrade_projections::{AggregateKind, Event};
use cqrs_es::Aggregate;
use serde_json::Value;

/// One aggregate of any kind, being replayed.
#[derive(Debug, Clone)]
pub enum Replay {
    Exchange(Exchange),
    Strategy(Strategy),
    Bot(Bot),
    Backtest(Backtest),
    Hyperopt(Hyperopt),
    Trade(Trade),
}

/// An event of another aggregate type was fed to a replay.
#[derive(Debug, thiserror::Error)]
#[error("a {event} event cannot apply to the {aggregate} aggregate")]
pub struct WrongKind {
    pub aggregate: &'static str,
    pub event: &'static str,
}

impl Replay {
    /// The aggregate before its first event.
    pub fn new(kind: AggregateKind) -> Self {
        match kind {
            AggregateKind::Exchange => Self::Exchange(Exchange::default()),
            AggregateKind::Strategy => Self::Strategy(Strategy::default()),
            AggregateKind::Bot => Self::Bot(Bot::default()),
            AggregateKind::Backtest => Self::Backtest(Backtest::default()),
            AggregateKind::Hyperopt => Self::Hyperopt(Hyperopt::default()),
            AggregateKind::Trade => Self::Trade(Trade::default()),
        }
    }

    pub fn kind(&self) -> AggregateKind {
        match self {
            Self::Exchange(_) => AggregateKind::Exchange,
            Self::Strategy(_) => AggregateKind::Strategy,
            Self::Bot(_) => AggregateKind::Bot,
            Self::Backtest(_) => AggregateKind::Backtest,
            Self::Hyperopt(_) => AggregateKind::Hyperopt,
            Self::Trade(_) => AggregateKind::Trade,
        }
    }

    pub fn apply(&mut self, event: Event) -> Result<(), WrongKind> {
        match (self, event) {
            (Self::Exchange(a), Event::Exchange(e)) => a.apply(e),
            (Self::Strategy(a), Event::Strategy(e)) => a.apply(e),
            (Self::Bot(a), Event::Bot(e)) => a.apply(e),
            (Self::Backtest(a), Event::Backtest(e)) => a.apply(e),
            (Self::Hyperopt(a), Event::Hyperopt(e)) => a.apply(e),
            (Self::Trade(a), Event::Trade(e)) => a.apply(e),
            (this, event) => {
                return Err(WrongKind {
                    aggregate: this.kind().as_str(),
                    event: event.kind().as_str(),
                });
            }
        }
        Ok(())
    }

    /// The state as JSON, exactly as stored (sealed secrets included: redact before
    /// showing); `null` before the aggregate was created.
    pub fn to_json(&self) -> Value {
        let value = match self {
            Self::Exchange(a) => serde_json::to_value(a.state()),
            Self::Strategy(a) => serde_json::to_value(a.state()),
            Self::Bot(a) => serde_json::to_value(a.state()),
            Self::Backtest(a) => serde_json::to_value(a.state()),
            Self::Hyperopt(a) => serde_json::to_value(a.state()),
            // A trade keeps only whether it is open: the facts are in its events.
            Self::Trade(a) => serde_json::to_value(a),
        };
        value.expect("aggregate states are plain data and always serialize")
    }

    /// The strategy's newest code and its version number, for code diffs.
    pub fn strategy_code(&self) -> Option<(u32, &str)> {
        match self {
            Self::Strategy(strategy) => strategy
                .state()?
                .versions
                .last()
                .map(|v| (v.version, v.code.as_str())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anytrade_aggregates::{BotEvent, ExchangeEvent};
    use serde_json::json;
    use uuid::Uuid;

    #[test]
    fn a_replay_folds_events_like_the_aggregate() {
        let mut replay = Replay::new(AggregateKind::Exchange);
        assert_eq!(replay.to_json(), Value::Null);
        let id = Uuid::nil();
        replay
            .apply(Event::Exchange(ExchangeEvent::ExchangeCreated {
                exchange_id: id,
                name: serde_json::from_value(json!("binance")).unwrap(),
                test_mode: true,
                config: serde_json::from_value(json!({})).unwrap(),
            }))
            .unwrap();
        let state = replay.to_json();
        assert_eq!(state["name"], "binance");
        assert_eq!(state["test_mode"], true);
    }

    #[test]
    fn an_event_of_another_kind_is_refused() {
        let mut replay = Replay::new(AggregateKind::Exchange);
        let wrong = replay.apply(Event::Bot(BotEvent::BotDeleted)).unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "a bot event cannot apply to the exchange aggregate"
        );
    }
}
