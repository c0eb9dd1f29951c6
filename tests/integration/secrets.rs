//! Exchange secrets reach the event store only sealed: a planted plaintext is found in
//! no table, and the stored ciphertext opens back to it with the key.

use anytrade::crypto::{Keyring, exchange_secret_context};
use anytrade::store::{CommandBus, CommandMetadata, EventLog};
use anytrade_aggregates::testing::FakeLookup;
use anytrade_aggregates::{Exchange, ExchangeCommand, ExchangeEvent};
use uuid::Uuid;

use crate::helpers::fresh_database;

/// Rows of every table in the public schema whose text form contains `needle`.
pub async fn rows_containing(pool: &sqlx::PgPool, needle: &str) -> Vec<String> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    assert!(tables.iter().any(|t| t == "events"));
    let mut hits = Vec::new();
    for table in tables {
        let found: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT t::text FROM \"{table}\" t WHERE strpos(t::text, $1) > 0"
        ))
        .bind(needle)
        .fetch_all(pool)
        .await
        .expect("search");
        hits.extend(found.into_iter().map(|row| format!("{table}: {row}")));
    }
    hits
}

#[tokio::test]
async fn planted_secrets_are_stored_only_as_ciphertext() {
    let pool = fresh_database().await;
    let keys = Keyring::from_base64(Some(&Keyring::generate_key()), &[]).expect("key");
    let bus: CommandBus<Exchange> = CommandBus::new(
        pool.clone(),
        EventLog::new(pool.clone()),
        FakeLookup::new().services(),
    );
    let id = Uuid::now_v7();
    let meta = CommandMetadata::issued_by("user:alice");
    bus.execute(
        &id,
        ExchangeCommand::CreateExchange {
            exchange_id: id,
            name: "kraken".into(),
            test_mode: false,
            config: serde_json::json!({}),
            secrets: Vec::new(),
        },
        &meta,
    )
    .await
    .expect("create");
    let context = exchange_secret_context(id, "api_secret");
    let first = "PLANTED-first-4f1c9e2a";
    let second = "PLANTED-second-b7d03e55";
    bus.execute(
        &id,
        ExchangeCommand::AddExchangeSecret {
            name: "api_secret".into(),
            value: keys.seal(first, &context),
        },
        &meta,
    )
    .await
    .expect("add secret");
    bus.execute(
        &id,
        ExchangeCommand::RotateExchangeSecret {
            name: "api_secret".into(),
            value: keys.seal(second, &context),
        },
        &meta,
    )
    .await
    .expect("rotate secret");

    assert_eq!(
        rows_containing(&pool, "PLANTED").await,
        Vec::<String>::new()
    );

    let payloads: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT payload FROM events WHERE aggregate_id = $1 ORDER BY sequence")
            .bind(id.to_string())
            .fetch_all(&pool)
            .await
            .expect("events");
    let sealed: Vec<_> = payloads
        .into_iter()
        .filter_map(
            |p| match serde_json::from_value(p).expect("event decodes") {
                ExchangeEvent::ExchangeSecretAdded { value, .. }
                | ExchangeEvent::ExchangeSecretRotated { value, .. } => Some(value),
                _ => None,
            },
        )
        .collect();
    assert_eq!(sealed.len(), 2);
    assert_eq!(sealed[0].key_id, keys.current_key_id());
    assert_eq!(
        keys.open(&sealed[0], &context).expect("opens").as_str(),
        first
    );
    assert_eq!(
        keys.open(&sealed[1], &context).expect("opens").as_str(),
        second
    );
    assert!(!format!("{:?}", sealed[1]).contains(&sealed[1].ciphertext));
}
