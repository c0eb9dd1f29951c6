//! The exchanges read model: each exchange's settings, and its secrets' names with the
//! key that sealed each and when it was set (never a value). This module owns the
//! `exchanges` and `exchange_secrets` tables: the projector writes them, and every
//! query the service makes of them is here.

mod projector;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

pub use projector::ExchangesProjector;

/// A secret as the read model knows it: its name, never its value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct SecretInfo {
    pub name: String,
    /// Id of the key that sealed the current value.
    pub key_id: String,
    pub set_at: DateTime<Utc>,
}

/// A row of the `exchanges` read model, with its secrets by name.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ExchangeRow {
    pub id: Uuid,
    pub name: String,
    pub test_mode: bool,
    /// Non-secret freqtrade exchange settings.
    pub config: Value,
    #[sqlx(json)]
    pub secrets: Vec<SecretInfo>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "
SELECT e.id, e.name, e.test_mode, e.config, e.created_at, e.updated_at,
       COALESCE((SELECT json_agg(json_build_object('name', s.name, 'key_id', s.key_id, 'set_at', s.set_at)
                                 ORDER BY s.name)
                   FROM exchange_secrets s WHERE s.exchange_id = e.id), '[]') AS secrets
  FROM exchanges e";

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<ExchangeRow>> {
    sqlx::query_as(&format!("{SELECT} WHERE e.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn by_ids(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, ExchangeRow>> {
    let rows: Vec<ExchangeRow> = sqlx::query_as(&format!("{SELECT} WHERE e.id = ANY($1)"))
        .bind(ids)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (row.id, row)).collect())
}

/// Every exchange, oldest first.
pub async fn all(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<ExchangeRow>> {
    sqlx::query_as(&format!("{SELECT} ORDER BY e.created_at, e.id"))
        .fetch_all(db)
        .await
}

/// Every exchange's id, in id order.
pub async fn ids(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!("SELECT id FROM exchanges ORDER BY id")
        .fetch_all(db)
        .await
}

/// The ids of the exchanges named `name`, oldest first.
pub async fn named(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT id FROM exchanges WHERE name = $1 ORDER BY created_at, id")
        .bind(name)
        .fetch_all(db)
        .await
}

/// The id of the only exchange, when exactly one exists.
pub async fn only(db: impl PgExecutor<'_>) -> sqlx::Result<Option<Uuid>> {
    let ids = sqlx::query_scalar!("SELECT id FROM exchanges LIMIT 2")
        .fetch_all(db)
        .await?;
    Ok(match ids.as_slice() {
        [only] => Some(*only),
        _ => None,
    })
}
