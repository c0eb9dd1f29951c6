//! The database: an external PostgreSQL from `DATABASE_URL`, or AnyTrade's own
//! embedded cluster; the migrations; the settings the event log depends on.

mod availability;
pub mod embedded;

pub use availability::Availability;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("DATABASE_URL is not a valid connection string: {0}")]
    BadUrl(String),
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[source] sqlx::Error),
    #[error(
        "PostgreSQL setting track_commit_timestamp is off; the event log needs it: run `ALTER SYSTEM SET track_commit_timestamp = on;` and restart PostgreSQL"
    )]
    CommitTimestampsOff,
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Query(#[from] sqlx::Error),
    #[error(transparent)]
    Embedded(#[from] embedded::EmbeddedError),
}

/// Connection options from a `postgres://` URL, with a redacted error.
pub fn options_from_url(url: &str) -> Result<PgConnectOptions, DatabaseError> {
    PgConnectOptions::from_str(url).map_err(|e| {
        // sqlx's message does not echo the URL, so no password leaks from here.
        DatabaseError::BadUrl(e.to_string())
    })
}

/// How long a pooled connection may sit unused before it is pinged on its next use.
const PING_WHEN_IDLE: Duration = Duration::from_secs(1);

/// Opens a pool and checks what the event store needs.
pub async fn connect(
    options: PgConnectOptions,
    max_connections: u32,
) -> Result<PgPool, DatabaseError> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // A connection in steady use is known to be alive: only one that sat idle is
        // pinged before it is handed out (sqlx's default pings on every acquire, a
        // round trip per query that cost a tenth of the API's CPU).
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_WHEN_IDLE {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .map_err(DatabaseError::Connect)?;
    let commit_ts: String = sqlx::query_scalar("SELECT current_setting('track_commit_timestamp')")
        .fetch_one(&pool)
        .await?;
    if commit_ts != "on" {
        return Err(DatabaseError::CommitTimestampsOff);
    }
    Ok(pool)
}

/// Applies every pending migration (idempotent; safe on each start).
pub async fn migrate(pool: &PgPool) -> Result<(), DatabaseError> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}
