//! DataLoaders: nested fields (a bot's exchange and strategy, a job's strategy, …) are
//! gathered across one request and fetched in one query per kind, never one per row.

use std::collections::HashMap;
use std::sync::Arc;

use anytrade_aggregates::values::BotId;
use async_graphql::dataloader::Loader;
use sqlx::PgPool;
use uuid::Uuid;

use anytrade_projections::bot_health::{self, BotHealth};
use anytrade_projections::bots::{self, Owner};
use anytrade_projections::jobs;
use anytrade_projections::trades::marks::{self, TradeMark};

use super::bots::Bot;
use super::exchanges::{self, Exchange};
use super::strategies::{self, Strategy};

/// Exchanges by id.
pub struct ExchangeLoader(pub PgPool);

impl Loader<Uuid> for ExchangeLoader {
    type Value = Exchange;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Exchange>, Self::Error> {
        exchanges::load_many(&self.0, keys).await.map_err(Arc::new)
    }
}

/// Strategies by id.
pub struct StrategyLoader(pub PgPool);

impl Loader<Uuid> for StrategyLoader {
    type Value = Strategy;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Strategy>, Self::Error> {
        strategies::load_many(&self.0, keys).await.map_err(Arc::new)
    }
}

/// Bots by the strategy they run, each list oldest first.
pub struct BotsByStrategyLoader(pub PgPool);

impl Loader<Uuid> for BotsByStrategyLoader {
    type Value = Vec<Bot>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Bot>>, Self::Error> {
        by_owners(&self.0, Owner::Strategy, keys).await
    }
}

/// Bots by the exchange they trade on, each list oldest first.
pub struct BotsByExchangeLoader(pub PgPool);

impl Loader<Uuid> for BotsByExchangeLoader {
    type Value = Vec<Bot>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Bot>>, Self::Error> {
        by_owners(&self.0, Owner::Exchange, keys).await
    }
}

/// Health check results by bot id (bots never checked have none).
pub struct BotHealthLoader(pub PgPool);

impl Loader<BotId> for BotHealthLoader {
    type Value = BotHealth;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[BotId]) -> Result<HashMap<BotId, BotHealth>, Self::Error> {
        bot_health::by_bots(&self.0, keys).await.map_err(Arc::new)
    }
}

/// The bots of `ids`' owners, shown.
async fn by_owners(
    pool: &PgPool,
    owner: Owner,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Bot>>, Arc<sqlx::Error>> {
    let rows = bots::by_owners(pool, owner, ids).await.map_err(Arc::new)?;
    Ok(rows
        .into_iter()
        .map(|(owner, rows)| (owner, rows.into_iter().map(Bot::new).collect()))
        .collect())
}

/// Trade marks by (bot, freqtrade trade id).
pub struct TradeMarkLoader(pub PgPool);

impl Loader<(BotId, i64)> for TradeMarkLoader {
    type Value = TradeMark;
    type Error = Arc<sqlx::Error>;

    async fn load(
        &self,
        keys: &[(BotId, i64)],
    ) -> Result<HashMap<(BotId, i64), TradeMark>, Self::Error> {
        marks::by_trades(&self.0, keys).await.map_err(Arc::new)
    }
}

/// Jobs' last log lines, as the job executor last read them.
pub struct JobLogLoader(pub PgPool);

impl Loader<Uuid> for JobLogLoader {
    type Value = String;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, String>, Self::Error> {
        jobs::logs::by_jobs(&self.0, keys).await.map_err(Arc::new)
    }
}
