//! The bots read model: each bot's settings, lifecycle status, where it runs and its
//! last error. This module owns the `bots` table: the projector writes it, and every
//! query the service makes of it is here.

mod list;
mod projector;

use std::collections::HashMap;

use anytrade_aggregates::BotStatus;
use anytrade_aggregates::values::{BotId, BotMode, RuntimeKind, WantedState};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Row};
use uuid::Uuid;

pub use list::{BotFilter, BotOrder, BotOrderField, list};
pub use projector::BotsProjector;

use crate::stored;

/// A row of the `bots` read model.
#[derive(Debug, Clone, PartialEq)]
pub struct BotRow {
    pub id: BotId,
    pub name: String,
    pub exchange_id: Uuid,
    pub strategy_id: Uuid,
    pub strategy_version: i32,
    pub status: BotStatus,
    pub mode: BotMode,
    /// `None`: the service's default runtime.
    pub runtime: Option<RuntimeKind>,
    pub runtime_id: Option<String>,
    pub api_url: Option<String>,
    /// The domain's `BotConfig` as JSON.
    pub config: Value,
    /// The domain's `ResourceLimits` as JSON.
    pub resources: Value,
    pub freqtrade_version: String,
    pub error_message: Option<String>,
    /// A start or stop asked for while the bot was being created, not carried out yet.
    pub wanted: Option<WantedState>,
    pub started_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl sqlx::FromRow<'_, PgRow> for BotRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: bot_id(row, "id")?,
            name: row.try_get("name")?,
            exchange_id: row.try_get("exchange_id")?,
            strategy_id: row.try_get("strategy_id")?,
            strategy_version: row.try_get("strategy_version")?,
            status: stored::column(row, "status", BotStatus::parse)?,
            mode: stored::column(row, "mode", BotMode::parse)?,
            runtime: stored::optional(row, "runtime", RuntimeKind::parse)?,
            runtime_id: row.try_get("runtime_id")?,
            api_url: row.try_get("api_url")?,
            config: row.try_get("config")?,
            resources: row.try_get("resources")?,
            freqtrade_version: row.try_get("freqtrade_version")?,
            error_message: row.try_get("error_message")?,
            wanted: stored::optional(row, "wanted", WantedState::parse)?,
            started_at: row.try_get("started_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// A bot id column.
fn bot_id(row: &PgRow, column: &str) -> sqlx::Result<BotId> {
    row.try_get::<Uuid, _>(column).map(BotId::from)
}

const SELECT: &str = "
SELECT b.id, b.name, b.exchange_id, b.strategy_id, b.strategy_version, b.status, b.mode,
       b.runtime, b.runtime_id, b.api_url, b.config, b.resources, b.freqtrade_version,
       b.error_message, b.wanted, b.started_at, b.created_at, b.updated_at
  FROM bots b";

/// Every bot, by name (the fleet page).
pub async fn all(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<BotRow>> {
    sqlx::query_as(&format!("{SELECT} ORDER BY b.name, b.id"))
        .fetch_all(db)
        .await
}

pub async fn get(db: impl PgExecutor<'_>, id: BotId) -> sqlx::Result<Option<BotRow>> {
    sqlx::query_as(&format!("{SELECT} WHERE b.id = $1"))
        .bind(id.uuid())
        .fetch_optional(db)
        .await
}

/// What bots belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Exchange,
    Strategy,
}

/// The bots of many exchanges or strategies in one query, each list oldest first.
pub async fn by_owners(
    db: impl PgExecutor<'_>,
    owner: Owner,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, Vec<BotRow>>> {
    let column = match owner {
        Owner::Exchange => "exchange_id",
        Owner::Strategy => "strategy_id",
    };
    let rows: Vec<BotRow> = sqlx::query_as(&format!(
        "{SELECT} WHERE b.{column} = ANY($1) ORDER BY b.created_at, b.id"
    ))
    .bind(ids)
    .fetch_all(db)
    .await?;
    let mut bots: HashMap<Uuid, Vec<BotRow>> = HashMap::new();
    for bot in rows {
        let key = match owner {
            Owner::Exchange => bot.exchange_id,
            Owner::Strategy => bot.strategy_id,
        };
        bots.entry(key).or_default().push(bot);
    }
    Ok(bots)
}

/// How many bots use exchange or strategy `id`.
pub async fn count_of(db: impl PgExecutor<'_>, owner: Owner, id: Uuid) -> sqlx::Result<i64> {
    match owner {
        Owner::Exchange => {
            sqlx::query_scalar!(
                r#"SELECT count(*) AS "count!" FROM bots WHERE exchange_id = $1"#,
                id
            )
            .fetch_one(db)
            .await
        }
        Owner::Strategy => {
            sqlx::query_scalar!(
                r#"SELECT count(*) AS "count!" FROM bots WHERE strategy_id = $1"#,
                id
            )
            .fetch_one(db)
            .await
        }
    }
}

/// Where a bot is and what is wanted of it: what the reconciler compares with what runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    pub id: BotId,
    pub status: BotStatus,
    pub wanted: Option<WantedState>,
}

/// Every bot's [`Lifecycle`].
pub async fn lifecycles(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Lifecycle>> {
    let rows = sqlx::query("SELECT id, status, wanted FROM bots")
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Lifecycle {
                id: bot_id(row, "id")?,
                status: stored::column(row, "status", BotStatus::parse)?,
                wanted: stored::optional(row, "wanted", WantedState::parse)?,
            })
        })
        .collect()
}

/// Where a bot stands and where it runs: what the metrics count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub id: BotId,
    pub status: BotStatus,
    /// `None`: the service's default runtime.
    pub runtime: Option<RuntimeKind>,
}

/// Every bot's [`Placement`].
pub async fn placements(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Placement>> {
    let rows = sqlx::query("SELECT id, status, runtime FROM bots")
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Placement {
                id: bot_id(row, "id")?,
                status: stored::column(row, "status", BotStatus::parse)?,
                runtime: stored::optional(row, "runtime", RuntimeKind::parse)?,
            })
        })
        .collect()
}

/// The REST API of bot `id` while it runs.
pub async fn running_api_url(db: impl PgExecutor<'_>, id: BotId) -> sqlx::Result<Option<String>> {
    let url: Option<Option<String>> =
        sqlx::query_scalar("SELECT api_url FROM bots WHERE id = $1 AND status = $2")
            .bind(id.uuid())
            .bind(BotStatus::Running.as_str())
            .fetch_optional(db)
            .await?;
    Ok(url.flatten())
}

/// One of `slots` equal shares of the bots: a worker that looks at each bot once per
/// interval takes slot `n` in the interval's `n`th second, so its work is spread evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub slots: i64,
    pub slot: i64,
}

/// The running bots with an API in `slot`: the trade sync's work for this second.
pub async fn running_in_slot(
    db: impl PgExecutor<'_>,
    slot: Slot,
) -> sqlx::Result<Vec<(BotId, String)>> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, api_url FROM bots
          WHERE status = $3 AND api_url IS NOT NULL
            AND mod(abs(hashtext(id::text)::bigint), $1) = $2",
    )
    .bind(slot.slots)
    .bind(slot.slot)
    .bind(BotStatus::Running.as_str())
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, api_url)| (BotId::from(id), api_url))
        .collect())
}

/// A bot the health monitor checks.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheckDue {
    pub id: BotId,
    pub api_url: String,
    pub status: BotStatus,
    pub runtime: Option<RuntimeKind>,
}

/// The bots in `slot` the health monitor checks now: running ones, and failing ones
/// whose failures are between `unhealthy_after` and `stop_after` (their recovery, or
/// their stop, is still to be seen).
pub async fn health_checks_due(
    db: impl PgExecutor<'_>,
    slot: Slot,
    unhealthy_after: i32,
    stop_after: i32,
) -> sqlx::Result<Vec<HealthCheckDue>> {
    let rows = sqlx::query(
        "SELECT b.id, b.api_url, b.status, b.runtime
           FROM bots b LEFT JOIN bot_health h ON h.bot_id = b.id
          WHERE b.api_url IS NOT NULL
            AND (b.status = $5
                 OR (b.status = $6 AND h.consecutive_failures >= $3
                     AND h.consecutive_failures <= $4))
            AND mod(abs(hashtext(b.id::text)::bigint), $1) = $2",
    )
    .bind(slot.slots)
    .bind(slot.slot)
    .bind(unhealthy_after)
    .bind(stop_after)
    .bind(BotStatus::Running.as_str())
    .bind(BotStatus::Error.as_str())
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(HealthCheckDue {
                id: bot_id(row, "id")?,
                api_url: row.try_get("api_url")?,
                status: stored::column(row, "status", BotStatus::parse)?,
                runtime: stored::optional(row, "runtime", RuntimeKind::parse)?,
            })
        })
        .collect()
}
