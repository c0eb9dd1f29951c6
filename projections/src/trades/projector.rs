//! Keeps the `trades` table in step with the trade events.

use anytrade_aggregates::TradeEvent;
use async_trait::async_trait;
use sqlx::PgConnection;

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
        let Event::Trade(change) = event.event else {
            return Ok(());
        };
        let id = event.aggregate_id;
        let at = event.committed_at;
        match change {
            TradeEvent::TradeOpened { opening } => {
                sqlx::query(
                    "INSERT INTO trades (id, bot_id, freqtrade_trade_id, pair, is_open, open_date,
                                         open_rate, amount, stake_amount, strategy_name,
                                         timeframe_minutes, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, TRUE, $5, $6, $7, $8, $9, $10, $11, $11)
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(id)
                .bind(opening.bot_id.uuid())
                .bind(opening.trade_id)
                .bind(opening.pair)
                .bind(opening.open_date)
                .bind(opening.open_rate)
                .bind(opening.amount)
                .bind(opening.stake_amount)
                .bind(opening.strategy_name)
                .bind(opening.timeframe_minutes as i32)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            TradeEvent::TradeClosed { closing, .. } => {
                sqlx::query(
                    "UPDATE trades SET is_open = FALSE, close_date = $2, close_rate = $3,
                            profit_abs = $4, profit_ratio = $5, exit_reason = $6, updated_at = $7
                     WHERE id = $1",
                )
                .bind(id)
                .bind(closing.close_date)
                .bind(closing.close_rate)
                .bind(closing.profit_abs)
                .bind(closing.profit_ratio)
                .bind(closing.exit_reason)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
        }
        Ok(())
    }
}
