//! Shared set-up: a fresh database per test, and a tiny aggregate for store tests.

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use anytrade::db;
use anytrade_aggregates::DomainError;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;

#[path = "../support/scratch_database.rs"]
mod scratch_database;

/// The URL of a new, empty database of its own for one test.
pub async fn fresh_database_url() -> String {
    init_test_log();
    let url = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at a PostgreSQL server; run the tests with scripts/test");
    scratch_database::create(&url, "anytrade_test").await.0
}

/// A new, migrated database of its own for one test.
pub async fn fresh_database() -> PgPool {
    fresh_database_and_url().await.1
}

/// [`fresh_database`] and its URL, for tests that also run the `anytrade` binary on it.
pub async fn fresh_database_and_url() -> (String, PgPool) {
    let url = fresh_database_url().await;
    let options = PgConnectOptions::from_str(&url).expect("test database URL parses");
    let pool = db::connect(options, 30)
        .await
        .expect("connect to the test database");
    db::migrate(&pool).await.expect("migrations apply");
    (url, pool)
}

/// With `TEST_LOG` set (to a filter such as `debug` or `anytrade=trace`), the service's
/// tracing output goes to the test's output; otherwise tests run quiet.
pub fn init_test_log() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
    });
}

/// Asks `probe` every `every` until it answers `Ok`, for at most `within`; then fails
/// with the last answer it gave (`Err` describes what it saw). The one polling loop of
/// every test that waits for something to happen.
pub async fn poll_until<T, F, Fut>(within: Duration, every: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(seen) if tokio::time::Instant::now() >= deadline => {
                panic!("not within {within:?}: {seen}")
            }
            Err(_) => tokio::time::sleep(every).await,
        }
    }
}

/// A counter aggregate: the smallest thing that exercises the real command path.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Tally {
    pub total: i64,
}

#[derive(Debug, Clone, strum::IntoStaticStr)]
pub enum TallyCommand {
    Add(i64),
    /// Refused when it would take more than the total.
    Take(i64),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TallyEvent {
    Added { amount: i64 },
    Taken { amount: i64 },
}

impl DomainEvent for TallyEvent {
    fn event_type(&self) -> String {
        match self {
            TallyEvent::Added { .. } => "Added".into(),
            TallyEvent::Taken { .. } => "Taken".into(),
        }
    }
    fn event_version(&self) -> String {
        "1.0".into()
    }
}

impl anytrade::store::Keyed for Tally {
    type Id = str;
}

impl Aggregate for Tally {
    const TYPE: &'static str = "Tally";
    type Command = TallyCommand;
    type Event = TallyEvent;
    type Error = DomainError;
    type Services = ();

    async fn handle(
        &mut self,
        command: TallyCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        let (TallyCommand::Add(amount) | TallyCommand::Take(amount)) = command;
        if amount <= 0 {
            return Err(DomainError::invalid("amount", "must be positive"));
        }
        let event = match command {
            TallyCommand::Add(_) => TallyEvent::Added { amount },
            TallyCommand::Take(_) if amount > self.total => {
                return Err(DomainError::conflict("amount", "more than the total"));
            }
            TallyCommand::Take(_) => TallyEvent::Taken { amount },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: TallyEvent) {
        match event {
            TallyEvent::Added { amount } => self.total += amount,
            TallyEvent::Taken { amount } => self.total -= amount,
        }
    }
}
