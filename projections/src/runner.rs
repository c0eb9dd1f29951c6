//! Keeps read models current: one task per projector tails the log from its checkpoint
//! and applies each batch and the new checkpoint in one transaction, so a crash at any
//! point leaves rows and checkpoint consistent. Rebuilds are in [`crate::rebuild`].

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;

use crate::log::{self, EventLog, LogPosition};
use crate::projector::{ProjectionError, Projector};
use crate::typed::{AggregateKind, TypedEvent};

const BATCH: i64 = 500;

/// The runner's handle on its projectors: how far each has applied the log.
#[derive(Clone)]
pub struct Projections {
    applied: Arc<Vec<(&'static str, watch::Receiver<LogPosition>)>>,
}

impl Projections {
    /// Waits until every projector has applied the log up to `position`; false on timeout.
    /// Mutations use it so their answer shows their own effect.
    pub async fn wait_for(&self, position: LogPosition, timeout: Duration) -> bool {
        let all = async {
            for (_, applied) in self.applied.iter() {
                let mut applied = applied.clone();
                if applied.wait_for(|at| *at >= position).await.is_err() {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(timeout, all).await.unwrap_or(false)
    }
}

/// Starts one task per projector; they run until `stop` is set.
pub async fn spawn(
    pool: PgPool,
    log: EventLog,
    projectors: Vec<Arc<dyn Projector>>,
    stop: watch::Receiver<bool>,
) -> Result<(Projections, Vec<tokio::task::JoinHandle<()>>), sqlx::Error> {
    let mut applied = Vec::new();
    let mut tasks = Vec::new();
    for projector in projectors {
        let start = log.checkpoint(projector.name()).await?;
        let (tx, rx) = watch::channel(start);
        applied.push((projector.name(), rx));
        tasks.push(tokio::spawn(run(
            pool.clone(),
            log.clone(),
            projector,
            start,
            tx,
            stop.clone(),
        )));
    }
    Ok((
        Projections {
            applied: Arc::new(applied),
        },
        tasks,
    ))
}

async fn run(
    pool: PgPool,
    log: EventLog,
    projector: Arc<dyn Projector>,
    mut at: LogPosition,
    applied: watch::Sender<LogPosition>,
    mut stop: watch::Receiver<bool>,
) {
    let name = projector.name();
    loop {
        let batch = tokio::select! {
            batch = log.next_batch(at, BATCH) => batch,
            _ = stop.wait_for(|stop| *stop) => return,
        };
        let result = match batch {
            Ok(batch) => apply_batch(&pool, projector.as_ref(), at, &batch).await,
            Err(e) => Err(e.into()),
        };
        match result {
            Ok(now) => {
                at = now;
                applied.send_replace(now);
            }
            Err(e) => {
                tracing::error!(projection = name, error = %e, "projection stalled; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.wait_for(|stop| *stop) => return,
                }
            }
        }
    }
}

/// Applies `batch` (read after `at`) unless someone else moved the checkpoint
/// meanwhile (another instance, a rebuild); returns the checkpoint now stored.
async fn apply_batch(
    pool: &PgPool,
    projector: &dyn Projector,
    at: LogPosition,
    batch: &[log::LoggedEvent],
) -> Result<LogPosition, ProjectionError> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, projector.name()).await?;
    let stored = EventLog::checkpoint_on(&mut *tx, projector.name()).await?;
    if stored != at {
        tx.rollback().await?;
        return Ok(stored);
    }
    let Some(last) = batch.last() else {
        return Ok(at);
    };
    projector
        .apply_all(&mut tx, decoded(batch, projector.aggregate())?)
        .await?;
    EventLog::save_checkpoint(&mut tx, projector.name(), last.log_position()).await?;
    tx.commit().await?;
    Ok(last.log_position())
}

/// The batch's events of aggregate `kind`, as the domain's types; the others concern
/// another read model and are not decoded here. One that does not decode stops the
/// projector, so that its rows are never silently wrong.
pub(crate) fn decoded(
    batch: &[log::LoggedEvent],
    kind: AggregateKind,
) -> Result<Vec<TypedEvent>, ProjectionError> {
    batch
        .iter()
        .filter(|event| event.is_of(kind))
        .map(|event| event.decode().map_err(ProjectionError::from))
        .collect()
}

/// Serializes everything that writes one projector's rows, across processes.
pub(crate) async fn lock(conn: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('anytrade.projection.' || $1))")
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

/// How far one read model is behind the log.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionStatus {
    pub name: &'static str,
    /// The last event applied (`START` before the first).
    pub checkpoint: LogPosition,
    /// Events readers can see that it has not applied yet.
    pub behind: i64,
    /// When the oldest of those committed: the lag in time is now minus this.
    pub oldest_waiting: Option<DateTime<Utc>>,
}

/// Each projector's checkpoint and lag, at one moment.
pub async fn status(
    pool: &PgPool,
    projectors: &[Arc<dyn Projector>],
) -> Result<Vec<ProjectionStatus>, sqlx::Error> {
    let mut all = Vec::with_capacity(projectors.len());
    for projector in projectors {
        let checkpoint = EventLog::checkpoint_on(pool, projector.name()).await?;
        let (behind, oldest_waiting) = log::waiting_after(pool, checkpoint).await?;
        all.push(ProjectionStatus {
            name: projector.name(),
            checkpoint,
            behind,
            oldest_waiting,
        });
    }
    Ok(all)
}
