//! `anytrade events`: the log listed and followed through the real binary, each filter
//! checked against events written by the real command path.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use anytrade::store::CommandMetadata;
use serde_json::Value;

use crate::audit::{AuditedStore, stderr, stdout};

fn ndjson(store: &AuditedStore, args: &[&str]) -> Vec<Value> {
    let mut full = vec!["events", "--output", "ndjson"];
    full.extend_from_slice(args);
    let output = store.run(&full);
    assert!(output.status.success(), "{full:?}: {}", stderr(&output));
    stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect()
}

fn ids(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["aggregate_id"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_filter_narrows_the_listing_and_secrets_stay_sealed() {
    let mut store = AuditedStore::new().await;
    let [first, second] = [store.exchange().await, store.exchange().await];
    let alice = store.meta.clone();
    store.meta = CommandMetadata::issued_by("user:other");
    let third = store.exchange().await;

    let all = ndjson(&store, &[]);
    assert_eq!(all.len(), 12);
    let positions: Vec<i64> = all
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let text = serde_json::to_string(&all).unwrap();
    assert!(
        !text.contains("ciphertext") && !text.contains("nonce"),
        "{text}"
    );
    assert!(text.contains("key_id"), "sealed values keep their key id");

    let one = ndjson(&store, &["--type", "exchange", "--id", &second.to_string()]);
    assert_eq!(ids(&one), vec![second.to_string(); 4]);
    let sequences: Vec<i64> = one
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, [1, 2, 3, 4]);

    let secrets = ndjson(&store, &["--event-type", "ExchangeSecretAdded"]);
    assert_eq!(secrets.len(), 6);
    assert!(
        secrets
            .iter()
            .all(|e| e["event_type"] == "ExchangeSecretAdded")
    );

    let other = ndjson(&store, &["--actor", "user:other"]);
    assert_eq!(ids(&other), vec![third.to_string(); 4]);
    let correlated = ndjson(
        &store,
        &["--correlation-id", &alice.correlation_id.to_string()],
    );
    assert_eq!(correlated.len(), 8);
    assert!(!ids(&correlated).contains(&third.to_string().as_str()));

    let third_began = all[8]["committed_at"].as_str().unwrap();
    assert_eq!(
        ids(&ndjson(&store, &["--since", third_began])),
        vec![third.to_string(); 4]
    );
    let before = ndjson(&store, &["--until", third_began]);
    assert_eq!(before.len(), 8);
    assert_eq!(
        ndjson(&store, &["--since", third_began, "--until", "2999-01-01"]).len(),
        4
    );

    let resumed = ndjson(&store, &["--after", &positions[5].to_string()]);
    assert_eq!(resumed, all[6..]);

    let table = store.run(&["events", "--id", &first.to_string()]);
    assert!(table.status.success(), "{}", stderr(&table));
    let table = stdout(&table);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    assert!(lines[0].contains("POSITION") && lines[0].contains("CORRELATION"));
    let id_column = lines[0].find("  ID").unwrap() + 2;
    for row in &lines[1..] {
        assert_eq!(
            &row[id_column..id_column + 36],
            first.to_string(),
            "{table}"
        );
        assert!(row.contains("user:auditor-test"), "{row}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_are_named_and_exit_2() {
    let store = AuditedStore::new().await;
    store.exchange().await;
    for (args, named) in [
        (vec!["events", "--type", "robot"], "--type"),
        (
            vec!["events", "--type", "exchange", "--event-type", "BotStarted"],
            "--event-type",
        ),
        (vec!["events", "--after", "999999"], "--after"),
        (vec!["events", "--since", "yesterday"], "--since"),
        (
            vec!["events", "--since", "2026-12-05", "--until", "2026-12-04"],
            "--until",
        ),
        (vec!["events", "--id", "not-a-uuid"], "--id"),
    ] {
        let output = store.run(&args);
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
        assert!(
            stdout(&output).is_empty(),
            "{args:?} printed {}",
            stdout(&output)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_prints_events_as_they_commit() {
    let store = AuditedStore::new().await;
    let before = store.exchange().await;
    let mut child = crate::cli::anytrade()
        .args([
            "events", "--follow", "--output", "ndjson", "--type", "exchange",
        ])
        .env("DATABASE_URL", &store.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn anytrade events --follow");
    let (sender, mut lines) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if sender.send(serde_json::from_str(&line).unwrap()).is_err() {
                return;
            }
        }
    });
    for _ in 0..4 {
        assert_eq!(next(&mut lines).await["aggregate_id"], before.to_string());
    }
    let after = store.exchange().await;
    for sequence in 1..=4 {
        let event = next(&mut lines).await;
        assert_eq!(event["aggregate_id"], after.to_string());
        assert_eq!(event["sequence"], sequence);
    }
    child.kill().expect("stop the follower");
    child.wait().unwrap();
}

async fn next(lines: &mut tokio::sync::mpsc::UnboundedReceiver<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(30), lines.recv())
        .await
        .expect("a followed event within 30 s")
        .expect("the follower kept running")
}
