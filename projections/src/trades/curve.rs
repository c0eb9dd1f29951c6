//! A bot's closed profit over time, for its charts: the equity curve and the profit of
//! each day. Both are summed in the database, so a bot with a long history sends a few
//! hundred rows, not one per trade.

use anytrade_aggregates::values::BotId;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgExecutor;

/// `bot`'s closed profit in at most `buckets` equal spans of time between its first and
/// last close: (the last close in the span, the profit closed in it), oldest first.
/// With no more closed trades than `buckets` each trade is its own point, unless two
/// close so near in time that they share a span.
pub async fn equity(
    db: impl PgExecutor<'_>,
    bot: BotId,
    buckets: i32,
) -> sqlx::Result<Vec<(DateTime<Utc>, f64)>> {
    sqlx::query_as(
        "WITH closed AS (
             SELECT close_date, profit_abs FROM trades
              WHERE bot_id = $1 AND NOT is_open AND close_date IS NOT NULL),
         span AS (
             SELECT extract(epoch FROM min(close_date)) AS low,
                    extract(epoch FROM max(close_date)) AS high FROM closed)
         SELECT max(c.close_date), sum(c.profit_abs)
           FROM closed c, span s
          GROUP BY width_bucket(extract(epoch FROM c.close_date), s.low, s.high + 1, $2)
          ORDER BY 1",
    )
    .bind(bot.uuid())
    .bind(buckets.max(1))
    .fetch_all(db)
    .await
}

/// `bot`'s closed profit per day (UTC) for the days since `since` that had any.
pub async fn daily(
    db: impl PgExecutor<'_>,
    bot: BotId,
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<(NaiveDate, f64)>> {
    sqlx::query_as(
        "SELECT (close_date AT TIME ZONE 'UTC')::date AS day, sum(profit_abs)
           FROM trades
          WHERE bot_id = $1 AND NOT is_open AND close_date >= $2
          GROUP BY day ORDER BY day",
    )
    .bind(bot.uuid())
    .bind(since)
    .fetch_all(db)
    .await
}
