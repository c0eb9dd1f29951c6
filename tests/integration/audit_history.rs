//! `anytrade audit history | at | diff`: an aggregate's past, read back from events the
//! real command path wrote, through the real binary.

use anytrade::store::CommandMetadata;
use anytrade_aggregates::{ExchangeCommand, StrategyCommand};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::audit::{AuditedStore, stderr, stdout};

const CODE_V1: &str = "from freqtrade.strategy import IStrategy\n\n\nclass Drift(IStrategy):\n    timeframe = '5m'\n    stoploss = -0.10\n";
const CODE_V2: &str = "from freqtrade.strategy import IStrategy\n\n\nclass Drift(IStrategy):\n    timeframe = '15m'\n    stoploss = -0.10\n";

fn ok(output: std::process::Output) -> String {
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_says_who_changed_what_and_secrets_only_as_set_or_rotated() {
    let mut store = AuditedStore::new().await;
    let id = store.exchange().await;
    store.meta = CommandMetadata::issued_by("user:rotator");
    let rotate = ExchangeCommand::RotateExchangeSecret {
        name: "api_key".into(),
        value: store
            .keys
            .seal("new-key-plaintext", &format!("exchange:{id}:api_key")),
    };
    store
        .commands
        .exchanges
        .execute(&id, rotate, &store.meta)
        .await
        .expect("rotate");
    let (exchange, id_text) = ("exchange", id.to_string());

    let table = ok(store.run(&["audit", "history", exchange, &id_text]));
    let blocks: Vec<&str> = table.split("\nv").collect();
    assert_eq!(blocks.len(), 5, "{table}");
    assert!(blocks[0].starts_with("v1 ") && blocks[0].contains("ExchangeCreated"));
    assert!(blocks[0].contains("by user:auditor-test"), "{table}");
    assert!(blocks[0].contains("+ name: \"binance\""), "{table}");
    assert!(
        blocks[0].contains("+ config.ccxt_config.enableRateLimit: true"),
        "{table}"
    );
    assert!(
        blocks[1].contains("* secrets.api_key: secret set"),
        "{table}"
    );
    assert!(blocks[3].contains("~ test_mode: true -> false"), "{table}");
    assert!(blocks[4].contains("by user:rotator"), "{table}");
    assert!(
        blocks[4].contains("* secrets.api_key: secret rotated"),
        "{table}"
    );
    for secret in ["plaintext", "ciphertext", "nonce"] {
        assert!(!table.contains(secret), "{secret} shown:\n{table}");
    }

    let ndjson = ok(store.run(&["audit", "history", exchange, &id_text, "--output", "ndjson"]));
    let entries: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[4]["actor"], "user:rotator");
    assert_eq!(
        entries[4]["correlation_id"],
        store.meta.correlation_id.to_string()
    );
    assert_eq!(
        entries[4]["changes"],
        serde_json::json!([{ "change": "secret_rotated", "path": "secrets.api_key" }])
    );
    assert!(!ndjson.contains("ciphertext"), "{ndjson}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_shows_the_state_then_by_version_or_time() {
    let store = AuditedStore::new().await;
    let id = store.exchange().await.to_string();

    let at = |args: &[&str]| -> Value {
        let mut full = vec!["audit", "at", "exchange", &id];
        full.extend_from_slice(args);
        serde_json::from_str(&ok(store.run(&full))).unwrap()
    };
    let first = at(&["--version", "1"]);
    assert_eq!(first["version"], 1);
    assert_eq!(first["event_type"], "ExchangeCreated");
    assert_eq!(first["state"]["test_mode"], true);
    assert_eq!(first["state"]["secrets"], serde_json::json!({}));

    let third = at(&["--version", "3"]);
    let secrets = third["state"]["secrets"].as_object().unwrap();
    assert_eq!(secrets.len(), 2);
    assert!(
        secrets.values().all(|s| s.get("key_id").is_some()
            && s.get("ciphertext").is_none()
            && s.get("nonce").is_none()),
        "{third}"
    );

    // By time: the state as of the second event's commit is version 2.
    let second_at: DateTime<Utc> = at(&["--version", "2"])["committed_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let then = at(&["--time", &second_at.to_rfc3339()]);
    assert_eq!(then["version"], 2);
    let now = at(&["--time", "2999-01-01"]);
    assert_eq!(now["version"], 4);
    assert_eq!(now["state"]["test_mode"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strategy_diff_shows_the_fields_and_the_code() {
    let store = AuditedStore::new().await;
    let id = Uuid::now_v7();
    for command in [
        StrategyCommand::CreateStrategy {
            strategy_id: id,
            name: format!("drift {id}"),
            description: "first".into(),
            code: CODE_V1.into(),
        },
        StrategyCommand::UpdateStrategy {
            name: None,
            description: Some("second".into()),
            code: Some(CODE_V2.into()),
        },
    ] {
        store
            .commands
            .strategies
            .execute(&id, command, &store.meta)
            .await
            .expect("strategy command");
    }
    let history = ok(store.run(&["audit", "history", "strategy", &id.to_string()]));
    assert!(
        history.contains("+ versions[0].code: <text, 6 lines>"),
        "{history}"
    );

    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_id = $1")
        .bind(id.to_string())
        .fetch_one(&store.pool)
        .await
        .unwrap();
    let last = count.to_string();
    let diff = ok(store.run(&["audit", "diff", "strategy", &id.to_string(), "2", &last]));
    assert!(
        diff.contains("~ description: \"first\" -> \"second\""),
        "{diff}"
    );
    assert!(diff.contains("+ versions[1].version: 2"), "{diff}");
    assert!(
        diff.contains("--- code version 1\n+++ code version 2"),
        "{diff}"
    );
    assert!(
        diff.contains("-    timeframe = '5m'\n+    timeframe = '15m'"),
        "{diff}"
    );
    assert!(
        !diff.contains("-    stoploss"),
        "unchanged lines are context: {diff}"
    );

    let same = ok(store.run(&["audit", "diff", "strategy", &id.to_string(), "2", "2"]));
    assert!(
        same.contains("no field changed") && !same.contains("---"),
        "{same}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_about_what_is_not_in_the_log_are_bad_input() {
    let store = AuditedStore::new().await;
    let id = store.exchange().await.to_string();
    let missing = Uuid::now_v7().to_string();
    let cases: [(&[&str], &str); 7] = [
        (&["audit", "history", "robot", &id], "TYPE"),
        (
            &["audit", "history", "exchange", &missing],
            "ID: no exchange",
        ),
        (&["audit", "history", "bot", &id], "ID: no bot"),
        (
            &["audit", "at", "exchange", &id, "--version", "5"],
            "--version: exchange",
        ),
        (
            &["audit", "at", "exchange", &id, "--version", "0"],
            "--version",
        ),
        (
            &["audit", "at", "exchange", &id, "--time", "2001-01-01"],
            "--time: exchange",
        ),
        (
            &["audit", "diff", "exchange", &id, "1", "9"],
            "has 4 event(s)",
        ),
    ];
    for (args, named) in cases {
        let output = store.run(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(named),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty(), "{args:?}: {}", stdout(&output));
    }
    let output = store.run(&["audit", "at", "exchange", &id]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "at needs --version or --time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_shows_every_exchange_and_strategy_as_it_stood_then() {
    let store = AuditedStore::new().await;
    let first = store.exchange().await;
    let then: String = sqlx::query_scalar(
        "SELECT to_char(max(pg_xact_commit_timestamp(transaction_id::xid)) AT TIME ZONE 'UTC',
                        'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM events",
    )
    .fetch_one(&store.pool)
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let update = ExchangeCommand::UpdateExchange {
        test_mode: Some(true),
        config: None,
    };
    store
        .commands
        .exchanges
        .execute(&first, update, &store.meta)
        .await
        .unwrap();
    store.exchange().await;
    let strategy = Uuid::now_v7();
    let create = StrategyCommand::CreateStrategy {
        strategy_id: strategy,
        name: "drift".into(),
        description: String::new(),
        code: CODE_V1.into(),
    };
    store
        .commands
        .strategies
        .execute(&strategy, create, &store.meta)
        .await
        .unwrap();

    let fleet = |time: &str| -> Value {
        let out = ok(store.run(&["audit", "fleet", "--time", time, "--output", "ndjson"]));
        serde_json::from_str(&out).unwrap()
    };
    let past = fleet(&then);
    assert_eq!(past["events"], 4, "{past}");
    let exchanges = past["exchanges"].as_array().unwrap();
    assert_eq!(exchanges.len(), 1, "{past}");
    assert_eq!(exchanges[0]["id"], first.to_string());
    assert_eq!(exchanges[0]["test_mode"], false);
    assert_eq!(
        exchanges[0]["secrets"],
        serde_json::json!(["api_key", "api_secret"])
    );
    assert_eq!(past["strategies"], serde_json::json!([]));

    let now = fleet("2999-01-01");
    assert_eq!(now["exchanges"].as_array().unwrap().len(), 2);
    assert_eq!(now["exchanges"][0]["test_mode"], true);
    assert_eq!(now["strategies"][0]["name"], "drift");
    assert_eq!(now["strategies"][0]["current_version"], 1);

    let table = ok(store.run(&["audit", "fleet", "--time", &then]));
    assert!(table.contains("exchanges (1)\n"), "{table}");
    assert!(table.contains("secrets: api_key, api_secret"), "{table}");
    assert!(table.contains("strategies (0)\nbots (0)"), "{table}");

    let early = store.run(&["audit", "fleet", "--time", "2001-01-01"]);
    assert_eq!(early.status.code(), Some(2), "{}", stderr(&early));
    assert!(stderr(&early).contains("--time: the log's first event"));

    let (scratch, live): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'anytrade_fleet_%'),
                (SELECT count(*) FROM exchanges)",
    )
    .fetch_one(&store.pool)
    .await
    .unwrap();
    assert_eq!(
        (scratch, live),
        (0, 0),
        "scratch dropped, live read models untouched"
    );
}
