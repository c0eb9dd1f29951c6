//! Keeps the `exchanges` and `exchange_secrets` tables in step with the exchange events.

use anytrade_aggregates::ExchangeEvent;
use async_trait::async_trait;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{ProjectionError, Projector};
use crate::typed::{AggregateKind, Event, TypedEvent};

pub struct ExchangesProjector;

#[async_trait]
impl Projector for ExchangesProjector {
    fn aggregate(&self) -> AggregateKind {
        AggregateKind::Exchange
    }

    fn name(&self) -> &'static str {
        "exchanges"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["exchange_secrets", "exchanges"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: TypedEvent) -> Result<(), ProjectionError> {
        let Event::Exchange(change) = event.event else {
            return Ok(());
        };
        let id = event.aggregate_id;
        let at = event.committed_at;
        match change {
            ExchangeEvent::ExchangeCreated {
                name,
                test_mode,
                config,
                ..
            } => {
                sqlx::query(
                    "INSERT INTO exchanges (id, name, test_mode, config, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING",
                )
                .bind(id)
                .bind(name.to_string())
                .bind(test_mode)
                .bind(config.to_value())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            ExchangeEvent::ExchangeUpdated { test_mode, config } => {
                sqlx::query(
                    "UPDATE exchanges SET test_mode = COALESCE($2, test_mode),
                            config = COALESCE($3, config), updated_at = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(test_mode)
                .bind(config.map(|c| c.to_value()))
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            ExchangeEvent::ExchangeSecretAdded { name, value }
            | ExchangeEvent::ExchangeSecretRotated { name, value } => {
                sqlx::query(
                    "INSERT INTO exchange_secrets (exchange_id, name, key_id, set_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (exchange_id, name)
                     DO UPDATE SET key_id = EXCLUDED.key_id, set_at = EXCLUDED.set_at",
                )
                .bind(id)
                .bind(name.as_str())
                .bind(&value.key_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                touch(tx, id, at).await?;
            }
            ExchangeEvent::ExchangeSecretResealed { name, value } => {
                sqlx::query(
                    "UPDATE exchange_secrets SET key_id = $3 WHERE exchange_id = $1 AND name = $2",
                )
                .bind(id)
                .bind(name.as_str())
                .bind(&value.key_id)
                .execute(&mut *tx)
                .await?;
            }
            ExchangeEvent::ExchangeSecretRemoved { name } => {
                sqlx::query("DELETE FROM exchange_secrets WHERE exchange_id = $1 AND name = $2")
                    .bind(id)
                    .bind(name.as_str())
                    .execute(&mut *tx)
                    .await?;
                touch(tx, id, at).await?;
            }
            ExchangeEvent::ExchangeDeleted => {
                sqlx::query("DELETE FROM exchanges WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Ok(())
    }
}

async fn touch(
    tx: &mut PgConnection,
    id: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE exchanges SET updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(tx)
        .await?;
    Ok(())
}
