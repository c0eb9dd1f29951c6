//! Totals over a set of trades: a bot's, or those of every bot that runs a strategy.

use anytrade_aggregates::values::BotId;
use sqlx::PgPool;
use uuid::Uuid;

/// Whose trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Bot(BotId),
    /// The bots that run the strategy now.
    Strategy(Uuid),
}

impl Scope {
    /// A `WHERE` on `trades t`, binding the id as `$1`.
    fn sql(self) -> &'static str {
        match self {
            Self::Bot(_) => "t.bot_id = $1",
            Self::Strategy(_) => "t.bot_id IN (SELECT b.id FROM bots b WHERE b.strategy_id = $1)",
        }
    }

    fn id(self) -> Uuid {
        match self {
            Self::Bot(id) => id.uuid(),
            Self::Strategy(id) => id,
        }
    }
}

/// Totals over a set of trades; amounts in the stake currency.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct TradeStats {
    pub trade_count: i64,
    pub open_trade_count: i64,
    pub closed_trade_count: i64,
    pub winning_trades: i64,
    pub losing_trades: i64,
    /// Winning closed trades over all closed trades (0 to 1); `None` with none closed.
    pub win_rate: Option<f64>,
    pub profit_closed_abs: f64,
    /// The open trades' profit as the last trade sync read it (`trade_marks`).
    pub profit_open_abs: f64,
    /// Closed plus open profit.
    #[sqlx(default)]
    pub profit_total_abs: f64,
    /// Largest fall of the closed-profit curve from a previous high.
    #[sqlx(default)]
    pub max_drawdown_abs: f64,
    /// The pair with the highest closed profit, and the one with the lowest.
    pub best_pair: Option<String>,
    pub worst_pair: Option<String>,
}

pub async fn stats(pool: &PgPool, scope: Scope) -> sqlx::Result<TradeStats> {
    let sql = format!(
        "WITH scoped AS (SELECT t.* FROM trades t WHERE {}),
              closed AS (SELECT pair, profit_abs, close_date, id FROM scoped WHERE NOT is_open),
              pairs AS (SELECT pair, sum(profit_abs) AS profit FROM closed GROUP BY pair)
         SELECT (SELECT count(*) FROM scoped) AS trade_count,
                (SELECT count(*) FROM scoped WHERE is_open) AS open_trade_count,
                (SELECT count(*) FROM closed) AS closed_trade_count,
                (SELECT count(*) FROM closed WHERE profit_abs > 0) AS winning_trades,
                (SELECT count(*) FROM closed WHERE profit_abs < 0) AS losing_trades,
                (SELECT count(*) FILTER (WHERE profit_abs > 0)::float8 / nullif(count(*), 0) FROM closed) AS win_rate,
                (SELECT coalesce(sum(profit_abs), 0) FROM closed) AS profit_closed_abs,
                (SELECT coalesce(sum(m.profit_abs), 0) FROM scoped s
                   JOIN trade_marks m
                     ON m.bot_id = s.bot_id AND m.freqtrade_trade_id = s.freqtrade_trade_id
                  WHERE s.is_open) AS profit_open_abs,
                (SELECT pair FROM pairs ORDER BY profit DESC, pair LIMIT 1) AS best_pair,
                (SELECT pair FROM pairs ORDER BY profit ASC, pair LIMIT 1) AS worst_pair",
        scope.sql()
    );
    let mut stats: TradeStats = sqlx::query_as(&sql)
        .bind(scope.id())
        .fetch_one(pool)
        .await?;
    let profits: Vec<f64> = sqlx::query_scalar(&format!(
        "SELECT t.profit_abs FROM trades t WHERE {} AND NOT t.is_open
          ORDER BY t.close_date, t.id",
        scope.sql()
    ))
    .bind(scope.id())
    .fetch_all(pool)
    .await?;
    stats.max_drawdown_abs = drawdown(&profits);
    stats.profit_total_abs = stats.profit_closed_abs + stats.profit_open_abs;
    Ok(stats)
}

/// The largest fall of the cumulative closed profit from its running high (which
/// starts at 0: money before the first trade).
fn drawdown(profits: &[f64]) -> f64 {
    let (mut equity, mut peak, mut worst) = (0.0_f64, 0.0_f64, 0.0_f64);
    for profit in profits {
        equity += profit;
        peak = peak.max(equity);
        worst = worst.max(peak - equity);
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::drawdown;

    #[test]
    fn drawdown_is_the_largest_fall_from_a_previous_high() {
        assert_eq!(drawdown(&[]), 0.0);
        assert_eq!(drawdown(&[5.0, 3.0]), 0.0);
        assert_eq!(drawdown(&[-2.0]), 2.0);
        assert_eq!(drawdown(&[10.0, -4.0, 2.0, -7.0, 20.0]), 9.0);
    }
}
