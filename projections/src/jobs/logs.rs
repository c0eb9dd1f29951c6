//! The last lines each job wrote (`job_logs`), kept by the job executor while the job
//! runs and once more when it ends; removed with the job.

use std::collections::HashMap;

use sqlx::PgExecutor;
use uuid::Uuid;

/// Replaces job `id`'s kept lines.
pub async fn keep(db: impl PgExecutor<'_>, id: Uuid, lines: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO job_logs (job_id, log_output, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (job_id) DO UPDATE
             SET log_output = EXCLUDED.log_output, updated_at = now()",
        id,
        lines
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn remove(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM job_logs WHERE job_id = $1", id)
        .execute(db)
        .await?;
    Ok(())
}

/// The kept lines of `ids` (jobs that never started have none).
pub async fn by_jobs(db: impl PgExecutor<'_>, ids: &[Uuid]) -> sqlx::Result<HashMap<Uuid, String>> {
    let rows = sqlx::query!(
        "SELECT job_id, log_output FROM job_logs WHERE job_id = ANY($1)",
        ids
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.job_id, row.log_output))
        .collect())
}
