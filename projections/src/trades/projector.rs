//! Keeps the `trades` table, and each bot's sums of it (`bot_trade_totals`), in step
//! with the trade events. Trades are most of a fleet's log, so a batch is applied as two
//! set-based statements (every opening, then every closing) rather than one statement
//! per event; each moves the sums by exactly the rows it changed, so applying an event
//! twice moves them once.

use std::collections::{HashMap, HashSet};

use anytrade_aggregates::{TradeClosing, TradeEvent, TradeOpening};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{ProjectionError, Projector};
use crate::typed::{AggregateKind, Event, TypedEvent};

pub struct TradesProjector;

#[async_trait]
impl Projector for TradesProjector {
    fn aggregate(&self) -> AggregateKind {
        AggregateKind::Trade
    }

    fn name(&self) -> &'static str {
        "trades"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["trades", "bot_trade_totals"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: TypedEvent) -> Result<(), ProjectionError> {
        self.apply_all(tx, vec![event]).await
    }

    async fn apply_all(
        &self,
        tx: &mut PgConnection,
        events: Vec<TypedEvent>,
    ) -> Result<(), ProjectionError> {
        let changes = Changes::of(events);
        insert_openings(tx, &changes.openings).await?;
        update_closings(tx, &changes.closings).await?;
        Ok(())
    }
}

/// One trade's change in a batch, and when it committed.
struct Change<T> {
    id: Uuid,
    at: DateTime<Utc>,
    change: T,
}

/// A batch reduced to what one-by-one application would leave: a trade's first
/// opening (a repeated one changes nothing) and its last closing (each overwrites the
/// one before). Openings go in before closings, which holds the log's order for every
/// trade: a trade's closing always follows its opening.
#[derive(Default)]
struct Changes {
    openings: Vec<Change<TradeOpening>>,
    closings: Vec<Change<TradeClosing>>,
}

impl Changes {
    fn of(events: Vec<TypedEvent>) -> Self {
        let mut changes = Self::default();
        let mut opened = HashSet::new();
        let mut closed = HashMap::new();
        for event in events {
            let (id, at) = (event.aggregate_id, event.committed_at);
            match event.event {
                Event::Trade(TradeEvent::TradeOpened { opening }) if opened.insert(id) => {
                    changes.openings.push(Change {
                        id,
                        at,
                        change: opening,
                    });
                }
                Event::Trade(TradeEvent::TradeClosed { closing, .. }) => {
                    let change = Change {
                        id,
                        at,
                        change: closing,
                    };
                    match closed.get(&id) {
                        Some(&index) => changes.closings[index] = change,
                        None => {
                            closed.insert(id, changes.closings.len());
                            changes.closings.push(change);
                        }
                    }
                }
                _ => {}
            }
        }
        changes
    }
}

/// One field of every row, bound as an array that `unnest` turns back into rows.
fn column<'a, R, T>(rows: &'a [R], field: impl Fn(&'a R) -> T) -> Vec<T> {
    rows.iter().map(field).collect()
}

async fn insert_openings(
    tx: &mut PgConnection,
    openings: &[Change<TradeOpening>],
) -> Result<(), ProjectionError> {
    if openings.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "WITH opened AS (
             INSERT INTO trades (id, bot_id, freqtrade_trade_id, pair, is_open, open_date,
                                 open_rate, amount, stake_amount, strategy_name,
                                 timeframe_minutes, created_at, updated_at)
             SELECT id, bot_id, trade_id, pair, TRUE, open_date, open_rate, amount,
                    stake_amount, strategy_name, timeframe_minutes, at, at
               FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[],
                           $5::timestamptz[], $6::float8[], $7::float8[], $8::float8[],
                           $9::text[], $10::int[], $11::timestamptz[])
                 AS o(id, bot_id, trade_id, pair, open_date, open_rate, amount,
                      stake_amount, strategy_name, timeframe_minutes, at)
             ON CONFLICT (id) DO NOTHING
             RETURNING bot_id)
         INSERT INTO bot_trade_totals AS s (bot_id, open_trades)
         SELECT bot_id, count(*) FROM opened GROUP BY bot_id
         ON CONFLICT (bot_id) DO UPDATE SET open_trades = s.open_trades + EXCLUDED.open_trades",
    )
    .bind(column(openings, |o| o.id))
    .bind(column(openings, |o| o.change.bot_id.uuid()))
    .bind(column(openings, |o| o.change.trade_id))
    .bind(column(openings, |o| o.change.pair.as_str()))
    .bind(column(openings, |o| o.change.open_date))
    .bind(column(openings, |o| o.change.open_rate))
    .bind(column(openings, |o| o.change.amount))
    .bind(column(openings, |o| o.change.stake_amount))
    .bind(column(openings, |o| o.change.strategy_name.as_str()))
    .bind(column(openings, |o| o.change.timeframe_minutes as i32))
    .bind(column(openings, |o| o.at))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn update_closings(
    tx: &mut PgConnection,
    closings: &[Change<TradeClosing>],
) -> Result<(), ProjectionError> {
    if closings.is_empty() {
        return Ok(());
    }
    // `prior` is the trade as the statement found it (a statement does not see its own
    // changes): the sums move from what it was to what it becomes. That holds because
    // one connection at a time writes a bot's trades (the runner's lock; a rebuild's
    // partitions, see `TypedEvent::partition`).
    sqlx::query(
        "WITH closed AS (
             UPDATE trades SET is_open = FALSE, close_date = c.close_date,
                    close_rate = c.close_rate, profit_abs = c.profit_abs,
                    profit_ratio = c.profit_ratio, exit_reason = c.exit_reason,
                    updated_at = c.at
               FROM unnest($1::uuid[], $2::timestamptz[], $3::float8[], $4::float8[],
                           $5::float8[], $6::text[], $7::timestamptz[])
                 AS c(id, close_date, close_rate, profit_abs, profit_ratio, exit_reason, at)
               JOIN trades prior ON prior.id = c.id
              WHERE trades.id = c.id
             RETURNING trades.bot_id, prior.is_open AS was_open,
                       CASE WHEN prior.is_open THEN 0
                            ELSE COALESCE(prior.profit_abs, 0)::numeric END AS was_counted,
                       trades.profit_abs::numeric AS profit)
         INSERT INTO bot_trade_totals AS s (bot_id, open_trades, closed_trades, closed_profit)
         SELECT bot_id, -count(*) FILTER (WHERE was_open), count(*) FILTER (WHERE was_open),
                sum(profit - was_counted)
           FROM closed GROUP BY bot_id
         ON CONFLICT (bot_id) DO UPDATE SET
             open_trades = s.open_trades + EXCLUDED.open_trades,
             closed_trades = s.closed_trades + EXCLUDED.closed_trades,
             closed_profit = s.closed_profit + EXCLUDED.closed_profit",
    )
    .bind(column(closings, |c| c.id))
    .bind(column(closings, |c| c.change.close_date))
    .bind(column(closings, |c| c.change.close_rate))
    .bind(column(closings, |c| c.change.profit_abs))
    .bind(column(closings, |c| c.change.profit_ratio))
    .bind(column(closings, |c| c.change.exit_reason.as_str()))
    .bind(column(closings, |c| c.at))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use anytrade_aggregates::values::BotId;

    use super::*;

    fn event(trade: Uuid, position: i64, event: TradeEvent) -> TypedEvent {
        TypedEvent::at(trade, position, Event::Trade(event))
    }

    fn opened(trade: Uuid, position: i64, pair: &str) -> TypedEvent {
        let opening = TradeOpening {
            bot_id: BotId::from(Uuid::nil()),
            trade_id: 1,
            pair: pair.to_owned(),
            open_date: Utc::now(),
            open_rate: 1.0,
            amount: 1.0,
            stake_amount: 1.0,
            strategy_name: "S".to_owned(),
            timeframe_minutes: 5,
        };
        event(trade, position, TradeEvent::TradeOpened { opening })
    }

    fn closed(trade: Uuid, position: i64, exit_reason: &str) -> TypedEvent {
        let closing = TradeClosing {
            close_date: Utc::now(),
            close_rate: 1.0,
            profit_abs: 0.0,
            profit_ratio: 0.0,
            exit_reason: exit_reason.to_owned(),
        };
        let (bot_id, trade_id) = (BotId::from(Uuid::nil()), 1);
        event(
            trade,
            position,
            TradeEvent::TradeClosed {
                bot_id,
                trade_id,
                closing,
            },
        )
    }

    #[test]
    fn a_batch_keeps_each_trades_first_opening_and_last_closing() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let changes = Changes::of(vec![
            opened(a, 1, "BTC/USDT"),
            opened(b, 2, "ETH/USDT"),
            closed(a, 3, "roi"),
            opened(a, 4, "XRP/USDT"),
            closed(a, 5, "force_exit"),
        ]);
        let openings: Vec<(Uuid, &str)> = changes
            .openings
            .iter()
            .map(|o| (o.id, o.change.pair.as_str()))
            .collect();
        assert_eq!(openings, [(a, "BTC/USDT"), (b, "ETH/USDT")]);
        let closings: Vec<(Uuid, &str)> = changes
            .closings
            .iter()
            .map(|c| (c.id, c.change.exit_reason.as_str()))
            .collect();
        assert_eq!(closings, [(a, "force_exit")]);
    }
}
