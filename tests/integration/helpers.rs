//! Shared set-up: a fresh database per test, and a tiny aggregate for store tests.

use std::str::FromStr;

use anytrade::db;
use anytrade_aggregates::DomainError;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgPool};

/// The URL of a new, empty database of its own for one test.
pub async fn fresh_database_url() -> String {
    let url = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at a PostgreSQL server; run the tests with scripts/test");
    let admin = PgConnectOptions::from_str(&url).expect("DATABASE_URL parses");
    let name = format!("anytrade_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect_with(&admin)
        .await
        .expect("connect to the test server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    conn.close().await.expect("close admin connection");
    let mut parsed = url::Url::parse(&url).expect("DATABASE_URL is a URL");
    parsed.set_path(&name);
    parsed.to_string()
}

/// A new, migrated database of its own for one test.
pub async fn fresh_database() -> PgPool {
    let url = fresh_database_url().await;
    let options = PgConnectOptions::from_str(&url).expect("test database URL parses");
    let pool = db::connect(options, 30)
        .await
        .expect("connect to the test database");
    db::migrate(&pool).await.expect("migrations apply");
    pool
}

/// A counter aggregate: the smallest thing that exercises the real command path.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Tally {
    pub total: i64,
}

#[derive(Debug, Clone)]
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
