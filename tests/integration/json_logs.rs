//! `log_format = json`: the real binary's log is one JSON object per line, and every
//! line about a bot's lifecycle names the bot and the correlation id of the request
//! that caused it, so one grep follows a `startBot` from the API to the process.

use std::collections::HashSet;
use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::{admin_token, anytrade, data_dir, free_port, terminate};
use crate::helpers::poll_until;
use crate::sandbox::{ALWAYS_ENTER, freqtrade_cache};

async fn graphql(base: &str, token: &str, query: &str, variables: Value) -> Value {
    crate::app::remote_query(&reqwest::Client::new(), base, token, query, variables).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lifecycle_line_names_the_bot_and_the_requests_correlation_id() {
    let data = data_dir();
    let _reaper = crate::sandbox::Reaper(data.path().to_owned());
    let port = free_port();
    let log_path = data.path().join("serve.log");
    let log_file = std::fs::File::create(&log_path).expect("log file");
    let server = anytrade()
        .args(["serve", "--sandbox"])
        .env("ANYTRADE_DATA_DIR", data.path())
        .env("ANYTRADE_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "ANYTRADE_ENCRYPTION_KEY",
            anytrade::crypto::Keyring::generate_key(),
        )
        .env("ANYTRADE_ADMIN_PASSWORD", "first-admin-password")
        .env("ANYTRADE_LOG_FORMAT", "json")
        .env("ANYTRADE_RUNTIME", "local")
        .env("ANYTRADE_RUNTIME__LOCAL__FREQTRADE_PATH", freqtrade_cache())
        .env("ANYTRADE_SANDBOX__LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("start anytrade serve");
    let base = format!("http://127.0.0.1:{port}");
    let token = admin_token(&base, "first-admin-password").await;
    // A refused login is logged with the client, never with the password tried.
    let refused = reqwest::Client::new()
        .post(format!("{base}/auth/login"))
        .json(&json!({ "username": "admin", "password": "wrong-horse-battery-staple" }))
        .send()
        .await
        .expect("login");
    assert_eq!(refused.status(), 401);

    let listed = graphql(&base, &token, "{ exchanges { id name } }", json!({})).await;
    let exchange = listed["exchanges"][0]["id"]
        .as_str()
        .expect("sandbox")
        .to_owned();
    let strategy = graphql(
        &base,
        &token,
        "mutation($code: String!) { createStrategy(input: { name: \"always\", code: $code }) { id } }",
        json!({ "code": ALWAYS_ENTER }),
    )
    .await["createStrategy"]["id"]
        .as_str()
        .expect("strategy")
        .to_owned();
    let bot = graphql(
        &base,
        &token,
        "mutation($e: ID!, $s: ID!) { createBot(input: { name: \"logged\", exchangeId: $e,
           strategyId: $s, mode: DRY_RUN, config: { pairs: [\"BTC/USDT\"], stakeAmount: \"100\",
           maxOpenTrades: 1 } }) { id } }",
        json!({ "e": exchange, "s": strategy }),
    )
    .await["createBot"]["id"]
        .as_str()
        .expect("bot")
        .to_owned();
    graphql(
        &base,
        &token,
        "mutation($id: ID!) { startBot(id: $id) { id } }",
        json!({ "id": bot }),
    )
    .await;
    poll_until(
        Duration::from_secs(600),
        Duration::from_millis(500),
        || async {
            let bot = graphql(
                &base,
                &token,
                "query($id: ID!) { bot(id: $id) { status errorMessage } }",
                json!({ "id": bot }),
            )
            .await["bot"]
                .clone();
            assert_ne!(bot["status"], "ERROR", "{bot}");
            if bot["status"] == "RUNNING" {
                Ok(())
            } else {
                Err(format!("not running: {bot}"))
            }
        },
    )
    .await;
    let events = graphql(
        &base,
        &token,
        "query($id: String!) { events(filter: { aggregateId: $id }) { eventType metadata } }",
        json!({ "id": bot }),
    )
    .await;
    let correlations: HashSet<String> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["metadata"]["correlation_id"].as_str().map(str::to_owned))
        .collect();
    assert!(!correlations.is_empty(), "{events}");
    terminate(server);

    let mut log = String::new();
    std::fs::File::open(&log_path)
        .expect("log")
        .read_to_string(&mut log)
        .expect("read log");
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let lifecycle: Vec<&Value> = lines
        .iter()
        .filter(|line| line["span"]["name"] == "bot_lifecycle")
        .collect();
    let steps: Vec<&str> = lifecycle
        .iter()
        .filter_map(|line| line["command"].as_str())
        .collect();
    for step in ["ConfirmBotProvisioned", "ConfirmBotStarted"] {
        assert!(steps.contains(&step), "{step} not logged: {steps:?}\n{log}");
    }
    for line in &lifecycle {
        assert_eq!(line["span"]["bot_id"], bot.as_str(), "{line}");
        let correlation = line["span"]["correlation_id"].as_str().unwrap_or_default();
        assert!(
            correlations.contains(correlation),
            "{line}: {correlations:?}"
        );
    }
    assert!(!log.contains("first-admin-password"));
    assert!(!log.contains("wrong-horse-battery-staple"), "{log}");
    let refusal = lines
        .iter()
        .find(|line| {
            line["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("login refused"))
        })
        .unwrap_or_else(|| panic!("no refused login logged: {log}"));
    assert_eq!(refusal["level"], "WARN", "{refusal}");
    assert_eq!(refusal["username"], "admin", "{refusal}");
    assert!(
        refusal["client"]
            .as_str()
            .is_some_and(|c| c.contains("127.0.0.1")),
        "{refusal}"
    );
}
