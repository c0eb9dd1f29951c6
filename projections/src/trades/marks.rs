//! Open trades' current values as the trade sync last read them (`trade_marks`):
//! volatile, replaced on every sync, so not events.

use std::collections::HashMap;

use anytrade_aggregates::values::BotId;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

/// An open trade's values as the trade sync last read them.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TradeMark {
    #[sqlx(try_from = "Uuid")]
    pub bot_id: BotId,
    pub freqtrade_trade_id: i64,
    pub current_rate: Option<f64>,
    pub profit_ratio: Option<f64>,
    pub profit_abs: Option<f64>,
}

/// The marks of (bot, freqtrade trade id) pairs.
pub async fn by_trades(
    db: impl PgExecutor<'_>,
    keys: &[(BotId, i64)],
) -> sqlx::Result<HashMap<(BotId, i64), TradeMark>> {
    let bots: Vec<Uuid> = keys.iter().map(|(bot, _)| bot.uuid()).collect();
    let trades: Vec<i64> = keys.iter().map(|(_, trade)| *trade).collect();
    let rows: Vec<TradeMark> = sqlx::query_as(
        "SELECT m.bot_id, m.freqtrade_trade_id, m.current_rate, m.profit_ratio, m.profit_abs
           FROM trade_marks m
           JOIN unnest($1::uuid[], $2::bigint[]) AS k(bot_id, trade_id)
             ON m.bot_id = k.bot_id AND m.freqtrade_trade_id = k.trade_id",
    )
    .bind(&bots)
    .bind(&trades)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ((row.bot_id, row.freqtrade_trade_id), row))
        .collect())
}

/// Keeps `bot`'s open trades' marks, and only those (`open`'s `bot_id` is not read).
pub async fn replace(pool: &PgPool, bot: BotId, open: &[TradeMark]) -> sqlx::Result<()> {
    let ids: Vec<i64> = open.iter().map(|t| t.freqtrade_trade_id).collect();
    let rates: Vec<Option<f64>> = open.iter().map(|t| t.current_rate).collect();
    let ratios: Vec<Option<f64>> = open.iter().map(|t| t.profit_ratio).collect();
    let profits: Vec<Option<f64>> = open.iter().map(|t| t.profit_abs).collect();
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "DELETE FROM trade_marks WHERE bot_id = $1 AND NOT freqtrade_trade_id = ANY($2)",
        bot.uuid(),
        &ids
    )
    .execute(&mut *tx)
    .await?;
    // Arrays of nullable floats have no checked binding: this one stays unchecked.
    sqlx::query(
        "INSERT INTO trade_marks (bot_id, freqtrade_trade_id, current_rate, profit_ratio,
                                  profit_abs, updated_at)
         SELECT $1, id, rate, ratio, profit, now()
           FROM unnest($2::bigint[], $3::float8[], $4::float8[], $5::float8[])
                AS t(id, rate, ratio, profit)
         ON CONFLICT (bot_id, freqtrade_trade_id) DO UPDATE SET
             current_rate = EXCLUDED.current_rate, profit_ratio = EXCLUDED.profit_ratio,
             profit_abs = EXCLUDED.profit_abs, updated_at = now()",
    )
    .bind(bot.uuid())
    .bind(&ids)
    .bind(&rates)
    .bind(&ratios)
    .bind(&profits)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
