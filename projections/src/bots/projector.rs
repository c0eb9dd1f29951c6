//! Keeps the `bots` table in step with the bot events.

use anytrade_aggregates::values::WantedState;
use anytrade_aggregates::{BotEvent, BotStatus};
use async_trait::async_trait;
use sqlx::PgConnection;

use crate::projector::{ProjectionError, Projector};
use crate::typed::{AggregateKind, Event, TypedEvent};

pub struct BotsProjector;

#[async_trait]
impl Projector for BotsProjector {
    fn aggregate(&self) -> AggregateKind {
        AggregateKind::Bot
    }

    fn name(&self) -> &'static str {
        "bots"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["bots"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: TypedEvent) -> Result<(), ProjectionError> {
        let Event::Bot(change) = event.event else {
            return Ok(());
        };
        let id = event.aggregate_id;
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
                 VALUES ($1, $2, $3, $4, $5, $12, $6, $7, $8, $9, $10, $11, $11)
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
            .bind(at)
            .bind(BotStatus::Creating.as_str()),
            BotEvent::BotProvisioned { runtime_id } => sqlx::query(
                "UPDATE bots SET status = $4, runtime_id = $2, updated_at = $3,
                        wanted = NULLIF(wanted, $5) WHERE id = $1",
            )
            .bind(id)
            .bind(runtime_id.to_string())
            .bind(at)
            .bind(BotStatus::Stopped.as_str())
            .bind(WantedState::Stopped.as_str()),
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
                "UPDATE bots SET status = $5, runtime_id = $2, api_url = $3,
                        error_message = NULL, started_at = $4, updated_at = $4 WHERE id = $1",
            )
            .bind(id)
            .bind(runtime_id.to_string())
            .bind(api_url.to_string())
            .bind(at)
            .bind(BotStatus::Running.as_str()),
            BotEvent::BotFailed { reason } => sqlx::query(
                "UPDATE bots SET status = $4, error_message = $2, started_at = NULL,
                        wanted = NULL, updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(reason)
            .bind(at)
            .bind(BotStatus::Error.as_str()),
            BotEvent::BotRecovered => sqlx::query(
                "UPDATE bots SET status = $3, error_message = NULL, started_at = $2,
                        updated_at = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(at)
            .bind(BotStatus::Running.as_str()),
            BotEvent::BotStopped => sqlx::query(
                "UPDATE bots SET status = $3, api_url = NULL, started_at = NULL, updated_at = $2
                 WHERE id = $1",
            )
            .bind(id)
            .bind(at)
            .bind(BotStatus::Stopped.as_str()),
            BotEvent::BotStartRequested | BotEvent::BotRestartRequested => {
                set_status(id, BotStatus::Starting, at)
            }
            BotEvent::BotStopRequested => set_status(id, BotStatus::Stopping, at),
            BotEvent::BotDeletionRequested => set_status(id, BotStatus::Deleting, at),
            BotEvent::BotWantedStateSet { wanted } => {
                sqlx::query("UPDATE bots SET wanted = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(wanted.as_str())
                    .bind(at)
            }
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
    status: BotStatus,
    at: chrono::DateTime<chrono::Utc>,
) -> sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments> {
    sqlx::query("UPDATE bots SET status = $2, wanted = NULL, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(status.as_str())
        .bind(at)
}
