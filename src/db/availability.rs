//! Whether the database answers, known ahead of any request. While PostgreSQL is down
//! every query would wait out the pool's acquire timeout (10 s) before failing; with
//! this, the API and `/readyz` answer UNAVAILABLE at once, and resume by themselves
//! once a probe gets through again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

/// How often the database is probed, and how long a probe may take before the
/// database counts as down.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Shared, cheap to clone; up until a probe says otherwise.
#[derive(Clone, Default)]
pub struct Availability {
    down: Arc<AtomicBool>,
}

impl Availability {
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    /// Probes once, records and returns whether the database answered.
    pub async fn probe(&self, pool: &PgPool) -> bool {
        let answered = tokio::time::timeout(PROBE_TIMEOUT, sqlx::query("SELECT 1").execute(pool))
            .await
            .is_ok_and(|result| result.is_ok());
        let was_down = self.down.swap(!answered, Ordering::Relaxed);
        match (was_down, answered) {
            (false, false) => tracing::warn!("the database does not answer"),
            (true, true) => tracing::info!("the database answers again"),
            _ => {}
        }
        answered
    }

    /// Probes every [`PROBE_EVERY`] until `stopped`.
    pub fn watch(
        &self,
        pool: PgPool,
        mut stopped: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let availability = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(PROBE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => {
                        availability.probe(&pool).await;
                    }
                    _ = stopped.changed() => return,
                }
                if *stopped.borrow() {
                    return;
                }
            }
        })
    }
}
