//! Strategy names are unique across the fleet. The Strategy aggregate checks a name
//! against the read models, which trail the log; this reservation closes the gap: a
//! name is claimed in one statement before the command runs, so of two concurrent
//! requests for one name exactly one gets it.
//!
//! A reservation is not in the same transaction as the command it is for, so a service
//! killed in between leaves one behind (an outside probe found a name refused for good
//! that way). The log says who really has a name: a reservation older than
//! [`GRACE`] whose holder does not have that name in the log is taken over.

use std::time::Duration;

use anytrade_aggregates::Strategy;
use sqlx::PgPool;
use uuid::Uuid;

use crate::store::{CommandBus, CommandError};

/// How long a reservation is left alone while its create or rename may still be on
/// its way to the log (that takes milliseconds).
pub const GRACE: Duration = Duration::from_secs(30);

/// Why a name could not be claimed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("another strategy has the name")]
    Taken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] CommandError),
}

/// Claims `name` for `strategy`. `Ok(true)`: claimed now; `Ok(false)`: `strategy`
/// already held it.
pub async fn claim(
    pool: &PgPool,
    strategies: &CommandBus<Strategy>,
    name: &str,
    strategy: Uuid,
) -> Result<bool, ClaimError> {
    let claimed: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO strategy_names (name_key, strategy_id) VALUES (lower($1), $2)
         ON CONFLICT (name_key) DO NOTHING RETURNING strategy_id",
    )
    .bind(name)
    .bind(strategy)
    .fetch_optional(pool)
    .await?;
    if claimed.is_some() {
        return Ok(true);
    }
    // The age is the database's own: `reserved_at` is its clock, not this host's.
    let holder: Option<(Uuid, bool)> = sqlx::query_as(
        "SELECT strategy_id, reserved_at < now() - make_interval(secs => $2)
           FROM strategy_names WHERE name_key = lower($1)",
    )
    .bind(name)
    .bind(GRACE.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    let Some((holder, settled)) = holder else {
        // Released meanwhile: the next request finds it free.
        return Err(ClaimError::Taken);
    };
    if holder == strategy {
        return Ok(false);
    }
    if !settled || holds(strategies, holder, name).await? {
        return Err(ClaimError::Taken);
    }
    let taken: Option<Uuid> = sqlx::query_scalar(
        "UPDATE strategy_names SET strategy_id = $3, reserved_at = now()
          WHERE name_key = lower($1) AND strategy_id = $2 RETURNING strategy_id",
    )
    .bind(name)
    .bind(holder)
    .bind(strategy)
    .fetch_optional(pool)
    .await?;
    match taken {
        Some(_) => {
            tracing::info!(name, %holder, "took over a strategy name its holder does not have in the log");
            Ok(true)
        }
        None => Err(ClaimError::Taken),
    }
}

/// Whether strategy `id` is named `name` (case-insensitively) in the log now.
async fn holds(
    strategies: &CommandBus<Strategy>,
    id: Uuid,
    name: &str,
) -> Result<bool, CommandError> {
    let strategy = strategies.load_state(&id).await?;
    Ok(strategy
        .state()
        .is_some_and(|s| !s.deleted && s.name.as_str().eq_ignore_ascii_case(name)))
}

/// Gives `name` up if `strategy` holds it.
pub async fn release(pool: &PgPool, name: &str, strategy: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM strategy_names WHERE name_key = lower($1) AND strategy_id = $2")
        .bind(name)
        .bind(strategy)
        .execute(pool)
        .await?;
    Ok(())
}

/// Gives up every name `strategy` holds (it was deleted).
pub async fn release_all(pool: &PgPool, strategy: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM strategy_names WHERE strategy_id = $1")
        .bind(strategy)
        .execute(pool)
        .await?;
    Ok(())
}
