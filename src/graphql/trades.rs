//! Trades: what each bot's freqtrade opened and closed, as the trade sync recorded it.
//! Trades stay after their bot is deleted.

use anytrade_aggregates::BotCommand;
use anytrade_projections::trades::marks::TradeMark;
use anytrade_projections::trades::{self, TradeRow};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::context::{ContextExt, parse_bot_id};
use super::errors;
use super::loaders::TradeMarkLoader;
use super::pagination::{OrderDirection, Page, connection, decode_cursor, page_size};

/// A trade as the trades read model shows it.
pub struct Trade(pub TradeRow);

#[Object]
impl Trade {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The bot that made the trade (it may have been deleted since).
    async fn bot_id(&self) -> ID {
        ID(self.0.bot_id.to_string())
    }

    /// freqtrade's id of the trade, unique per bot.
    async fn freqtrade_trade_id(&self) -> i64 {
        self.0.freqtrade_trade_id
    }

    async fn pair(&self) -> &str {
        &self.0.pair
    }

    async fn is_open(&self) -> bool {
        self.0.is_open
    }

    async fn open_date(&self) -> DateTime<Utc> {
        self.0.open_date
    }

    async fn close_date(&self) -> Option<DateTime<Utc>> {
        self.0.close_date
    }

    async fn open_rate(&self) -> f64 {
        self.0.open_rate
    }

    async fn close_rate(&self) -> Option<f64> {
        self.0.close_rate
    }

    async fn amount(&self) -> f64 {
        self.0.amount
    }

    async fn stake_amount(&self) -> f64 {
        self.0.stake_amount
    }

    async fn profit_abs(&self) -> Option<f64> {
        self.0.profit_abs
    }

    /// 0.05 = 5 %.
    async fn profit_ratio(&self) -> Option<f64> {
        self.0.profit_ratio
    }

    /// Why freqtrade closed it (`roi`, `stop_loss`, `force_exit`, …).
    async fn exit_reason(&self) -> Option<&str> {
        self.0.exit_reason.as_deref()
    }

    async fn strategy_name(&self) -> &str {
        &self.0.strategy_name
    }

    async fn timeframe_minutes(&self) -> i32 {
        self.0.timeframe_minutes
    }

    /// An open trade's current rate, as the last trade sync read it.
    async fn current_rate(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        Ok(self.mark(ctx).await?.and_then(|m| m.current_rate))
    }

    /// An open trade's profit now (0.05 = 5 %), as the last trade sync read it.
    async fn current_profit_ratio(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        Ok(self.mark(ctx).await?.and_then(|m| m.profit_ratio))
    }

    /// An open trade's profit now in the stake currency, as the last sync read it.
    async fn current_profit_abs(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        Ok(self.mark(ctx).await?.and_then(|m| m.profit_abs))
    }
}

impl Trade {
    async fn mark(&self, ctx: &Context<'_>) -> Result<Option<TradeMark>> {
        if !self.0.is_open {
            return Ok(None);
        }
        ctx.data_unchecked::<DataLoader<TradeMarkLoader>>()
            .load_one((self.0.bot_id, self.0.freqtrade_trade_id))
            .await
            .map_err(|e| errors::internal("reading trade marks", e))
    }
}

#[derive(Enum, Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum TradeOrderField {
    #[default]
    OpenDate,
    FreqtradeId,
}

#[derive(InputObject, Default)]
pub struct TradeOrder {
    #[graphql(default)]
    pub field: TradeOrderField,
    #[graphql(default)]
    pub direction: OrderDirection,
}

#[derive(InputObject, Default)]
pub struct TradeFilter {
    pub is_open: Option<bool>,
    pub pair: Option<String>,
}

/// One trade by its aggregate id.
pub(super) async fn load(pool: &sqlx::PgPool, id: Uuid) -> Result<Option<Trade>> {
    let row = trades::get(pool, id).await.map_err(errors::database)?;
    Ok(row.map(Trade))
}

impl From<TradeOrder> for trades::TradeOrder {
    fn from(order: TradeOrder) -> Self {
        Self {
            field: match order.field {
                TradeOrderField::OpenDate => trades::TradeOrderField::OpenDate,
                TradeOrderField::FreqtradeId => trades::TradeOrderField::FreqtradeId,
            },
            direction: order.direction.into(),
        }
    }
}

#[derive(Default)]
pub struct TradeQuery;

#[Object]
impl TradeQuery {
    /// A bot's trades (also after the bot was deleted).
    async fn trades(
        &self,
        ctx: &Context<'_>,
        bot_id: ID,
        filter: Option<TradeFilter>,
        order_by: Option<TradeOrder>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Trade>> {
        let bot = parse_bot_id("botId", &bot_id)?;
        let filter = filter.unwrap_or_default();
        let filter = trades::TradeFilter {
            is_open: filter.is_open,
            pair: filter.pair,
        };
        let order = trades::TradeOrder::from(order_by.unwrap_or_default());
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let page = trades::list(&ctx.api().pool, bot, &filter, order, after.as_ref(), limit)
            .await
            .map_err(errors::page)?;
        Ok(connection(page, after.is_some(), Trade))
    }
}

/// What `syncTrades` did: it asked for a sync; the trades show up once it ran.
#[derive(SimpleObject)]
pub struct SyncTradesResult {
    pub bot_id: ID,
    /// Always true: the request is recorded. The trade sync carries it out.
    pub requested: bool,
    pub requested_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct TradeMutation;

#[Object]
impl TradeMutation {
    /// Asks for the bot's trades to be read from freqtrade now (running bots only).
    async fn sync_trades(&self, ctx: &Context<'_>, bot_id: ID) -> Result<SyncTradesResult> {
        let bot = parse_bot_id("botId", &bot_id)?;
        let api = ctx.api();
        api.commands
            .bots
            .execute(&bot, BotCommand::RequestTradeSync, &ctx.metadata()?)
            .await
            .map_err(|e| errors::command_on("botId", e))?;
        Ok(SyncTradesResult {
            bot_id,
            requested: true,
            requested_at: Utc::now(),
        })
    }

    /// Asks freqtrade to exit an open trade. Answers with the trade as it is now (still
    /// open); it shows closed after the next sync.
    async fn close_trade(&self, ctx: &Context<'_>, bot_id: ID, trade_id: i64) -> Result<Trade> {
        let bot = parse_bot_id("botId", &bot_id)?;
        let api = ctx.api();
        let trade = trades::of_bot(&api.pool, bot, trade_id)
            .await
            .map_err(errors::database)?;
        let trade =
            trade.ok_or_else(|| errors::not_found("tradeId", "the bot has no such trade"))?;
        if !trade.is_open {
            return Err(errors::error(
                "CONFLICT",
                "the trade is already closed",
                Some("tradeId"),
            ));
        }
        api.commands
            .bots
            .execute(
                &bot,
                BotCommand::RequestTradeClose { trade_id },
                &ctx.metadata()?,
            )
            .await
            .map_err(|e| errors::command_on("botId", e))?;
        Ok(Trade(trade))
    }
}
