//! The HTTP surface: liveness and readiness probes (the GraphQL API joins here).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use sqlx::PgPool;

use crate::db::Availability;

#[derive(Clone)]
struct Probes {
    pool: PgPool,
    availability: Availability,
}

/// Builds the router over the shared database pool.
pub fn router(pool: PgPool, availability: Availability) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(Probes { pool, availability })
}

/// The process is up and serving HTTP.
async fn healthz() -> &'static str {
    "ok"
}

/// The service can do its work: the database answers (within a second).
async fn readyz(State(probes): State<Probes>) -> (StatusCode, &'static str) {
    if !probes.availability.is_down() && probes.availability.probe(&probes.pool).await {
        return (StatusCode::OK, "ready");
    }
    (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
}
