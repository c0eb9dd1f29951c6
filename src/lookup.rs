//! The facts aggregates ask about other aggregates (does this exchange exist, is this
//! strategy name taken, do bots still use it), answered from the read models.
//!
//! Read models trail the log by a moment; the API waits for its own writes to be
//! projected before answering, so a user's next command sees them.

use anytrade_aggregates::values::ExchangeName;
use anytrade_aggregates::{DomainError, ExchangeFacts, Lookup, StrategyFacts};
use async_trait::async_trait;
use sqlx::PgPool;
use uuid::Uuid;

pub struct PgLookup {
    pool: PgPool,
}

impl PgLookup {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

fn unavailable(e: sqlx::Error) -> DomainError {
    DomainError::unavailable(format!("read model query failed: {e}"))
}

#[async_trait]
impl Lookup for PgLookup {
    async fn exchange(&self, id: Uuid) -> Result<Option<ExchangeFacts>, DomainError> {
        let row: Option<(String, bool, Vec<String>)> = sqlx::query_as(
            "SELECT e.name, e.test_mode,
                    ARRAY(SELECT s.name FROM exchange_secrets s WHERE s.exchange_id = e.id ORDER BY s.name)
               FROM exchanges e WHERE e.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.map(|(name, test_mode, secret_names)| {
            Ok(ExchangeFacts {
                name: ExchangeName::parse(&name)?,
                test_mode,
                secret_names,
            })
        })
        .transpose()
    }

    async fn strategy(&self, id: Uuid) -> Result<Option<StrategyFacts>, DomainError> {
        let row: Option<(String, i32, String)> = sqlx::query_as(
            "SELECT name, current_version, class_name FROM strategies WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(row.map(|(name, version, class_name)| StrategyFacts {
            name,
            current_version: u32::try_from(version).unwrap_or_default(),
            class_name,
        }))
    }

    /// Names compare case-insensitively: `RSI Cross` and `rsi cross` are one name.
    async fn strategy_named(&self, name: &str) -> Result<Option<Uuid>, DomainError> {
        sqlx::query_scalar("SELECT id FROM strategies WHERE lower(name) = lower($1) LIMIT 1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)
    }

    async fn bots_using_exchange(&self, id: Uuid) -> Result<u64, DomainError> {
        count(
            &self.pool,
            "SELECT count(*) FROM bots WHERE exchange_id = $1",
            id,
        )
        .await
    }

    async fn bots_using_strategy(&self, id: Uuid) -> Result<u64, DomainError> {
        count(
            &self.pool,
            "SELECT count(*) FROM bots WHERE strategy_id = $1",
            id,
        )
        .await
    }
}

async fn count(pool: &PgPool, sql: &str, id: Uuid) -> Result<u64, DomainError> {
    let n: i64 = sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(pool)
        .await
        .map_err(unavailable)?;
    Ok(u64::try_from(n).unwrap_or_default())
}
