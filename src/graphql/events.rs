//! The event log through the API: browse it (`events` query) or follow it live
//! (`events` subscription), resumable from a global position with no gap and no
//! duplicate. Sealed secrets are shown by key id only.

use std::sync::Arc;

use anytrade_projections::typed::NameList;
use anytrade_projections::{EventSelector, LogPosition};
use async_graphql::{Context, InputObject, Json, Object, Result, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use serde_json::Value;

use super::context::ContextExt;
use super::errors;
use super::pagination::{MAX_PAGE, page_size};
use crate::hub::FeedEvent;

/// One committed event, with sealed secrets shown by key id only. It shares the hub's
/// copy of the event, so a thousand subscribers do not clone a thousand payloads.
#[derive(Clone)]
pub struct LogEvent(Arc<FeedEvent>);

#[Object]
impl LogEvent {
    /// Global position; pass it as `after` to resume right after this event.
    async fn position(&self) -> i64 {
        self.0.shown.position
    }

    async fn committed_at(&self) -> DateTime<Utc> {
        self.0.shown.committed_at
    }

    async fn aggregate_type(&self) -> &str {
        &self.0.shown.aggregate_type
    }

    async fn aggregate_id(&self) -> &str {
        &self.0.shown.aggregate_id
    }

    /// The event's number within its aggregate, from 1.
    async fn sequence(&self) -> i64 {
        self.0.shown.sequence
    }

    async fn event_type(&self) -> &str {
        &self.0.shown.event_type
    }

    async fn event_version(&self) -> &str {
        &self.0.shown.event_version
    }

    async fn payload(&self) -> Json<&Value> {
        Json(&self.0.shown.payload)
    }

    /// Who issued the command, when, and the correlation and causation ids.
    async fn metadata(&self) -> Json<&Value> {
        Json(&self.0.shown.metadata)
    }
}

#[derive(InputObject, Default, Clone)]
pub struct EventFilter {
    /// Only these aggregate types (`bot`, `exchange`, `strategy`, `backtest`, `hyperopt`).
    pub aggregate_types: Option<Vec<String>>,
    pub aggregate_id: Option<String>,
    /// Only these event types (`BotStarted`, …).
    pub event_types: Option<Vec<String>>,
}

/// [`EventFilter`] with its names checked.
struct Filter {
    selector: EventSelector,
    aggregate_id: Option<String>,
}

impl TryFrom<EventFilter> for Filter {
    type Error = async_graphql::Error;

    fn try_from(filter: EventFilter) -> Result<Self> {
        let selector = EventSelector::parse(
            filter.aggregate_types.as_deref(),
            filter.event_types.as_deref(),
        )
        .map_err(|e| {
            let list = match e.list {
                NameList::AggregateTypes => "aggregateTypes",
                NameList::EventTypes => "eventTypes",
            };
            errors::validation(&format!("filter.{list}[{}]", e.index), &e)
        })?;
        Ok(Self {
            selector,
            aggregate_id: filter.aggregate_id,
        })
    }
}

impl Filter {
    fn matches(&self, event: &FeedEvent) -> bool {
        self.selector.matches(&event.shown)
            && self
                .aggregate_id
                .as_ref()
                .is_none_or(|id| *id == event.shown.aggregate_id)
    }
}

/// The log position right after global position `after` (0: the start).
async fn resume_point(ctx: &Context<'_>, after: i64) -> Result<LogPosition> {
    if after < 0 {
        return Err(errors::validation("after", "must not be negative"));
    }
    ctx.api()
        .hub
        .log()
        .locate(after)
        .await
        .map_err(errors::database)?
        .ok_or_else(|| errors::not_found("after", "no event at that position"))
}

#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// The audit trail: events after global position `after` (0: from the start), in
    /// log order, at most `first` (default 20, max 100) that match `filter`.
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        #[graphql(default = 0)] after: i64,
        first: Option<i32>,
    ) -> Result<Vec<LogEvent>> {
        let filter = Filter::try_from(filter.unwrap_or_default())?;
        let limit = page_size(first)? as usize;
        let log = ctx.api().hub.log();
        let mut at = resume_point(ctx, after).await?;
        let mut found = Vec::new();
        // Filters apply after reading, so read on until the page is full or the log ends.
        while found.len() < limit {
            let batch = log
                .read_after(at, MAX_PAGE * 5)
                .await
                .map_err(errors::database)?;
            let Some(last) = batch.last() else { break };
            at = last.log_position();
            found.extend(
                batch
                    .into_iter()
                    .map(FeedEvent::new)
                    .filter(|e| filter.matches(e))
                    .take(limit - found.len())
                    .map(|e| LogEvent(Arc::new(e))),
            );
        }
        Ok(found)
    }
}

#[derive(Default)]
pub struct EventSubscription;

#[Subscription]
impl EventSubscription {
    /// The live tail of the log. With `after`, first every event after that global
    /// position, then live ones: a client that reconnects with the last position it saw
    /// misses nothing and sees nothing twice.
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        after: Option<i64>,
    ) -> Result<impl Stream<Item = LogEvent> + use<>> {
        let filter = Filter::try_from(filter.unwrap_or_default())?;
        let from = match after {
            Some(after) => Some(resume_point(ctx, after).await?),
            None => None,
        };
        Ok(ctx
            .api()
            .hub
            .events(from)
            .filter(move |event: &Arc<FeedEvent>| std::future::ready(filter.matches(event)))
            .map(LogEvent))
    }
}
