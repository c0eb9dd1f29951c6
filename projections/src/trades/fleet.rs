//! Each bot's trades in one figure per column, for the whole fleet at once: open
//! trades, closed profit, and open profit as the trade sync last marked it.

use std::collections::HashMap;

use anytrade_aggregates::values::BotId;
use sqlx::PgExecutor;
use uuid::Uuid;

/// One bot's trades, summed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BotTrades {
    pub open_trades: i64,
    /// Profit of its closed trades, in the stake currency.
    pub closed_profit: f64,
    /// Profit of its open trades at their last marks, in the stake currency.
    pub open_profit: f64,
}

/// The projector's sums per bot, and the marks of its open trades summed. Marks are few
/// (one per open trade), so their sum is cheap; the closed trades are not summed here.
const SUMS: &str = "
WITH marked AS (
    SELECT m.bot_id, sum(m.profit_abs) AS open_profit
      FROM trade_marks m
      JOIN trades t ON t.bot_id = m.bot_id AND t.freqtrade_trade_id = m.freqtrade_trade_id
     WHERE t.is_open AND ($1::uuid IS NULL OR m.bot_id = $1)
     GROUP BY m.bot_id)
SELECT s.bot_id, s.open_trades, s.closed_profit::float8, COALESCE(k.open_profit, 0)
  FROM bot_trade_totals s
  LEFT JOIN marked k ON k.bot_id = s.bot_id
 WHERE $1::uuid IS NULL OR s.bot_id = $1";

/// The trades of every bot that has any (or of `only` that bot), summed per bot.
pub async fn by_bot(
    db: impl PgExecutor<'_>,
    only: Option<BotId>,
) -> sqlx::Result<HashMap<BotId, BotTrades>> {
    let rows: Vec<(Uuid, i64, f64, f64)> = sqlx::query_as(SUMS)
        .bind(only.map(|bot| bot.uuid()))
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(bot, open_trades, closed_profit, open_profit)| {
            (
                BotId::from(bot),
                BotTrades {
                    open_trades,
                    closed_profit,
                    open_profit,
                },
            )
        })
        .collect())
}
