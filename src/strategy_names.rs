//! Strategy names are unique across the fleet. The Strategy aggregate checks a name
//! against the read models, which trail the log; this reservation closes the gap: a
//! name is claimed in one statement before the command runs, so of two concurrent
//! requests for one name exactly one gets it.

use sqlx::PgPool;
use uuid::Uuid;

/// Claims `name` for `strategy`. `Ok(true)`: claimed now; `Ok(false)`: `strategy`
/// already held it; `Err(None)`: another strategy holds it.
pub async fn reserve(
    pool: &PgPool,
    name: &str,
    strategy: Uuid,
) -> Result<bool, Option<sqlx::Error>> {
    let claimed: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO strategy_names (name_key, strategy_id) VALUES (lower($1), $2)
         ON CONFLICT (name_key) DO NOTHING RETURNING strategy_id",
    )
    .bind(name)
    .bind(strategy)
    .fetch_optional(pool)
    .await
    .map_err(Some)?;
    if claimed.is_some() {
        return Ok(true);
    }
    let holder: Option<Uuid> =
        sqlx::query_scalar("SELECT strategy_id FROM strategy_names WHERE name_key = lower($1)")
            .bind(name)
            .fetch_optional(pool)
            .await
            .map_err(Some)?;
    match holder {
        Some(holder) if holder == strategy => Ok(false),
        _ => Err(None),
    }
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
