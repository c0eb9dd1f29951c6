//! The bots read model: settings, lifecycle status, where the bot runs, its last error.

use anytrade_aggregates::BotEvent;
use async_trait::async_trait;
use sqlx::PgConnection;

use crate::log::LoggedEvent;
use crate::projector::{ProjectionError, Projector, decode};

pub struct BotsProjector;

#[async_trait]
impl Projector for BotsProjector {
    fn name(&self) -> &'static str {
        "bots"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["bots"]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &LoggedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(change) = decode::<BotEvent>(event, "bot")? else {
            return Ok(());
        };
        let id = crate::aggregate_uuid(event)?;
        let at = event.committed_at;
        let query = match change {
            BotEvent::BotCreated {
                name,
                exchange_id,
                strategy_id,
                strategy_version,
                mode,
                runtime,
                config,
                resources,
                freqtrade_version,
                ..
            } => sqlx::query(
                "INSERT INTO bots (id, name, exchange_id, strategy_id, strategy_version, status,
                                   mode, runtime, config, resources, freqtrade_version,
                                   created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, 'creating', $6, $7, $8, $9, $10, $11, $11)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(name.to_string())
            .bind(exchange_id)
            .bind(strategy_id)
            .bind(strategy_version as i32)
            .bind(mode.to_string())
            .bind(runtime.map(|r| r.to_string()))
            .bind(crate::json(&config)?)
            .bind(crate::json(&resources)?)
            .bind(freqtrade_version.to_string())
            .bind(at),
            BotEvent::BotProvisioned { runtime_id } => sqlx::query(
                "UPDATE bots SET status = 'stopped', runtime_id = $2, updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(runtime_id.to_string())
            .bind(at),
            BotEvent::BotUpdated {
                name,
                config,
                resources,
                runtime,
                freqtrade_version,
                strategy_version,
            } => sqlx::query(
                "UPDATE bots SET name = COALESCE($2, name), config = COALESCE($3, config),
                        resources = COALESCE($4, resources), runtime = COALESCE($5, runtime),
                        freqtrade_version = COALESCE($6, freqtrade_version),
                        strategy_version = COALESCE($7, strategy_version), updated_at = $8
                 WHERE id = $1",
            )
            .bind(id)
            .bind(name.map(|n| n.to_string()))
            .bind(config.as_ref().map(crate::json).transpose()?)
            .bind(resources.as_ref().map(crate::json).transpose()?)
            .bind(runtime.map(|r| r.to_string()))
            .bind(freqtrade_version.map(|v| v.to_string()))
            .bind(strategy_version.map(|v| v as i32))
            .bind(at),
            BotEvent::BotStarted {
                runtime_id,
                api_url,
            } => sqlx::query(
                "UPDATE bots SET status = 'running', runtime_id = $2, api_url = $3,
                        error_message = NULL, started_at = $4, updated_at = $4 WHERE id = $1",
            )
            .bind(id)
            .bind(runtime_id.to_string())
            .bind(api_url.to_string())
            .bind(at),
            BotEvent::BotFailed { reason } => sqlx::query(
                "UPDATE bots SET status = 'error', error_message = $2, started_at = NULL,
                        updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(reason)
            .bind(at),
            BotEvent::BotRecovered => sqlx::query(
                "UPDATE bots SET status = 'running', error_message = NULL, started_at = $2,
                        updated_at = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(at),
            BotEvent::BotStopped => sqlx::query(
                "UPDATE bots SET status = 'stopped', api_url = NULL, started_at = NULL, updated_at = $2
                 WHERE id = $1",
            )
            .bind(id)
            .bind(at),
            BotEvent::BotStartRequested | BotEvent::BotRestartRequested => {
                set_status(id, "starting", at)
            }
            BotEvent::BotStopRequested => set_status(id, "stopping", at),
            BotEvent::BotDeletionRequested => set_status(id, "deleting", at),
            BotEvent::BotDeleted => sqlx::query("DELETE FROM bots WHERE id = $1").bind(id),
            // Requests for the trade sync leave the bot row as it is.
            BotEvent::TradeSyncRequested
            | BotEvent::TradeCloseRequested { .. }
            | BotEvent::BotInstanceRemoved { .. } => {
                return Ok(());
            }
        };
        query.execute(&mut *tx).await?;
        Ok(())
    }
}

fn set_status(
    id: uuid::Uuid,
    status: &'static str,
    at: chrono::DateTime<chrono::Utc>,
) -> sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments> {
    sqlx::query("UPDATE bots SET status = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(at)
}
