//! The event log through the API: browse it (`events` query) or follow it live
//! (`events` subscription), resumable from a global position with no gap and no
//! duplicate. Sealed secrets are shown by key id only.

use std::sync::Arc;

use anytrade_projections::{LogPosition, LoggedEvent};
use async_graphql::{Context, InputObject, Json, Object, Result, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use serde_json::Value;

use super::context::ContextExt;
use super::errors;
use super::pagination::{MAX_PAGE, page_size};
use crate::hub;

/// One committed event, with sealed secrets shown by key id only. It shares the hub's
/// copy of the event, so a thousand subscribers do not clone a thousand payloads.
#[derive(Clone)]
pub struct LogEvent(Arc<LoggedEvent>);

impl LogEvent {
    /// The event as the API may show it: sealed values reduced to their key id.
    pub fn redacted(event: LoggedEvent) -> Self {
        Self(Arc::new(hub::redacted(event)))
    }

    /// An event the hub has already redacted.
    pub fn shared(event: Arc<LoggedEvent>) -> Self {
        Self(event)
    }
}

#[Object]
impl LogEvent {
    /// Global position; pass it as `after` to resume right after this event.
    async fn position(&self) -> i64 {
        self.0.position
    }

    async fn committed_at(&self) -> DateTime<Utc> {
        self.0.committed_at
    }

    async fn aggregate_type(&self) -> &str {
        &self.0.aggregate_type
    }

    async fn aggregate_id(&self) -> &str {
        &self.0.aggregate_id
    }

    /// The event's number within its aggregate, from 1.
    async fn sequence(&self) -> i64 {
        self.0.sequence
    }

    async fn event_type(&self) -> &str {
        &self.0.event_type
    }

    async fn event_version(&self) -> &str {
        &self.0.event_version
    }

    async fn payload(&self) -> Json<&Value> {
        Json(&self.0.payload)
    }

    /// Who issued the command, when, and the correlation and causation ids.
    async fn metadata(&self) -> Json<&Value> {
        Json(&self.0.metadata)
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

impl EventFilter {
    fn matches(&self, event: &LoggedEvent) -> bool {
        self.aggregate_types
            .as_ref()
            .is_none_or(|types| types.contains(&event.aggregate_type))
            && self
                .aggregate_id
                .as_ref()
                .is_none_or(|id| *id == event.aggregate_id)
            && self
                .event_types
                .as_ref()
                .is_none_or(|types| types.contains(&event.event_type))
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
        let filter = filter.unwrap_or_default();
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
                    .filter(|e| filter.matches(e))
                    .take(limit - found.len())
                    .map(LogEvent::redacted),
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
        let filter = filter.unwrap_or_default();
        let from = match after {
            Some(after) => Some(resume_point(ctx, after).await?),
            None => None,
        };
        Ok(ctx
            .api()
            .hub
            .events(from)
            .filter(move |event: &Arc<LoggedEvent>| std::future::ready(filter.matches(event)))
            .map(LogEvent::shared))
    }
}
