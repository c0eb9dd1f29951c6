//! Logged events as the domain's types. This is the one place where stored names
//! (aggregate types, event types) meet the enums: everything downstream matches on
//! [`Event`] variants, so renaming or adding a variant is a compile error where it
//! must be handled, not a silent mismatch of strings.

use anytrade_aggregates::{
    Backtest, BacktestEvent, Bot, BotEvent, Exchange, ExchangeEvent, Hyperopt, HyperoptEvent,
    Strategy, StrategyEvent, Trade, TradeEvent,
};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;
use strum::VariantNames;
use uuid::Uuid;

use crate::log::{LogPosition, LoggedEvent};

/// The aggregate types the log holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateKind {
    Exchange,
    Strategy,
    Bot,
    Backtest,
    Hyperopt,
    Trade,
}

impl AggregateKind {
    pub const ALL: [Self; 6] = [
        Self::Exchange,
        Self::Strategy,
        Self::Bot,
        Self::Backtest,
        Self::Hyperopt,
        Self::Trade,
    ];

    /// The stored name: the aggregate's `TYPE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exchange => Exchange::TYPE,
            Self::Strategy => Strategy::TYPE,
            Self::Bot => Bot::TYPE,
            Self::Backtest => Backtest::TYPE,
            Self::Hyperopt => Hyperopt::TYPE,
            Self::Trade => Trade::TYPE,
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The aggregate whose event enum has a variant called `event_type`.
    pub fn of_event_type(event_type: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.event_types().contains(&event_type))
    }

    /// The names of this aggregate's event types.
    pub fn event_types(self) -> &'static [&'static str] {
        match self {
            Self::Exchange => ExchangeEvent::VARIANTS,
            Self::Strategy => StrategyEvent::VARIANTS,
            Self::Bot => BotEvent::VARIANTS,
            Self::Backtest => BacktestEvent::VARIANTS,
            Self::Hyperopt => HyperoptEvent::VARIANTS,
            Self::Trade => TradeEvent::VARIANTS,
        }
    }
}

/// An event of any aggregate, as its aggregate's event enum.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Exchange(ExchangeEvent),
    Strategy(StrategyEvent),
    Bot(BotEvent),
    Backtest(BacktestEvent),
    Hyperopt(HyperoptEvent),
    Trade(TradeEvent),
}

impl Event {
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

    /// The variant's name, as stored in `event_type`.
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::Exchange(e) => e.into(),
            Self::Strategy(e) => e.into(),
            Self::Bot(e) => e.into(),
            Self::Backtest(e) => e.into(),
            Self::Hyperopt(e) => e.into(),
            Self::Trade(e) => e.into(),
        }
    }
}

/// Who issued the command behind an event, when, and in which correlation. Every
/// field is optional so events written without metadata still decode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct EventMetadata {
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub issued_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub correlation_id: Option<Uuid>,
    #[serde(default)]
    pub causation_id: Option<String>,
}

/// A committed event, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedEvent {
    /// The global position (what API clients resume from).
    pub position: i64,
    /// Where a log reader resumes after this event.
    pub log_position: LogPosition,
    pub committed_at: DateTime<Utc>,
    pub aggregate_id: Uuid,
    /// The event's number within its aggregate, from 1.
    pub sequence: i64,
    pub metadata: EventMetadata,
    pub event: Event,
}

impl TypedEvent {
    /// Which events a rebuild must apply on one connection, in order: those that write
    /// the same read-model rows. A trade's events also add to its bot's trade totals,
    /// so they go with the bot's; every other event goes with its aggregate's.
    pub fn partition(&self) -> Uuid {
        match &self.event {
            Event::Trade(TradeEvent::TradeOpened { opening }) => opening.bot_id.uuid(),
            Event::Trade(TradeEvent::TradeClosed { bot_id, .. }) => bot_id.uuid(),
            _ => self.aggregate_id,
        }
    }
}

#[cfg(test)]
impl TypedEvent {
    /// `event` of `aggregate_id` at `position` (also its sequence), for projector tests.
    pub(crate) fn at(aggregate_id: Uuid, position: i64, event: Event) -> Self {
        Self {
            position,
            log_position: LogPosition {
                transaction_id: 1,
                position,
            },
            committed_at: Utc::now(),
            aggregate_id,
            sequence: position,
            metadata: EventMetadata::default(),
            event,
        }
    }
}

/// Why a logged event is not one of the domain's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// Written by something other than this service's aggregates.
    #[error("event at position {position}: unknown aggregate type {aggregate_type:?}")]
    UnknownAggregate {
        position: i64,
        aggregate_type: String,
    },
    #[error(
        "event at position {position} ({aggregate_type} {event_type}) does not decode: {reason}"
    )]
    Invalid {
        position: i64,
        aggregate_type: String,
        event_type: String,
        reason: String,
    },
}

impl LoggedEvent {
    /// Whether this event belongs to an aggregate of `kind` (checked without decoding).
    pub fn is_of(&self, kind: AggregateKind) -> bool {
        self.aggregate_type == kind.as_str()
    }

    /// This event as the domain's types.
    pub fn decode(&self) -> Result<TypedEvent, DecodeError> {
        EventRow {
            log_position: self.log_position(),
            committed_at: self.committed_at,
            aggregate_type: &self.aggregate_type,
            aggregate_id: &self.aggregate_id,
            sequence: self.sequence,
            event_type: &self.event_type,
        }
        .decode(&self.payload, &self.metadata)
    }
}

/// JSON an event is decoded from: a parsed tree, or the stored text itself (one pass,
/// no tree in between: what a reader of millions of events wants).
pub(crate) trait JsonSource {
    fn to<T: DeserializeOwned>(self) -> Result<T, serde_json::Error>;
}

impl JsonSource for &Value {
    fn to<T: DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        T::deserialize(self)
    }
}

impl JsonSource for &RawValue {
    fn to<T: DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.get())
    }
}

/// The columns of a logged event besides its payload and metadata, borrowed from
/// wherever they were read.
pub(crate) struct EventRow<'a> {
    pub log_position: LogPosition,
    pub committed_at: DateTime<Utc>,
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub sequence: i64,
    pub event_type: &'a str,
}

impl EventRow<'_> {
    /// The event as the domain's types, checking that the payload is the event type the
    /// row names.
    pub(crate) fn decode(
        &self,
        payload: impl JsonSource,
        metadata: impl JsonSource,
    ) -> Result<TypedEvent, DecodeError> {
        let kind = AggregateKind::parse(self.aggregate_type).ok_or_else(|| {
            DecodeError::UnknownAggregate {
                position: self.log_position.position,
                aggregate_type: self.aggregate_type.to_owned(),
            }
        })?;
        let invalid = |reason: String| DecodeError::Invalid {
            position: self.log_position.position,
            aggregate_type: self.aggregate_type.to_owned(),
            event_type: self.event_type.to_owned(),
            reason,
        };
        let aggregate_id = Uuid::parse_str(self.aggregate_id)
            .map_err(|e| invalid(format!("aggregate id is not a UUID: {e}")))?;
        let event = match kind {
            AggregateKind::Exchange => payload.to().map(Event::Exchange),
            AggregateKind::Strategy => payload.to().map(Event::Strategy),
            AggregateKind::Bot => payload.to().map(Event::Bot),
            AggregateKind::Backtest => payload.to().map(Event::Backtest),
            AggregateKind::Hyperopt => payload.to().map(Event::Hyperopt),
            AggregateKind::Trade => payload.to().map(Event::Trade),
        }
        .map_err(|e| invalid(e.to_string()))?;
        if event.event_type() != self.event_type {
            return Err(invalid(format!(
                "the payload is a {}, not a {}",
                event.event_type(),
                self.event_type
            )));
        }
        let metadata = metadata
            .to::<EventMetadata>()
            .map_err(|e| invalid(format!("metadata: {e}")))?;
        Ok(TypedEvent {
            position: self.log_position.position,
            log_position: self.log_position,
            committed_at: self.committed_at,
            aggregate_id,
            sequence: self.sequence,
            metadata,
            event,
        })
    }
}

/// Which events a reader wants, by aggregate type and event type, parsed from names a
/// user gave (the API's and the CLI's filters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSelector {
    kinds: Option<Vec<AggregateKind>>,
    event_types: Option<Vec<&'static str>>,
}

/// Which list of a filter a name was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameList {
    AggregateTypes,
    EventTypes,
}

impl std::fmt::Display for NameList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::AggregateTypes => "aggregate type",
            Self::EventTypes => "event type",
        })
    }
}

/// A name in a filter that no aggregate or event type has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {list} {name:?} (known: {known})")]
pub struct UnknownName {
    pub list: NameList,
    pub index: usize,
    pub name: String,
    pub known: String,
}

impl EventSelector {
    /// `None` for either list: no restriction on it.
    pub fn parse(
        aggregate_types: Option<&[String]>,
        event_types: Option<&[String]>,
    ) -> Result<Self, UnknownName> {
        let kinds = aggregate_types
            .map(|names| {
                names
                    .iter()
                    .enumerate()
                    .map(|(index, name)| {
                        AggregateKind::parse(name).ok_or_else(|| UnknownName {
                            list: NameList::AggregateTypes,
                            index,
                            name: name.clone(),
                            known: known(AggregateKind::ALL.iter().map(|k| k.as_str())),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let all_types = || {
            AggregateKind::ALL
                .iter()
                .flat_map(|kind| kind.event_types().iter().copied())
        };
        let event_types = event_types
            .map(|names| {
                names
                    .iter()
                    .enumerate()
                    .map(|(index, name)| {
                        all_types()
                            .find(|known| known == name)
                            .ok_or_else(|| UnknownName {
                                list: NameList::EventTypes,
                                index,
                                name: name.clone(),
                                known: known(all_types()),
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(Self { kinds, event_types })
    }

    pub fn matches(&self, event: &LoggedEvent) -> bool {
        self.kinds.as_ref().is_none_or(|kinds| {
            kinds
                .iter()
                .any(|kind| kind.as_str() == event.aggregate_type)
        }) && self
            .event_types
            .as_ref()
            .is_none_or(|types| types.contains(&event.event_type.as_str()))
    }
}

fn known<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn logged(aggregate_type: &str, event_type: &str, payload: serde_json::Value) -> LoggedEvent {
        LoggedEvent {
            position: 7,
            transaction_id: 3,
            committed_at: Utc::now(),
            aggregate_type: aggregate_type.to_owned(),
            aggregate_id: Uuid::nil().to_string(),
            sequence: 1,
            event_type: event_type.to_owned(),
            event_version: "1.0".to_owned(),
            payload,
            metadata: json!({
                "actor": "user:alice",
                "correlation_id": "0196f1a0-0000-7000-8000-000000000001",
                "causation_id": "command:x",
                "issued_at": "2026-12-04T10:00:00.000000Z"
            }),
        }
    }

    #[test]
    fn a_stored_event_decodes_to_its_variant_with_metadata() {
        let typed = logged("bot", "BotFailed", json!({"BotFailed": {"reason": "gone"}}))
            .decode()
            .expect("decodes");
        assert_eq!(
            typed.event,
            Event::Bot(BotEvent::BotFailed {
                reason: "gone".into()
            })
        );
        assert_eq!(typed.metadata.actor.as_deref(), Some("user:alice"));
        assert!(typed.metadata.correlation_id.is_some());
        assert_eq!(typed.log_position.position, 7);
    }

    /// Job requests as the log holds them (copied from a stored row): both kinds share
    /// one `spec`, and one written before jobs named an exchange still reads.
    #[test]
    fn stored_job_requests_stay_readable() {
        let spec = json!({
            "dates": {"end": "2026-02-01", "start": "2026-01-01"}, "pairs": ["BTC/USDT"],
            "config": {}, "timeframe": "5m",
            "exchange_id": "01a24257-507f-76aa-a704-50951043172d",
            "strategy_id": "01a24257-5044-7205-a7fc-9bbcffd513f1", "stake_amount": 10.0,
            "stake_currency": "USDT", "strategy_class": "Live", "strategy_version": 1
        });
        let backtest = logged(
            "backtest",
            "BacktestRequested",
            json!({"BacktestRequested": {
                "spec": spec, "backtest_id": "01a24257-5095-712e-8f82-7bd3355d79f2"
            }}),
        );
        let Event::Backtest(BacktestEvent::BacktestRequested { spec: read, .. }) =
            backtest.decode().expect("decodes").event
        else {
            panic!("not a backtest request");
        };
        assert_eq!(read.strategy_class, "Live");
        assert_eq!(read.pairs.to_strings(), ["BTC/USDT"]);
        assert!(read.exchange_id.is_some());

        let mut older = spec.clone();
        older.as_object_mut().expect("object").remove("exchange_id");
        let hyperopt = logged(
            "hyperopt",
            "HyperoptRequested",
            json!({"HyperoptRequested": {
                "spec": older, "epochs": 30, "spaces": ["buy", "roi"],
                "optimization_metric": "sharpe",
                "hyperopt_id": "01a24257-5095-712e-8f82-7bd3355d79f3"
            }}),
        );
        let Event::Hyperopt(HyperoptEvent::HyperoptRequested { spec, epochs, .. }) =
            hyperopt.decode().expect("decodes").event
        else {
            panic!("not a hyperopt request");
        };
        assert_eq!((spec.exchange_id, epochs.get()), (None, 30));
    }

    /// The golden log: every event type in coherent histories, as an export holds them
    /// (`tests/fixtures/events/golden.ndjson`). Every row must still decode, and every event
    /// type must have a row, so a new or changed event cannot land without one (and,
    /// when its shape changes, an upcaster that reads the old rows).
    #[test]
    fn every_event_type_in_the_golden_log_still_decodes() {
        let golden = include_str!("../../tests/fixtures/events/golden.ndjson");
        let mut seen = std::collections::HashSet::new();
        for (n, line) in golden.lines().enumerate() {
            let row: serde_json::Value = serde_json::from_str(line).expect("a JSON row");
            let text = |key: &str| row[key].as_str().expect(key).to_owned();
            let mut stored = logged(
                &text("aggregate_type"),
                &text("event_type"),
                row["payload"].clone(),
            );
            stored.event_version = text("event_version");
            stored.metadata = row["metadata"].clone();
            stored.position = n as i64 + 1;
            let typed = stored
                .decode()
                .unwrap_or_else(|e| panic!("golden row {}: {e}", n + 1));
            seen.insert(typed.event.event_type());
        }
        for kind in AggregateKind::ALL {
            for name in kind.event_types() {
                assert!(seen.contains(name), "the golden log has no {name} row");
            }
        }
    }

    #[test]
    fn a_type_name_that_disagrees_with_the_payload_is_refused() {
        let error = logged("bot", "BotStopped", json!("BotStopRequested"))
            .decode()
            .expect_err("refused");
        assert!(error.to_string().contains("not a BotStopped"), "{error}");
    }

    #[test]
    fn undecodable_events_name_their_position_and_type() {
        let error = logged("bot", "BotFailed", json!({"BotFailed": {}}))
            .decode()
            .expect_err("refused");
        let text = error.to_string();
        assert!(
            text.contains("position 7") && text.contains("bot BotFailed"),
            "{text}"
        );
        assert!(matches!(
            logged("tally", "Counted", json!({})).decode(),
            Err(DecodeError::UnknownAggregate { .. })
        ));
    }

    #[test]
    fn every_event_type_is_listed_under_its_aggregate() {
        assert!(
            AggregateKind::Bot
                .event_types()
                .contains(&"BotStartRequested")
        );
        assert!(
            AggregateKind::Hyperopt
                .event_types()
                .contains(&"HyperoptProgressReported")
        );
        for kind in AggregateKind::ALL {
            assert_eq!(AggregateKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn a_selector_refuses_unknown_names_and_matches_known_ones() {
        let error = EventSelector::parse(None, Some(&["BotStarted".into(), "BotStartd".into()]))
            .expect_err("typo refused");
        assert_eq!((error.list, error.index), (NameList::EventTypes, 1));
        assert!(EventSelector::parse(Some(&["bots".into()]), None).is_err());

        let selector =
            EventSelector::parse(Some(&["bot".into()]), Some(&["BotFailed".into()])).expect("ok");
        let failed = logged("bot", "BotFailed", json!({"BotFailed": {"reason": "x"}}));
        let stopped = logged("bot", "BotStopped", json!("BotStopped"));
        assert!(selector.matches(&failed));
        assert!(!selector.matches(&stopped));
        assert!(EventSelector::default().matches(&stopped));
    }
}
