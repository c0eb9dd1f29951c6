//! Listing a bot's trades: a filter, an order and keyset pages.

use anytrade_aggregates::values::BotId;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::{SELECT, TradeRow};
use crate::page::{Cursor, Direction, Page, PageError};

/// Which of a bot's trades to list; `None` lets all through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TradeFilter {
    pub is_open: Option<bool>,
    pub pair: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TradeOrderField {
    #[default]
    OpenDate,
    FreqtradeId,
}

/// How to sort trades; ties are broken by id, in the same direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TradeOrder {
    pub field: TradeOrderField,
    pub direction: Direction,
}

impl TradeOrder {
    fn column(self) -> &'static str {
        match self.field {
            TradeOrderField::OpenDate => "open_date",
            TradeOrderField::FreqtradeId => "freqtrade_trade_id",
        }
    }

    /// The start of every cursor key this ordering issues.
    fn prefix(self) -> String {
        let tag = match self.field {
            TradeOrderField::OpenDate => "open",
            TradeOrderField::FreqtradeId => "id",
        };
        format!("{tag}:{}:", self.direction.sql())
    }

    pub fn cursor(self, trade: &TradeRow) -> Cursor {
        let value = match self.field {
            TradeOrderField::OpenDate => trade.open_date.to_rfc3339(),
            TradeOrderField::FreqtradeId => trade.freqtrade_trade_id.to_string(),
        };
        Cursor {
            key: format!("{}{value}", self.prefix()),
            id: trade.id,
        }
    }

    fn push_after(
        self,
        query: &mut QueryBuilder<'_, Postgres>,
        cursor: &Cursor,
    ) -> Result<(), PageError> {
        let key = cursor
            .key
            .strip_prefix(&self.prefix())
            .ok_or_else(PageError::foreign_cursor)?;
        query.push(format!(
            " AND ({}, id) {} (",
            self.column(),
            self.direction.after()
        ));
        match self.field {
            TradeOrderField::OpenDate => {
                let at: DateTime<Utc> = key.parse().map_err(|_| PageError::foreign_cursor())?;
                query.push_bind(at);
            }
            TradeOrderField::FreqtradeId => {
                let id: i64 = key.parse().map_err(|_| PageError::foreign_cursor())?;
                query.push_bind(id);
            }
        }
        query.push(", ").push_bind(cursor.id).push(")");
        Ok(())
    }
}

fn push_filter(query: &mut QueryBuilder<'_, Postgres>, bot: BotId, filter: &TradeFilter) {
    query.push(" WHERE bot_id = ").push_bind(bot.uuid());
    if let Some(open) = filter.is_open {
        query.push(" AND is_open = ").push_bind(open);
    }
    if let Some(pair) = &filter.pair {
        query.push(" AND pair = ").push_bind(pair.clone());
    }
}

/// Up to `limit` of `bot`'s trades after `after` in `order`, with the count of all that
/// match.
pub async fn list(
    pool: &PgPool,
    bot: BotId,
    filter: &TradeFilter,
    order: TradeOrder,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Page<TradeRow>, PageError> {
    let mut count = QueryBuilder::new("SELECT count(*) FROM trades");
    push_filter(&mut count, bot, filter);

    let mut page = QueryBuilder::new(SELECT);
    push_filter(&mut page, bot, filter);
    if let Some(cursor) = after {
        order.push_after(&mut page, cursor)?;
    }
    let (column, direction) = (order.column(), order.direction.sql());
    page.push(format!(
        " ORDER BY {column} {direction}, id {direction} LIMIT "
    ))
    .push_bind(limit + 1);
    // Two connections at once: the page costs one round trip instead of two.
    let (total, rows): (i64, Vec<TradeRow>) = tokio::try_join!(
        count.build_query_scalar().fetch_one(pool),
        page.build_query_as().fetch_all(pool)
    )?;
    Ok(Page::new(rows, limit, total, |trade| order.cursor(trade)))
}
