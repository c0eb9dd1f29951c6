//! `GET /metrics`: the figures the read models hold, read afresh at each scrape, then
//! every instrument in Prometheus' text format. A figure that cannot be read keeps its
//! last value and sets `anytrade_scrape_errors{figure}` to 1, so a scrape during a
//! database outage still answers (with the counters, which matter most then).

use std::collections::HashMap;

use anytrade_aggregates::values::RuntimeKind;
use anytrade_aggregates::{BotStatus, JobKind, JobStatus};
use anytrade_projections::bot_health::{self, HealthStatus};
use anytrade_projections::{bots, jobs, runner, trades};
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::Utc;
use sqlx::PgPool;

use super::{Metrics, metrics};

/// What a scrape reads.
#[derive(Clone)]
pub struct ScrapeState {
    pub pool: PgPool,
    /// The runtime of bots that name none.
    pub default_runtime: RuntimeKind,
    /// Failed health checks in a row that make a bot unhealthy.
    pub unhealthy_after: u32,
}

/// `GET /metrics`.
pub fn router(state: ScrapeState) -> Router {
    Router::new()
        .route("/metrics", get(serve))
        .with_state(state)
}

async fn serve(State(state): State<ScrapeState>) -> impl IntoResponse {
    let metrics = metrics();
    metrics.read_figures(&state).await;
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        metrics.encode(),
    )
}

impl Metrics {
    async fn read_figures(&self, state: &ScrapeState) {
        let figures = [
            ("bots", self.read_bots(state).await),
            ("jobs", self.read_jobs(&state.pool).await),
            ("projections", self.read_projections(&state.pool).await),
            ("trade_sync_lag", self.read_sync_lag(&state.pool).await),
        ];
        for (figure, read) in figures {
            if let Err(e) = &read {
                tracing::warn!(figure, error = %e, "a metric cannot be read from the database");
            }
            self.scrape_errors
                .with_label_values(&[figure])
                .set(i64::from(read.is_err()));
        }
    }

    async fn read_bots(&self, state: &ScrapeState) -> sqlx::Result<()> {
        let placed = bots::placements(&state.pool).await?;
        let ids: Vec<_> = placed.iter().map(|bot| bot.id).collect();
        let health = bot_health::by_bots(&state.pool, &ids).await?;
        let now = Utc::now();
        let mut counts: HashMap<(BotStatus, HealthStatus, RuntimeKind), i64> = HashMap::new();
        for bot in &placed {
            let judged =
                HealthStatus::judge(bot.status, health.get(&bot.id), state.unhealthy_after, now);
            let runtime = bot.runtime.unwrap_or(state.default_runtime);
            *counts.entry((bot.status, judged, runtime)).or_default() += 1;
        }
        self.bots.reset();
        // Every status shows, at 0 when no bot has it, so a dashboard's series do
        // not vanish.
        for status in BotStatus::ALL.iter().filter(|s| **s != BotStatus::Deleted) {
            let runtime = state.default_runtime.as_str();
            self.bots
                .with_label_values(&[status.as_str(), HealthStatus::Unknown.as_str(), runtime])
                .set(0);
        }
        for ((status, health, runtime), count) in counts {
            self.bots
                .with_label_values(&[status.as_str(), health.as_str(), runtime.as_str()])
                .set(count);
        }
        Ok(())
    }

    async fn read_jobs(&self, pool: &PgPool) -> sqlx::Result<()> {
        for kind in JobKind::ALL {
            let counts = jobs::counts(pool, *kind).await?;
            for status in JobStatus::ALL {
                let count = counts.get(status).copied().unwrap_or(0);
                self.jobs
                    .with_label_values(&[kind.as_str(), status.as_str()])
                    .set(count);
            }
            let waiting = counts.get(&JobStatus::Pending).copied().unwrap_or(0);
            self.job_queue
                .with_label_values(&[kind.as_str()])
                .set(waiting);
        }
        Ok(())
    }

    async fn read_projections(&self, pool: &PgPool) -> sqlx::Result<()> {
        let now = Utc::now();
        for status in runner::status(pool, &anytrade_projections::all()).await? {
            self.projection_lag_events
                .with_label_values(&[status.name])
                .set(status.behind);
            let seconds = status
                .oldest_waiting
                .map(|oldest| (now - oldest).as_seconds_f64().max(0.0))
                .unwrap_or(0.0);
            self.projection_lag_seconds
                .with_label_values(&[status.name])
                .set(seconds);
        }
        Ok(())
    }

    async fn read_sync_lag(&self, pool: &PgPool) -> sqlx::Result<()> {
        let oldest = trades::profit::oldest_sync_of_running(pool).await?;
        let lag = oldest
            .map(|oldest| (Utc::now() - oldest).as_seconds_f64().max(0.0))
            .unwrap_or(0.0);
        self.trade_sync_lag.set(lag);
        Ok(())
    }
}
