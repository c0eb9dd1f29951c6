//! Subscriptions that feed dashboards: an entity as it is after each change.
//!
//! Each one follows the hub's live feed, picks the events that concern it, waits until
//! the read models have applied that event, and sends the entity as the read model
//! shows it then, so a subscriber never sees a state older than the event that woke it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anytrade_aggregates::TradeEvent;
use anytrade_aggregates::values::BotId;
use anytrade_projections::{Event, TypedEvent};
use async_graphql::{Context, ID, Result, Subscription};
use futures::{Stream, StreamExt};

use super::bots::{self, Bot};
use super::context::{ApiContext, ContextExt, parse_bot_id, parse_id};
use super::jobs::{self, Backtest, Hyperopt};
use super::trades::{self, Trade};
use crate::hub::FeedEvent;

/// How long a subscription waits for the read models to apply an event.
const SETTLE: Duration = Duration::from_secs(10);

/// The entity (by id) each matching live event concerns, loaded once the read models
/// show that event; events whose entity is gone (deleted) are skipped.
fn follow<T, Id, Concerns, Load, Loaded>(
    api: &ApiContext,
    concerns: Concerns,
    load: Load,
) -> impl Stream<Item = T> + use<T, Id, Concerns, Load, Loaded>
where
    T: Send + 'static,
    Id: Send + 'static,
    Concerns: Fn(&TypedEvent) -> Option<Id> + Send + 'static,
    Load: Fn(sqlx::PgPool, Id) -> Loaded + Clone + Send + Sync + 'static,
    Loaded: Future<Output = Result<Option<T>>> + Send,
{
    let api = api.clone();
    api.hub
        .events(None)
        .filter_map(move |event: Arc<FeedEvent>| {
            let id = event.typed.as_ref().and_then(&concerns);
            let api = api.clone();
            let load = load.clone();
            async move {
                let id = id?;
                api.projections.wait_for(event.log_position(), SETTLE).await;
                load(api.pool.clone(), id).await.ok().flatten()
            }
        })
}

/// The bot id a trade event names.
fn trade_bot(event: &TradeEvent) -> BotId {
    match event {
        TradeEvent::TradeOpened { opening } => opening.bot_id,
        TradeEvent::TradeClosed { bot_id, .. } => *bot_id,
    }
}

#[derive(Default)]
pub struct LiveSubscription;

#[Subscription]
impl LiveSubscription {
    /// Bots as they are after each lifecycle change (all bots, or only `botId`).
    /// Deletions end a bot's updates.
    async fn bot_status_changed(
        &self,
        ctx: &Context<'_>,
        bot_id: Option<ID>,
    ) -> Result<impl Stream<Item = Bot> + use<>> {
        let only = bot_id.map(|id| parse_bot_id("botId", &id)).transpose()?;
        Ok(follow(
            ctx.api(),
            move |typed| {
                let id = BotId::from(typed.aggregate_id);
                let lifecycle = matches!(&typed.event, Event::Bot(e) if e.changes_status());
                (lifecycle && only.is_none_or(|only| only == id)).then_some(id)
            },
            |pool, id| async move { bots::load(&pool, id).await },
        ))
    }

    /// A backtest as it is after each change (started, completed, failed, cancelled).
    async fn backtest_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl Stream<Item = Backtest> + use<>> {
        let only = parse_id("id", &id)?;
        Ok(follow(
            ctx.api(),
            move |typed| {
                (matches!(typed.event, Event::Backtest(_)) && typed.aggregate_id == only)
                    .then_some(only)
            },
            |pool, id| async move { jobs::load_backtest(&pool, id).await },
        ))
    }

    /// A hyperopt as it is after each change, progress reports included.
    async fn hyperopt_progress(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl Stream<Item = Hyperopt> + use<>> {
        let only = parse_id("id", &id)?;
        Ok(follow(
            ctx.api(),
            move |typed| {
                (matches!(typed.event, Event::Hyperopt(_)) && typed.aggregate_id == only)
                    .then_some(only)
            },
            |pool, id| async move { jobs::load_hyperopt(&pool, id).await },
        ))
    }

    /// Trades as they open and close: one bot's (`botId`), or every bot's.
    async fn bot_trades(
        &self,
        ctx: &Context<'_>,
        bot_id: Option<ID>,
    ) -> Result<impl Stream<Item = Trade> + use<>> {
        let bot = bot_id.map(|id| parse_bot_id("botId", &id)).transpose()?;
        Ok(follow(
            ctx.api(),
            move |typed| match &typed.event {
                Event::Trade(trade) if bot.is_none_or(|bot| trade_bot(trade) == bot) => {
                    Some(typed.aggregate_id)
                }
                _ => None,
            },
            |pool, id| async move { trades::load(&pool, id).await },
        ))
    }
}
