//! The strategies read model: each strategy with its current version, and every
//! version's code. This module owns the `strategies` and `strategy_versions` tables:
//! the projector writes them, and every query the service makes of them is here.

mod projector;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

pub use projector::StrategiesProjector;

use crate::page::{Cursor, Page, PageError, contains_pattern};

/// A strategy with its current version's code.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StrategyRow {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// The current version's number (0 before the first version is projected).
    pub version: i32,
    pub class_name: String,
    pub sha256: String,
    pub code: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One version of a strategy's code.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct VersionRow {
    pub version: i32,
    pub sha256: String,
    /// The `IStrategy` class freqtrade loads.
    pub class_name: String,
    pub code: String,
    pub created_at: DateTime<Utc>,
}

const SELECT: &str = "
SELECT s.id, s.name, s.description, s.current_version AS version, s.class_name,
       s.sha256, COALESCE(v.code, '') AS code, s.created_at, s.updated_at
  FROM strategies s
  LEFT JOIN strategy_versions v ON v.strategy_id = s.id AND v.version = s.current_version";

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<StrategyRow>> {
    sqlx::query_as(&format!("{SELECT} WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Every strategy's name, by id.
pub async fn names(db: impl PgExecutor<'_>) -> sqlx::Result<HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as("SELECT id, name FROM strategies")
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The names of the strategies `ids` (those that exist).
pub async fn names_of(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, name FROM strategies WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().collect())
}

pub async fn by_ids(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, StrategyRow>> {
    let rows: Vec<StrategyRow> = sqlx::query_as(&format!("{SELECT} WHERE s.id = ANY($1)"))
        .bind(ids)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (row.id, row)).collect())
}

pub async fn exists(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM strategies WHERE id = $1) AS "exists!""#,
        id
    )
    .fetch_one(db)
    .await
}

/// The strategy called `name`; names compare case-insensitively (`RSI Cross` and
/// `rsi cross` are one name).
pub async fn named(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "SELECT id FROM strategies WHERE lower(name) = lower($1) LIMIT 1",
        name
    )
    .fetch_optional(db)
    .await
}

/// The version histories of many strategies, each oldest first.
pub async fn versions(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, Vec<VersionRow>>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        strategy_id: Uuid,
        #[sqlx(flatten)]
        version: VersionRow,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT strategy_id, version, sha256, class_name, code, created_at
           FROM strategy_versions WHERE strategy_id = ANY($1) ORDER BY strategy_id, version",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    let mut versions: HashMap<Uuid, Vec<VersionRow>> = HashMap::new();
    for row in rows {
        versions
            .entry(row.strategy_id)
            .or_default()
            .push(row.version);
    }
    Ok(versions)
}

/// Which strategies to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrategyFilter {
    /// Case-insensitive part of the name.
    pub name_contains: Option<String>,
}

impl StrategyFilter {
    fn push(&self, query: &mut QueryBuilder<'_, Postgres>) {
        query.push(" WHERE TRUE");
        if let Some(part) = &self.name_contains {
            query
                .push(" AND s.name ILIKE ")
                .push_bind(contains_pattern(part));
        }
    }
}

fn cursor(strategy: &StrategyRow) -> Cursor {
    Cursor {
        key: strategy.created_at.to_rfc3339(),
        id: strategy.id,
    }
}

/// Up to `limit` strategies after `after`, oldest first, with the count of all that
/// match.
pub async fn list(
    pool: &PgPool,
    filter: &StrategyFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Page<StrategyRow>, PageError> {
    let mut count = QueryBuilder::new("SELECT count(*) FROM strategies s");
    filter.push(&mut count);
    let total: i64 = count.build_query_scalar().fetch_one(pool).await?;

    let mut page = QueryBuilder::new(SELECT);
    filter.push(&mut page);
    if let Some(after) = after {
        let key: DateTime<Utc> = after.key.parse().map_err(|_| PageError::foreign_cursor())?;
        page.push(" AND (s.created_at, s.id) > (")
            .push_bind(key)
            .push(", ")
            .push_bind(after.id)
            .push(")");
    }
    page.push(" ORDER BY s.created_at, s.id LIMIT ")
        .push_bind(limit + 1);
    let rows: Vec<StrategyRow> = page.build_query_as().fetch_all(pool).await?;
    Ok(Page::new(rows, limit, total, cursor))
}
