//! DataLoaders: nested fields (a bot's exchange and strategy, a job's strategy, …) are
//! gathered across one request and fetched in one query per kind, never one per row.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use sqlx::PgPool;
use uuid::Uuid;

use super::bots::{self, Bot};
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
        bots::load_by(&self.0, bots::Owner::Strategy, keys)
            .await
            .map_err(Arc::new)
    }
}

/// Bots by the exchange they trade on, each list oldest first.
pub struct BotsByExchangeLoader(pub PgPool);

impl Loader<Uuid> for BotsByExchangeLoader {
    type Value = Vec<Bot>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Bot>>, Self::Error> {
        bots::load_by(&self.0, bots::Owner::Exchange, keys)
            .await
            .map_err(Arc::new)
    }
}

/// What the health monitor last saw of a bot.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BotHealth {
    pub bot_id: Uuid,
    pub last_seen_at: Option<chrono::DateTime<chrono::Utc>>,
    pub consecutive_failures: i32,
}

/// Health check results by bot id (bots never checked have none).
pub struct BotHealthLoader(pub PgPool);

impl Loader<Uuid> for BotHealthLoader {
    type Value = BotHealth;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, BotHealth>, Self::Error> {
        let rows: Vec<BotHealth> = sqlx::query_as(
            "SELECT bot_id, last_seen_at, consecutive_failures FROM bot_health
              WHERE bot_id = ANY($1)",
        )
        .bind(keys)
        .fetch_all(&self.0)
        .await
        .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.bot_id, row)).collect())
    }
}

/// An open trade's values as the trade sync last read them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TradeMark {
    pub bot_id: Uuid,
    pub freqtrade_trade_id: i64,
    pub current_rate: Option<f64>,
    pub profit_ratio: Option<f64>,
    pub profit_abs: Option<f64>,
}

/// Trade marks by (bot, freqtrade trade id).
pub struct TradeMarkLoader(pub PgPool);

impl Loader<(Uuid, i64)> for TradeMarkLoader {
    type Value = TradeMark;
    type Error = Arc<sqlx::Error>;

    async fn load(
        &self,
        keys: &[(Uuid, i64)],
    ) -> Result<HashMap<(Uuid, i64), TradeMark>, Self::Error> {
        let bots: Vec<Uuid> = keys.iter().map(|(bot, _)| *bot).collect();
        let trades: Vec<i64> = keys.iter().map(|(_, trade)| *trade).collect();
        let rows: Vec<TradeMark> = sqlx::query_as(
            "SELECT m.bot_id, m.freqtrade_trade_id, m.current_rate, m.profit_ratio, m.profit_abs
               FROM trade_marks m
               JOIN unnest($1::uuid[], $2::bigint[]) AS k(bot_id, trade_id)
                 ON m.bot_id = k.bot_id AND m.freqtrade_trade_id = k.trade_id",
        )
        .bind(&bots)
        .bind(&trades)
        .fetch_all(&self.0)
        .await
        .map_err(Arc::new)?;
        Ok(rows
            .into_iter()
            .map(|row| ((row.bot_id, row.freqtrade_trade_id), row))
            .collect())
    }
}

/// Jobs' last log lines, as the job executor last read them.
pub struct JobLogLoader(pub PgPool);

impl Loader<Uuid> for JobLogLoader {
    type Value = String;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, String>, Self::Error> {
        let rows: Vec<(Uuid, String)> =
            sqlx::query_as("SELECT job_id, log_output FROM job_logs WHERE job_id = ANY($1)")
                .bind(keys)
                .fetch_all(&self.0)
                .await
                .map_err(Arc::new)?;
        Ok(rows.into_iter().collect())
    }
}
