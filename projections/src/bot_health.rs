//! What the health monitor last saw of each bot (`bot_health`). Volatile state beside
//! the read models, not built from events: it changes on every check, so only its
//! transitions (unhealthy, recovered, stopped) become events. This module owns the
//! table and the one rule that turns a row into a health status.

use std::collections::HashMap;

use anytrade_aggregates::BotStatus;
use anytrade_aggregates::values::BotId;
use chrono::{DateTime, Duration, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// How long after its last answer a running bot still counts as healthy.
pub const SEEN_WITHIN: Duration = Duration::minutes(2);

/// What the health monitor last saw of a bot.
#[derive(Debug, Clone, PartialEq)]
pub struct BotHealth {
    pub bot_id: BotId,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub consecutive_failures: i32,
}

/// A bot's health as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HealthStatus {
    /// Answered its last health check recently.
    Healthy,
    /// Missed its recent health checks.
    Unhealthy,
    /// No health check result to judge by.
    Unknown,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
            Self::Unknown => "unknown",
        }
    }

    /// HEALTHY when the bot answered within [`SEEN_WITHIN`] and has failed fewer than
    /// `unhealthy_after` checks in a row (the health monitor's own threshold), UNHEALTHY
    /// when it has, or has not answered for longer; UNKNOWN before its first check and
    /// for bots that do not run.
    pub fn judge(
        status: BotStatus,
        health: Option<&BotHealth>,
        unhealthy_after: u32,
        now: DateTime<Utc>,
    ) -> Self {
        if !matches!(status, BotStatus::Running | BotStatus::Error) {
            return Self::Unknown;
        }
        let Some(health) = health else {
            return Self::Unknown;
        };
        if i64::from(health.consecutive_failures) >= i64::from(unhealthy_after) {
            return Self::Unhealthy;
        }
        match health.last_seen_at {
            Some(seen) if now - seen <= SEEN_WITHIN => Self::Healthy,
            Some(_) => Self::Unhealthy,
            None => Self::Unknown,
        }
    }
}

/// The health rows of `bots` (bots never checked have none).
pub async fn by_bots(
    db: impl PgExecutor<'_>,
    bots: &[BotId],
) -> sqlx::Result<HashMap<BotId, BotHealth>> {
    let bots: Vec<Uuid> = bots.iter().map(BotId::uuid).collect();
    let rows = sqlx::query!(
        "SELECT bot_id, last_seen_at, consecutive_failures FROM bot_health
          WHERE bot_id = ANY($1)",
        &bots
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let health = BotHealth {
                bot_id: row.bot_id.into(),
                last_seen_at: row.last_seen_at,
                consecutive_failures: row.consecutive_failures,
            };
            (health.bot_id, health)
        })
        .collect())
}

/// What a successful check read from freqtrade.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<'a> {
    /// freqtrade's own state (running, paused, stopped).
    pub bot_state: &'a str,
    pub api_version: Option<f64>,
    /// The time of its last trading loop.
    pub last_process_at: Option<DateTime<Utc>>,
}

/// Records a successful check; returns the failures in a row before it (`None`: the
/// bot's first check), which decide whether it ends an unhealthy spell.
pub async fn record_success(
    db: impl PgExecutor<'_>,
    bot: BotId,
    answer: &Answer<'_>,
) -> sqlx::Result<Option<i32>> {
    sqlx::query_scalar(
        "WITH before AS (
             SELECT consecutive_failures FROM bot_health WHERE bot_id = $1 FOR UPDATE
         ), saved AS (
             INSERT INTO bot_health (bot_id, last_seen_at, consecutive_failures, last_error,
                                     bot_state, api_version, last_process_at, checked_at)
             VALUES ($1, now(), 0, NULL, $2, $3, $4, now())
             ON CONFLICT (bot_id) DO UPDATE SET
                 last_seen_at = now(), consecutive_failures = 0, last_error = NULL,
                 bot_state = EXCLUDED.bot_state, api_version = EXCLUDED.api_version,
                 last_process_at = EXCLUDED.last_process_at, checked_at = now()
         )
         SELECT consecutive_failures FROM before",
    )
    .bind(bot.uuid())
    .bind(answer.bot_state)
    .bind(answer.api_version)
    .bind(answer.last_process_at)
    .fetch_optional(db)
    .await
}

/// Records a failed check; returns the failures in a row now.
pub async fn record_failure(db: impl PgExecutor<'_>, bot: BotId, error: &str) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        "INSERT INTO bot_health (bot_id, consecutive_failures, last_error, checked_at)
         VALUES ($1, 1, $2, now())
         ON CONFLICT (bot_id) DO UPDATE SET
             consecutive_failures = bot_health.consecutive_failures + 1,
             last_error = EXCLUDED.last_error, checked_at = now()
         RETURNING consecutive_failures",
        bot.uuid(),
        error
    )
    .fetch_one(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(failures: i32, seen_ago: Option<Duration>, now: DateTime<Utc>) -> BotHealth {
        BotHealth {
            bot_id: BotId::from(Uuid::nil()),
            last_seen_at: seen_ago.map(|ago| now - ago),
            consecutive_failures: failures,
        }
    }

    #[test]
    fn the_threshold_is_the_monitors() {
        let now = Utc::now();
        let failing = health(3, Some(Duration::seconds(5)), now);
        let judge = |after| HealthStatus::judge(BotStatus::Running, Some(&failing), after, now);
        assert_eq!(judge(3), HealthStatus::Unhealthy);
        assert_eq!(judge(5), HealthStatus::Healthy);
    }

    #[test]
    fn silence_and_stopped_bots() {
        let now = Utc::now();
        let stale = health(0, Some(Duration::minutes(3)), now);
        let never = health(0, None, now);
        let fresh = health(0, Some(Duration::seconds(1)), now);
        let judge = |status, h: Option<&BotHealth>| HealthStatus::judge(status, h, 3, now);
        assert_eq!(
            judge(BotStatus::Running, Some(&stale)),
            HealthStatus::Unhealthy
        );
        assert_eq!(
            judge(BotStatus::Running, Some(&never)),
            HealthStatus::Unknown
        );
        assert_eq!(judge(BotStatus::Running, None), HealthStatus::Unknown);
        assert_eq!(judge(BotStatus::Error, Some(&fresh)), HealthStatus::Healthy);
        assert_eq!(
            judge(BotStatus::Stopped, Some(&fresh)),
            HealthStatus::Unknown
        );
    }
}
