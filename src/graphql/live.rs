//! Subscriptions that feed dashboards: an entity as it is after each change.
//!
//! Each one follows the hub's live feed, picks the events that concern it, waits until
//! the read models have applied that event, and sends the entity as the read model
//! shows it then, so a subscriber never sees a state older than the event that woke it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anytrade_projections::LoggedEvent;
use async_graphql::{Context, ID, Result, Subscription};
use futures::{Stream, StreamExt};
use uuid::Uuid;

use super::bots::{self, Bot};
use super::context::{ApiContext, ContextExt, parse_id};
use super::jobs::{self, Backtest, Hyperopt};
use super::trades::{self, Trade};

/// How long a subscription waits for the read models to apply an event.
const SETTLE: Duration = Duration::from_secs(10);

/// The entity (by id) each matching live event concerns, loaded once the read models
/// show that event; events whose entity is gone (deleted) are skipped.
fn follow<T, Concerns, Load, Loaded>(
    api: &ApiContext,
    concerns: Concerns,
    load: Load,
) -> impl Stream<Item = T> + use<T, Concerns, Load, Loaded>
where
    T: Send + 'static,
    Concerns: Fn(&LoggedEvent) -> Option<Uuid> + Send + 'static,
    Load: Fn(sqlx::PgPool, Uuid) -> Loaded + Clone + Send + Sync + 'static,
    Loaded: Future<Output = Result<Option<T>>> + Send,
{
    let api = api.clone();
    api.hub
        .events(None)
        .filter_map(move |event: Arc<LoggedEvent>| {
            let id = concerns(&event);
            let api = api.clone();
            let load = load.clone();
            async move {
                let id = id?;
                api.projections.wait_for(event.log_position(), SETTLE).await;
                load(api.pool.clone(), id).await.ok().flatten()
            }
        })
}

fn aggregate_id(event: &LoggedEvent) -> Option<Uuid> {
    Uuid::parse_str(&event.aggregate_id).ok()
}

/// `id` when `event` is one of aggregate `kind` `id`'s.
fn one_of(event: &LoggedEvent, kind: &str, id: Uuid) -> Option<Uuid> {
    (event.aggregate_type == kind && aggregate_id(event) == Some(id)).then_some(id)
}

/// The bot id a trade event names.
fn trade_bot(event: &LoggedEvent) -> Option<Uuid> {
    let payload = &event.payload;
    let bot = payload
        .pointer("/TradeOpened/opening/bot_id")
        .or_else(|| payload.pointer("/TradeClosed/bot_id"))?;
    Uuid::parse_str(bot.as_str()?).ok()
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
        let only = bot_id.map(|id| parse_id("botId", &id)).transpose()?;
        Ok(follow(
            ctx.api(),
            move |event| {
                let id = aggregate_id(event)?;
                let lifecycle = event.aggregate_type == "bot" && event.event_type != "BotUpdated";
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
            move |event| one_of(event, "backtest", only),
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
            move |event| one_of(event, "hyperopt", only),
            |pool, id| async move { jobs::load_hyperopt(&pool, id).await },
        ))
    }

    /// A bot's trades as they open and close.
    async fn bot_trades(
        &self,
        ctx: &Context<'_>,
        bot_id: ID,
    ) -> Result<impl Stream<Item = Trade> + use<>> {
        let bot = parse_id("botId", &bot_id)?;
        Ok(follow(
            ctx.api(),
            move |event| {
                (event.aggregate_type == "trade" && trade_bot(event) == Some(bot))
                    .then(|| aggregate_id(event))
                    .flatten()
            },
            |pool, id| async move { trades::load(&pool, id).await },
        ))
    }
}
