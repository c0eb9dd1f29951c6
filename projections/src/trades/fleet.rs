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

const SUMS: &str = "
SELECT t.bot_id,
       count(*) FILTER (WHERE t.is_open),
       COALESCE(sum(t.profit_abs) FILTER (WHERE NOT t.is_open), 0),
       COALESCE(sum(m.profit_abs) FILTER (WHERE t.is_open), 0)
  FROM trades t
  LEFT JOIN trade_marks m
    ON m.bot_id = t.bot_id AND m.freqtrade_trade_id = t.freqtrade_trade_id";

/// The trades of every bot that has any (or of `only` that bot), summed per bot in one
/// query.
pub async fn by_bot(
    db: impl PgExecutor<'_>,
    only: Option<BotId>,
) -> sqlx::Result<HashMap<BotId, BotTrades>> {
    let only = only.map(|bot| bot.uuid());
    let filter = if only.is_some() {
        " WHERE t.bot_id = $1"
    } else {
        ""
    };
    let sql = format!("{SUMS}{filter} GROUP BY t.bot_id");
    let mut query = sqlx::query_as(&sql);
    if let Some(bot) = only {
        query = query.bind(bot);
    }
    let rows: Vec<(Uuid, i64, f64, f64)> = query.fetch_all(db).await?;
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
