//! The service renders the bytes each event's hash covers (jsonb's text of payload and
//! metadata) instead of PostgreSQL: it must render exactly what PostgreSQL does, or a
//! faithful log would verify as altered.

use anytrade::store::event_hash::{Content, jsonb_text};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Number, Value, json};

use crate::helpers::fresh_database;

/// A character of any kind a payload may hold: ASCII and its controls, escapes, non-ASCII,
/// astral. NUL is left out: jsonb refuses it whoever renders.
fn character(rng: &mut StdRng) -> char {
    match rng.random_range(0..6) {
        0 => rng.random_range('\u{1}'..='\u{1f}'),
        1 => ['"', '\\', '/', '\u{7f}', ' '][rng.random_range(0..5)],
        2 => rng.random_range('\u{80}'..='\u{7ff}'),
        3 => rng.random_range('\u{800}'..='\u{ffff}'),
        4 => rng.random_range('\u{10000}'..='\u{10ffff}'),
        _ => rng.random_range('a'..='z'),
    }
}

fn text(rng: &mut StdRng) -> String {
    let length = rng.random_range(0..12);
    (0..length).map(|_| character(rng)).collect()
}

fn number(rng: &mut StdRng) -> Number {
    match rng.random_range(0..6) {
        0 => Number::from(rng.random::<i64>()),
        1 => Number::from(rng.random::<u64>()),
        2 => Number::from(rng.random_range(-1000i64..1000)),
        // Any finite double, from subnormal to the largest, by its bits.
        3 => {
            Number::from_f64(f64::from_bits(rng.random::<u64>())).unwrap_or_else(|| Number::from(0))
        }
        4 => Number::from_f64(rng.random_range(-1e6..1e6)).unwrap_or_else(|| Number::from(0)),
        _ => Number::from_f64(
            [
                0.0,
                -0.0,
                0.1,
                1.0,
                1e16,
                1e-7,
                1e21,
                123456.789,
                5e-324,
                f64::MAX,
            ][rng.random_range(0..10)],
        )
        .unwrap_or_else(|| Number::from(0)),
    }
}

fn value(rng: &mut StdRng, depth: u32) -> Value {
    let kinds = if depth == 0 { 4 } else { 6 };
    match rng.random_range(0..kinds) {
        0 => Value::Null,
        1 => Value::Bool(rng.random()),
        2 => Value::Number(number(rng)),
        3 => Value::String(text(rng)),
        4 => (0..rng.random_range(0..5))
            .map(|_| value(rng, depth - 1))
            .collect(),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.random_range(0..6) {
                map.insert(text(rng), value(rng, depth - 1));
            }
            Value::Object(map)
        }
    }
}

#[tokio::test]
async fn jsonb_text_renders_what_postgres_prints_for_random_values() {
    let pool = fresh_database().await;
    let mut rng = StdRng::seed_from_u64(0x6a73_6f6e);
    let mut values: Vec<Value> = (0..3000).map(|_| value(&mut rng, 4)).collect();
    // Shapes the events themselves have.
    values.push(
        json!({ "ExchangeCreated": { "exchange_id": "0193", "name": "binance",
        "test_mode": true, "config": { "ccxt_config": { "enableRateLimit": true } } } }),
    );
    values.push(json!({ "stake_amount": 0.001, "ratio": 1.5e-7, "max": 1e300, "n": -0.0 }));
    let printed: Vec<String> = sqlx::query_scalar("SELECT unnest($1::jsonb[])::text")
        .bind(&values)
        .fetch_all(&pool)
        .await
        .expect("PostgreSQL prints the values");
    assert_eq!(printed.len(), values.len());
    for (value, printed) in values.iter().zip(&printed) {
        assert_eq!(&jsonb_text(value), printed, "rendering {value}");
    }
}

#[tokio::test]
async fn framed_content_hashes_as_the_database_function_does() {
    let pool = fresh_database().await;
    let mut rng = StdRng::seed_from_u64(7);
    for sequence in [1i64, 2, 1_000_000_007] {
        let payload = value(&mut rng, 3);
        let metadata = json!({ "actor": text(&mut rng), "correlation_id": "c" });
        let previous: Vec<u8> = if sequence == 1 {
            vec![]
        } else {
            vec![0xab; 32]
        };
        let aggregate_id = text(&mut rng);
        let expected: Vec<u8> =
            sqlx::query_scalar("SELECT event_hash($1, 'Bot', $2, $3, 'BotCreated', '1.0', $4, $5)")
                .bind(&previous)
                .bind(&aggregate_id)
                .bind(sequence)
                .bind(&payload)
                .bind(&metadata)
                .fetch_one(&pool)
                .await
                .expect("event_hash");
        let content = Content {
            aggregate_type: "Bot",
            aggregate_id: &aggregate_id,
            sequence,
            event_type: "BotCreated",
            event_version: "1.0",
            payload: &jsonb_text(&payload),
            metadata: &jsonb_text(&metadata),
        };
        assert_eq!(content.hash(&previous).to_vec(), expected, "{payload}");
    }
}
