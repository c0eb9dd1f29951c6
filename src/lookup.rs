//! The facts aggregates ask about other aggregates (does this exchange exist, is this
//! strategy name taken, do bots still use it), answered from the read models.
//!
//! Read models trail the log by a moment; the API waits for its own writes to be
//! projected before answering, so a user's next command sees them.

use anytrade_aggregates::values::ExchangeName;
use anytrade_aggregates::{DomainError, ExchangeFacts, Lookup, StrategyFacts};
use anytrade_projections::bots::{self, Owner};
use anytrade_projections::{exchanges, strategies};
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
        let row = exchanges::get(&self.pool, id).await.map_err(unavailable)?;
        row.map(|row| {
            Ok(ExchangeFacts {
                name: ExchangeName::parse(&row.name)?,
                test_mode: row.test_mode,
                secret_names: row.secrets.into_iter().map(|s| s.name).collect(),
            })
        })
        .transpose()
    }

    async fn only_exchange(&self) -> Result<Option<Uuid>, DomainError> {
        exchanges::only(&self.pool).await.map_err(unavailable)
    }

    async fn strategy(&self, id: Uuid) -> Result<Option<StrategyFacts>, DomainError> {
        let row = strategies::get(&self.pool, id).await.map_err(unavailable)?;
        Ok(row.map(|row| StrategyFacts {
            name: row.name,
            current_version: u32::try_from(row.version).unwrap_or_default(),
            class_name: row.class_name,
        }))
    }

    /// Names compare case-insensitively: `RSI Cross` and `rsi cross` are one name.
    async fn strategy_named(&self, name: &str) -> Result<Option<Uuid>, DomainError> {
        strategies::named(&self.pool, name)
            .await
            .map_err(unavailable)
    }

    async fn bots_using_exchange(&self, id: Uuid) -> Result<u64, DomainError> {
        count(bots::count_of(&self.pool, Owner::Exchange, id).await)
    }

    async fn bots_using_strategy(&self, id: Uuid) -> Result<u64, DomainError> {
        count(bots::count_of(&self.pool, Owner::Strategy, id).await)
    }
}

fn count(counted: sqlx::Result<i64>) -> Result<u64, DomainError> {
    Ok(u64::try_from(counted.map_err(unavailable)?).unwrap_or_default())
}
