//! Keeps the `strategies` and `strategy_versions` tables in step with the strategy events.

use anytrade_aggregates::StrategyEvent;
use async_trait::async_trait;
use sqlx::PgConnection;

use crate::projector::{ProjectionError, Projector};
use crate::typed::{AggregateKind, Event, TypedEvent};

pub struct StrategiesProjector;

#[async_trait]
impl Projector for StrategiesProjector {
    fn aggregate(&self) -> AggregateKind {
        AggregateKind::Strategy
    }

    fn name(&self) -> &'static str {
        "strategies"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["strategy_versions", "strategies"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: TypedEvent) -> Result<(), ProjectionError> {
        let Event::Strategy(change) = event.event else {
            return Ok(());
        };
        let id = event.aggregate_id;
        let at = event.committed_at;
        let query = match change {
            StrategyEvent::StrategyCreated {
                name, description, ..
            } => sqlx::query(
                "INSERT INTO strategies
                   (id, name, description, current_version, class_name, sha256, created_at, updated_at)
                 VALUES ($1, $2, $3, 0, '', '', $4, $4) ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(name.to_string())
            .bind(description)
            .bind(at),
            StrategyEvent::StrategyVersionAdded {
                version,
                code,
                sha256,
                class_name,
            } => {
                sqlx::query(
                    "INSERT INTO strategy_versions (strategy_id, version, code, sha256, class_name, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(version as i32)
                .bind(code)
                .bind(&sha256)
                .bind(&class_name)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE strategies SET current_version = $2, sha256 = $3, class_name = $4,
                            updated_at = $5 WHERE id = $1",
                )
                .bind(id)
                .bind(version as i32)
                .bind(sha256)
                .bind(class_name)
                .bind(at)
            }
            StrategyEvent::StrategyRenamed { name } => {
                sqlx::query("UPDATE strategies SET name = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(name.to_string())
                    .bind(at)
            }
            StrategyEvent::StrategyDescriptionChanged { description } => sqlx::query(
                "UPDATE strategies SET description = $2, updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(description)
            .bind(at),
            StrategyEvent::StrategyDeleted => {
                sqlx::query("DELETE FROM strategies WHERE id = $1").bind(id)
            }
        };
        query.execute(&mut *tx).await?;
        Ok(())
    }
}
