//! Keeps the `trades` table in step with the trade events. Trades are most of a
//! fleet's log, so a batch is applied as two set-based statements (every opening, then
//! every closing) rather than one statement per event.

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
        &["trades"]
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

/// A batch reduced to what one-by-one application would leave: a trade's first
/// opening (a repeated one changes nothing) and its last closing (each overwrites the
/// one before). Openings go in before closings, which holds the log's order for every
/// trade: a trade's closing always follows its opening.
#[derive(Default)]
struct Changes {
    openings: Vec<(Uuid, DateTime<Utc>, TradeOpening)>,
    closings: Vec<(Uuid, DateTime<Utc>, TradeClosing)>,
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
                    changes.openings.push((id, at, opening));
                }
                Event::Trade(TradeEvent::TradeClosed { closing, .. }) => match closed.get(&id) {
                    Some(&index) => changes.closings[index] = (id, at, closing),
                    None => {
                        closed.insert(id, changes.closings.len());
                        changes.closings.push((id, at, closing));
                    }
                },
                _ => {}
            }
        }
        changes
    }
}

async fn insert_openings(
    tx: &mut PgConnection,
    openings: &[(Uuid, DateTime<Utc>, TradeOpening)],
) -> Result<(), ProjectionError> {
    if openings.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&(Uuid, DateTime<Utc>, TradeOpening)) -> f64| -> Vec<f64> {
        openings.iter().map(f).collect()
    };
    sqlx::query(
        "INSERT INTO trades (id, bot_id, freqtrade_trade_id, pair, is_open, open_date,
                             open_rate, amount, stake_amount, strategy_name,
                             timeframe_minutes, created_at, updated_at)
         SELECT id, bot_id, trade_id, pair, TRUE, open_date, open_rate, amount,
                stake_amount, strategy_name, timeframe_minutes, at, at
           FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[],
                       $5::timestamptz[], $6::float8[], $7::float8[], $8::float8[],
                       $9::text[], $10::int[], $11::timestamptz[])
             AS o(id, bot_id, trade_id, pair, open_date, open_rate, amount,
                  stake_amount, strategy_name, timeframe_minutes, at)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(openings.iter().map(|(id, ..)| *id).collect::<Vec<_>>())
    .bind(
        openings
            .iter()
            .map(|(_, _, o)| o.bot_id.uuid())
            .collect::<Vec<_>>(),
    )
    .bind(
        openings
            .iter()
            .map(|(_, _, o)| o.trade_id)
            .collect::<Vec<_>>(),
    )
    .bind(
        openings
            .iter()
            .map(|(_, _, o)| o.pair.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        openings
            .iter()
            .map(|(_, _, o)| o.open_date)
            .collect::<Vec<_>>(),
    )
    .bind(column(|(_, _, o)| o.open_rate))
    .bind(column(|(_, _, o)| o.amount))
    .bind(column(|(_, _, o)| o.stake_amount))
    .bind(
        openings
            .iter()
            .map(|(_, _, o)| o.strategy_name.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        openings
            .iter()
            .map(|(_, _, o)| o.timeframe_minutes as i32)
            .collect::<Vec<_>>(),
    )
    .bind(openings.iter().map(|(_, at, _)| *at).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn update_closings(
    tx: &mut PgConnection,
    closings: &[(Uuid, DateTime<Utc>, TradeClosing)],
) -> Result<(), ProjectionError> {
    if closings.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&(Uuid, DateTime<Utc>, TradeClosing)) -> f64| -> Vec<f64> {
        closings.iter().map(f).collect()
    };
    sqlx::query(
        "UPDATE trades SET is_open = FALSE, close_date = c.close_date,
                close_rate = c.close_rate, profit_abs = c.profit_abs,
                profit_ratio = c.profit_ratio, exit_reason = c.exit_reason,
                updated_at = c.at
           FROM unnest($1::uuid[], $2::timestamptz[], $3::float8[], $4::float8[],
                       $5::float8[], $6::text[], $7::timestamptz[])
             AS c(id, close_date, close_rate, profit_abs, profit_ratio, exit_reason, at)
          WHERE trades.id = c.id",
    )
    .bind(closings.iter().map(|(id, ..)| *id).collect::<Vec<_>>())
    .bind(
        closings
            .iter()
            .map(|(_, _, c)| c.close_date)
            .collect::<Vec<_>>(),
    )
    .bind(column(|(_, _, c)| c.close_rate))
    .bind(column(|(_, _, c)| c.profit_abs))
    .bind(column(|(_, _, c)| c.profit_ratio))
    .bind(
        closings
            .iter()
            .map(|(_, _, c)| c.exit_reason.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(closings.iter().map(|(_, at, _)| *at).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use anytrade_aggregates::values::BotId;

    use super::*;
    use crate::LogPosition;

    fn event(trade: Uuid, position: i64, event: TradeEvent) -> TypedEvent {
        TypedEvent {
            position,
            log_position: LogPosition {
                transaction_id: 1,
                position,
            },
            committed_at: Utc::now(),
            aggregate_id: trade,
            sequence: position,
            metadata: Default::default(),
            event: Event::Trade(event),
        }
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
            .map(|(id, _, o)| (*id, o.pair.as_str()))
            .collect();
        assert_eq!(openings, [(a, "BTC/USDT"), (b, "ETH/USDT")]);
        let closings: Vec<(Uuid, &str)> = changes
            .closings
            .iter()
            .map(|(id, _, c)| (*id, c.exit_reason.as_str()))
            .collect();
        assert_eq!(closings, [(a, "force_exit")]);
    }
}
