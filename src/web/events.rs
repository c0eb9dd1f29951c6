//! The event log page: the newest events that match a filter (an aggregate type, one
//! aggregate, an event type, an actor), which the page's script then tails live. Every
//! bot, strategy and job page links here for its own history.

use anytrade_projections::log::LogFilter;
use anytrade_projections::{AggregateKind, EventSelector, LoggedEvent};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::fleet::rfc3339;
use super::{WebState, current, render, unavailable};
use crate::auth::Principal;
use crate::redact;

/// Events the page shows at first (the live tail adds to them).
const SHOWN: i64 = 100;
/// Characters of an event's payload shown in the table.
const PAYLOAD_CHARS: usize = 240;

/// The filter as the page's form sends it; empty fields let everything through.
#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    #[serde(rename = "type")]
    aggregate_type: Option<String>,
    id: Option<String>,
    event: Option<String>,
    actor: Option<String>,
}

/// A field of the filter that names nothing there is.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FilterError {
    #[error("type: {0:?} is not an aggregate type (known: {1})")]
    Type(String, String),
    #[error("id: {0:?} is not an id (a UUID)")]
    Id(String),
    #[error("event: {0}")]
    Event(String),
}

/// A form field as the filter has it: `None` when left empty.
fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Filter {
    fn to_log_filter(&self) -> Result<LogFilter, FilterError> {
        let aggregate_type = given(&self.aggregate_type)
            .map(|name| {
                AggregateKind::parse(name).ok_or_else(|| {
                    let known: Vec<&str> = AggregateKind::ALL.iter().map(|k| k.as_str()).collect();
                    FilterError::Type(name.to_owned(), known.join(", "))
                })
            })
            .transpose()?;
        let aggregate_id = given(&self.id)
            .map(|id| {
                id.parse::<Uuid>()
                    .map_err(|_| FilterError::Id(id.to_owned()))
            })
            .transpose()?;
        let event_type = given(&self.event)
            .map(|name| {
                EventSelector::parse(None, Some(&[name.to_owned()]))
                    .map(|_| name.to_owned())
                    .map_err(|e| FilterError::Event(e.to_string()))
            })
            .transpose()?;
        Ok(LogFilter {
            aggregate_type,
            aggregate_id,
            event_type,
            actor: given(&self.actor).map(str::to_owned),
            ..LogFilter::default()
        })
    }
}

/// One event as the table shows it.
pub struct EventLine {
    pub position: i64,
    pub at: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The page of the aggregate, when it has one.
    pub link: Option<String>,
    pub event_type: String,
    pub actor: String,
    /// The payload as compact JSON (sealed secrets reduced to their key id), cut short.
    pub payload: String,
}

impl EventLine {
    fn of(event: LoggedEvent) -> Self {
        let mut payload = event.payload;
        redact::sealed_values(&mut payload);
        let mut payload = payload.to_string();
        if let Some((cut, _)) = payload.char_indices().nth(PAYLOAD_CHARS) {
            payload.truncate(cut);
            payload.push('…');
        }
        let link = AggregateKind::parse(&event.aggregate_type)
            .and_then(|kind| page_of(kind, &event.aggregate_id));
        Self {
            position: event.position,
            at: rfc3339(event.committed_at),
            link,
            aggregate_type: event.aggregate_type,
            aggregate_id: event.aggregate_id,
            event_type: event.event_type,
            actor: event.metadata["actor"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            payload,
        }
    }
}

/// The dashboard's page of an aggregate (as the script's router names it).
fn page_of(kind: AggregateKind, id: &str) -> Option<String> {
    let page = match kind {
        AggregateKind::Bot => "bots",
        AggregateKind::Strategy => "strategies",
        AggregateKind::Backtest => "backtests",
        AggregateKind::Hyperopt => "hyperopts",
        AggregateKind::Exchange | AggregateKind::Trade => return None,
    };
    Some(format!("#/{page}/{id}"))
}

#[derive(Template)]
#[template(path = "web/events.html")]
struct EventsPage {
    /// The global position the page was read up to, where its live tail resumes.
    after: i64,
    /// The filter's fields as given (trimmed), to fill the form in again.
    aggregate_type: String,
    id: String,
    event: String,
    actor: String,
    /// Each aggregate type, and whether the filter names it.
    types: Vec<(&'static str, bool)>,
    events: Vec<EventLine>,
}

/// `GET /ui/events?type=…&id=…&event=…&actor=…`.
pub async fn page(
    State(state): State<WebState>,
    principal: Principal,
    Query(filter): Query<Filter>,
) -> Response {
    if let Err(refused) = current(&state, principal).await {
        return refused;
    }
    let wanted = match filter.to_log_filter() {
        Ok(wanted) => wanted,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    match state.log.latest(&wanted, SHOWN).await {
        Ok((events, head)) => render(&EventsPage {
            after: head.position,
            aggregate_type: given(&filter.aggregate_type).unwrap_or_default().to_owned(),
            // As the log spells ids, which the live filter compares as text.
            id: wanted
                .aggregate_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            event: given(&filter.event).unwrap_or_default().to_owned(),
            actor: given(&filter.actor).unwrap_or_default().to_owned(),
            types: AggregateKind::ALL
                .iter()
                .map(|k| (k.as_str(), Some(*k) == wanted.aggregate_type))
                .collect(),
            events: events.into_iter().map(EventLine::of).collect(),
        }),
        Err(e) => unavailable(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(aggregate_type: &str, id: &str, event: &str) -> Filter {
        let text = |v: &str| Some(v.to_owned());
        Filter {
            aggregate_type: text(aggregate_type),
            id: text(id),
            event: text(event),
            actor: text(" "),
        }
    }

    #[test]
    fn a_filter_names_the_field_it_cannot_read() {
        let id = Uuid::now_v7();
        let read = filter("bot", &id.to_string(), "BotStarted")
            .to_log_filter()
            .expect("a good filter");
        assert_eq!(read.aggregate_type, Some(AggregateKind::Bot));
        assert_eq!(read.aggregate_id, Some(id));
        assert_eq!(read.event_type.as_deref(), Some("BotStarted"));
        assert_eq!(read.actor, None, "an empty field lets everything through");

        let bad = |f: Filter| f.to_log_filter().expect_err("refused").to_string();
        assert!(bad(filter("robot", "", "")).starts_with("type: \"robot\""));
        assert_eq!(
            bad(filter("", "nope", "")),
            "id: \"nope\" is not an id (a UUID)"
        );
        assert!(bad(filter("", "", "BotExploded")).starts_with("event: "));
    }

    #[test]
    fn a_payload_is_shown_short_and_without_ciphertext() {
        let event = LoggedEvent {
            position: 7,
            transaction_id: 1,
            committed_at: chrono::Utc::now(),
            aggregate_type: "exchange".into(),
            aggregate_id: Uuid::nil().to_string(),
            sequence: 1,
            event_type: "ExchangeSecretAdded".into(),
            event_version: "1".into(),
            payload: serde_json::json!({
                "value": { "key_id": "k1", "nonce": "bm9uY2U=", "ciphertext": "c2VjcmV0" },
                "zz_note": "x".repeat(500),
            }),
            metadata: serde_json::json!({ "actor": "user:admin" }),
        };
        let line = EventLine::of(event);
        assert!(!line.payload.contains("c2VjcmV0"), "{}", line.payload);
        assert!(line.payload.contains("k1"));
        assert_eq!(line.payload.chars().count(), PAYLOAD_CHARS + 1);
        assert_eq!(line.actor, "user:admin");
        assert_eq!(line.link, None, "exchanges have no page of their own");
    }
}
