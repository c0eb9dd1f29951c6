//! Trades: what each bot's freqtrade opened and closed, as the trade sync recorded it.
//! Trades stay after their bot is deleted.

use anytrade_aggregates::BotCommand;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::context::{ContextExt, parse_id};
use super::errors;
use super::loaders::{TradeMark, TradeMarkLoader};
use super::pagination::OrderDirection;
use super::pagination::{Cursor, Page, connection, page_size};

#[derive(SimpleObject, sqlx::FromRow)]
#[graphql(complex)]
pub struct Trade {
    #[graphql(skip)]
    pub id: Uuid,
    #[graphql(skip)]
    pub bot_id: Uuid,
    /// freqtrade's id of the trade, unique per bot.
    pub freqtrade_trade_id: i64,
    pub pair: String,
    pub is_open: bool,
    pub open_date: DateTime<Utc>,
    pub close_date: Option<DateTime<Utc>>,
    pub open_rate: f64,
    pub close_rate: Option<f64>,
    pub amount: f64,
    pub stake_amount: f64,
    pub profit_abs: Option<f64>,
    /// 0.05 = 5 %.
    pub profit_ratio: Option<f64>,
    /// Why freqtrade closed it (`roi`, `stop_loss`, `force_exit`, …).
    pub exit_reason: Option<String>,
    pub strategy_name: String,
    pub timeframe_minutes: i32,
}

#[async_graphql::ComplexObject]
impl Trade {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The bot that made the trade (it may have been deleted since).
    async fn bot_id(&self) -> ID {
        ID(self.bot_id.to_string())
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
        if !self.is_open {
            return Ok(None);
        }
        ctx.data_unchecked::<DataLoader<TradeMarkLoader>>()
            .load_one((self.bot_id, self.freqtrade_trade_id))
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

const SELECT: &str = "SELECT id, bot_id, freqtrade_trade_id, pair, is_open, open_date, close_date,
    open_rate, close_rate, amount, stake_amount, profit_abs, profit_ratio, exit_reason,
    strategy_name, timeframe_minutes FROM trades";

/// One trade by its aggregate id.
pub(super) async fn load(pool: &sqlx::PgPool, id: Uuid) -> Result<Option<Trade>> {
    sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(errors::database)
}

fn push_filter(query: &mut QueryBuilder<'_, Postgres>, bot: Uuid, filter: &TradeFilter) {
    query.push(" WHERE bot_id = ").push_bind(bot);
    if let Some(open) = filter.is_open {
        query.push(" AND is_open = ").push_bind(open);
    }
    if let Some(pair) = &filter.pair {
        query.push(" AND pair = ").push_bind(pair.clone());
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
        let bot = parse_id("botId", &bot_id)?;
        let filter = filter.unwrap_or_default();
        let order = order_by.unwrap_or_default();
        let limit = page_size(first)?;
        let cursor = Cursor::decode(after.as_deref())?;
        let pool = &ctx.api().pool;

        let mut count = QueryBuilder::new("SELECT count(*) FROM trades");
        push_filter(&mut count, bot, &filter);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(pool)
            .await
            .map_err(errors::database)?;

        let (column, tag) = match order.field {
            TradeOrderField::OpenDate => ("open_date", "open"),
            TradeOrderField::FreqtradeId => ("freqtrade_trade_id", "id"),
        };
        let (comparison, direction) = match order.direction {
            OrderDirection::Asc => (">", "ASC"),
            OrderDirection::Desc => ("<", "DESC"),
        };
        let prefix = format!("{tag}:{direction}:");
        let mut page = QueryBuilder::new(SELECT);
        push_filter(&mut page, bot, &filter);
        if let Some(cursor) = &cursor {
            let stale = || {
                errors::validation(
                    "after",
                    "not a cursor of this ordering; start again without `after`",
                )
            };
            let key = cursor.key.strip_prefix(&prefix).ok_or_else(stale)?;
            page.push(format!(" AND ({column}, id) {comparison} ("));
            match order.field {
                TradeOrderField::OpenDate => {
                    page.push_bind(key.parse::<DateTime<Utc>>().map_err(|_| stale())?);
                }
                TradeOrderField::FreqtradeId => {
                    page.push_bind(key.parse::<i64>().map_err(|_| stale())?);
                }
            }
            page.push(", ").push_bind(cursor.id).push(")");
        }
        page.push(format!(
            " ORDER BY {column} {direction}, id {direction} LIMIT "
        ))
        .push_bind(limit + 1);
        let rows: Vec<Trade> = page
            .build_query_as()
            .fetch_all(pool)
            .await
            .map_err(errors::database)?;
        Ok(connection(rows, limit, cursor.is_some(), total, |t| {
            Cursor {
                key: match order.field {
                    TradeOrderField::OpenDate => format!("{prefix}{}", t.open_date.to_rfc3339()),
                    TradeOrderField::FreqtradeId => format!("{prefix}{}", t.freqtrade_trade_id),
                },
                id: t.id,
            }
        }))
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
        let bot = parse_id("botId", &bot_id)?;
        let api = ctx.api();
        api.commands
            .bots
            .execute(
                &bot.to_string(),
                BotCommand::RequestTradeSync,
                &ctx.metadata()?,
            )
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
        let bot = parse_id("botId", &bot_id)?;
        let api = ctx.api();
        let trade: Option<Trade> = sqlx::query_as(&format!(
            "{SELECT} WHERE bot_id = $1 AND freqtrade_trade_id = $2"
        ))
        .bind(bot)
        .bind(trade_id)
        .fetch_optional(&api.pool)
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
                &bot.to_string(),
                BotCommand::RequestTradeClose { trade_id },
                &ctx.metadata()?,
            )
            .await
            .map_err(|e| errors::command_on("botId", e))?;
        Ok(trade)
    }
}
