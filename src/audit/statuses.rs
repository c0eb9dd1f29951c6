//! A bot's status over its life, folded from its events by the aggregate's own `apply`:
//! when it changed, to what, on whose command, and why it failed.

use anytrade_aggregates::values::BotId;
use anytrade_aggregates::{Bot, BotStatus};
use anytrade_projections::log::read_aggregate;
use anytrade_projections::{AggregateKind, Event};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use sqlx::PgPool;

use super::history::{AggregateRef, AuditError};
use super::state::WrongKind;

/// One change of a bot's status.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub at: DateTime<Utc>,
    pub status: BotStatus,
    /// The event that changed it.
    pub event_type: String,
    /// Who asked, when a user's command did it.
    pub actor: Option<String>,
    /// The bot's error when it went to `error`.
    pub reason: Option<String>,
}

/// The last `last` status changes of `bot`, newest first (its creation counts as one).
pub async fn bot_statuses(
    pool: &PgPool,
    bot: BotId,
    last: usize,
) -> Result<Vec<StatusChange>, AuditError> {
    let aggregate = AggregateRef {
        kind: AggregateKind::Bot,
        id: bot.uuid(),
    };
    let events = read_aggregate(pool, aggregate.kind, aggregate.id, None, None).await?;
    if events.is_empty() {
        return Err(AuditError::NotFound(aggregate));
    }
    let mut replay = Bot::default();
    let mut changes: Vec<StatusChange> = Vec::new();
    for logged in events {
        let typed = logged.decode()?;
        let Event::Bot(event) = typed.event else {
            return Err(WrongKind {
                aggregate: AggregateKind::Bot.as_str(),
                event: typed.event.kind().as_str(),
            }
            .into());
        };
        replay.apply(event);
        let Some(state) = replay.state() else {
            continue;
        };
        if changes.last().is_some_and(|c| c.status == state.status) {
            continue;
        }
        changes.push(StatusChange {
            at: logged.committed_at,
            status: state.status,
            event_type: logged.event_type,
            actor: typed.metadata.actor,
            reason: state
                .last_error
                .clone()
                .filter(|_| state.status == BotStatus::Error),
        });
    }
    changes.reverse();
    changes.truncate(last);
    Ok(changes)
}
