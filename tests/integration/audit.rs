//! The audit trail: every stored event is chained to its predecessor by hash, and
//! `anytrade audit` finds an edited, deleted or reordered event, by name.

use std::process::Output;
use std::sync::Arc;

use anytrade::audit::chain::{self, Problem};
use anytrade::crypto::Keyring;
use anytrade::lookup::PgLookup;
use anytrade::store::{CommandMetadata, Commands, EventLog};
use anytrade_aggregates::ExchangeCommand;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::cli::anytrade;
use crate::helpers::{fresh_database_and_url, fresh_database_url};

/// A database with real events written by the command path, and the binary pointed at it.
pub struct AuditedStore {
    pub url: String,
    pub pool: PgPool,
    pub commands: Commands,
    pub meta: CommandMetadata,
    pub keys: Keyring,
}

impl AuditedStore {
    pub async fn new() -> Self {
        let (url, pool) = fresh_database_and_url().await;
        Self::on(url, pool)
    }

    fn on(url: String, pool: PgPool) -> Self {
        let log = EventLog::new(pool.clone());
        let lookup = Arc::new(PgLookup::new(pool.clone()));
        Self {
            url,
            commands: Commands::new(&pool, &log, lookup),
            pool,
            meta: CommandMetadata::issued_by("user:auditor-test"),
            keys: Keyring::from_base64(Some(&Keyring::generate_key()), &[]).expect("key"),
        }
    }

    /// An exchange with four events: created, two secrets added, settings updated.
    pub async fn exchange(&self) -> Uuid {
        let id = Uuid::now_v7();
        let commands = [
            ExchangeCommand::CreateExchange {
                exchange_id: id,
                name: "binance".into(),
                test_mode: true,
                config: json!({ "ccxt_config": { "enableRateLimit": true } }),
                secrets: Vec::new(),
            },
            ExchangeCommand::AddExchangeSecret {
                name: "api_key".into(),
                value: self
                    .keys
                    .seal("key-plaintext", &format!("exchange:{id}:api_key")),
            },
            ExchangeCommand::AddExchangeSecret {
                name: "api_secret".into(),
                value: self
                    .keys
                    .seal("secret-plaintext", &format!("exchange:{id}:api_secret")),
            },
            ExchangeCommand::UpdateExchange {
                test_mode: Some(false),
                config: None,
            },
        ];
        for command in commands {
            self.commands
                .exchanges
                .execute(&id, command, &self.meta)
                .await
                .expect("exchange command");
        }
        id
    }

    /// Runs `anytrade ARGS` against this database.
    pub fn run(&self, args: &[&str]) -> Output {
        anytrade()
            .args(args)
            .env("DATABASE_URL", &self.url)
            .output()
            .expect("run anytrade")
    }

    pub async fn sql(&self, statement: &str) {
        sqlx::query(statement)
            .execute(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_a_deletion_and_a_reordering_are_each_found_and_named() {
    let store = AuditedStore::new().await;
    let [edited, deleted, reordered, untouched] = [
        store.exchange().await,
        store.exchange().await,
        store.exchange().await,
        store.exchange().await,
    ];

    let intact = store.run(&["audit", "verify"]);
    assert!(intact.status.success(), "{}", stderr(&intact));
    assert!(
        stdout(&intact).contains("16 events in 4 chains: every chain intact"),
        "{}",
        stdout(&intact)
    );

    let at = |id: Uuid, sequence: i64| {
        format!("aggregate_type = 'exchange' AND aggregate_id = '{id}' AND sequence = {sequence}")
    };
    store
        .sql(&format!(
            "UPDATE events SET payload = jsonb_set(payload, '{{ExchangeSecretAdded,name}}', '\"passphrase\"') WHERE {}",
            at(edited, 3)
        ))
        .await;
    store
        .sql(&format!("DELETE FROM events WHERE {}", at(deleted, 2)))
        .await;
    for (from, to) in [(2, 100), (3, 2), (100, 3)] {
        store
            .sql(&format!(
                "UPDATE events SET sequence = {to} WHERE {}",
                at(reordered, from)
            ))
            .await;
    }

    let report = chain::verify(&store.pool, 5, |_, _| {})
        .await
        .expect("verify");
    assert_eq!((report.events, report.chains), (15, 4));
    let found: Vec<_> = report
        .broken
        .iter()
        .map(|link| {
            (
                link.aggregate_id.clone(),
                link.sequence,
                link.problem.clone(),
            )
        })
        .collect();
    let mut expected = vec![
        (edited.to_string(), 3, Problem::Altered),
        (deleted.to_string(), 3, Problem::Missing { expected: 2 }),
        (reordered.to_string(), 2, Problem::Altered),
    ];
    expected.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    assert_eq!(found, expected);
    assert!(!found.iter().any(|(id, ..)| *id == untouched.to_string()));

    let broken = store.run(&["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1), "{}", stderr(&broken));
    let out = stdout(&broken);
    for (id, sequence, problem) in &expected {
        let line = out
            .lines()
            .find(|line| line.contains(id.as_str()))
            .unwrap_or_else(|| panic!("{id} not named in:\n{out}"));
        let named = match problem {
            Problem::Altered => format!("event {sequence} (position"),
            Problem::Missing { expected } => format!("event {expected} is missing"),
        };
        assert!(line.contains(&named), "{line}");
    }
    assert!(out.contains("3 chain(s) broken"), "{out}");
    assert!(stderr(&broken).contains("verified 15 of 15 events"));

    let recorded: Vec<(i64, serde_json::Value)> =
        sqlx::query_as("SELECT events, broken FROM audit_verifications ORDER BY id")
            .fetch_all(&store.pool)
            .await
            .expect("verifications");
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0], (16, json!([])));
    assert_eq!(recorded[1].1.as_array().map(Vec::len), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_refuses_an_event_that_follows_no_stored_event() {
    let store = AuditedStore::new().await;
    let id = store.exchange().await;
    let refused = sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         VALUES ('exchange', $1, 6, 'ExchangeDeleted', '1.0', '\"ExchangeDeleted\"', '{}')",
    )
    .bind(id.to_string())
    .execute(&store.pool)
    .await
    .expect_err("a gap is refused");
    assert!(
        refused.to_string().contains("follows no stored event"),
        "{refused}"
    );
    let report = chain::verify(&store.pool, 100, |_, _| {})
        .await
        .expect("verify");
    assert!(report.is_intact(), "{:?}", report.broken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upgrade_chains_the_events_already_stored() {
    let url = fresh_database_url().await;
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    let all = sqlx::migrate!("./migrations");
    let before_chains = sqlx::migrate::Migrator {
        migrations: all
            .migrations
            .iter()
            .filter(|m| m.version < 20261205000120)
            .cloned()
            .collect(),
        ..sqlx::migrate!("./migrations")
    };
    before_chains.run(&pool).await.expect("older migrations");
    // Events the command path wrote (today's code needs the chained schema, so they
    // are written elsewhere), stored as the code before the chain stored them.
    let source = AuditedStore::new().await;
    let first = source.exchange().await;
    source.exchange().await;
    type Row = (String, String, i64, String, String, Value, Value, Vec<u8>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                metadata, hash
           FROM events ORDER BY position",
    )
    .fetch_all(&source.pool)
    .await
    .expect("written events");
    for (kind, id, sequence, event_type, version, payload, metadata, _) in &rows {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                 event_version, payload, metadata)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(kind)
        .bind(id)
        .bind(sequence)
        .bind(event_type)
        .bind(version)
        .bind(payload)
        .bind(metadata)
        .execute(&pool)
        .await
        .expect("store as before the chain");
    }
    let store = AuditedStore::on(url, pool);
    all.run(&store.pool).await.expect("the chain migration");
    // The upgrade computes the hashes the append path gave the same events.
    let upgraded: Vec<Vec<u8>> = sqlx::query_scalar("SELECT hash FROM events ORDER BY position")
        .fetch_all(&store.pool)
        .await
        .expect("upgraded hashes");
    let appended: Vec<Vec<u8>> = rows.into_iter().map(|row| row.7).collect();
    assert_eq!(upgraded, appended);

    let report = chain::verify(&store.pool, 100, |_, _| {})
        .await
        .expect("verify");
    assert_eq!((report.events, report.chains), (8, 2));
    assert!(report.is_intact(), "{:?}", report.broken);
    // Appends after the upgrade continue the chains.
    store
        .commands
        .exchanges
        .execute(&first, ExchangeCommand::DeleteExchange, &store.meta)
        .await
        .expect("delete");
    let report = chain::verify(&store.pool, 100, |_, _| {})
        .await
        .expect("verify");
    assert_eq!(report.events, 9);
    assert!(report.is_intact(), "{:?}", report.broken);
}
