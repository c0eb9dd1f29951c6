//! `serve --sandbox`: the quick start a new user follows. The service serves the
//! exchange simulator, registers the `sandbox` exchange and the example strategies; a
//! dry-run bot on it trades with real freqtrade, and the examples backtest to trades.
//! A restart registers nothing twice; a taken port stops the start with a clear message.

use std::time::Duration;

use anytrade::sandbox::EXAMPLE_STRATEGIES;
use serde_json::{Value, json};

use crate::app::TestApp;
use crate::bot_lifecycle::{
    PROVISION_WITHIN, START_WITHIN, act, create_bot, managing_app, strategy, wait_for_status,
};
use crate::helpers::poll_until;
use crate::job_executor::{job_input, run, wait_for};
use crate::sandbox::{ALWAYS_ENTER, market_orders};

const EXCHANGES: &str = "{ exchanges { id name testMode config } }";
const STRATEGIES: &str = "{ strategies(first: 50) { edges { node { id name } } } }";

fn sandbox_settings(settings: &mut anytrade::config::Settings) {
    settings.sandbox.enabled = true;
    settings.sandbox.listen = Some("127.0.0.1:0".parse().expect("address"));
}

/// The one `sandbox` exchange registered; panics unless there is exactly one.
async fn the_sandbox(app: &TestApp) -> Value {
    let data = app.query(EXCHANGES, json!({})).await;
    let sandboxes: Vec<&Value> = data["exchanges"]
        .as_array()
        .expect("exchanges")
        .iter()
        .filter(|e| e["name"] == "sandbox")
        .collect();
    assert_eq!(sandboxes.len(), 1, "{data}");
    sandboxes[0].clone()
}

async fn strategy_ids(app: &TestApp) -> Vec<(String, String)> {
    let data = app.query(STRATEGIES, json!({})).await;
    data["strategies"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            (
                node["name"].as_str().unwrap_or_default().to_owned(),
                node["id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_dry_run_bot_trades_on_the_sandbox_and_the_examples_backtest() {
    let data = tempfile::tempdir().expect("data dir");
    let _reaper = crate::sandbox::Reaper(data.path().to_owned());
    let app = managing_app(data.path(), |settings| {
        sandbox_settings(settings);
        settings.jobs.poll_interval_ms = 500;
        settings.monitor.trade_sync_interval_secs = 2;
    })
    .await;
    let sandbox = the_sandbox(&app).await;
    assert_eq!(sandbox["testMode"], true);
    let exchange = sandbox["id"].as_str().expect("id").to_owned();
    let probe = app
        .query(
            "mutation($id: ID!) { testExchangeConnection(id: $id) { ok reachable endpoint message } }",
            json!({ "id": exchange }),
        )
        .await;
    assert_eq!(probe["testExchangeConnection"]["ok"], true, "{probe}");

    let examples = strategy_ids(&app).await;
    let names: Vec<&str> = examples.iter().map(|(name, _)| name.as_str()).collect();
    for (name, _) in EXAMPLE_STRATEGIES {
        assert!(names.contains(name), "{name} missing: {names:?}");
    }

    // The quick start's bot: dry run on the sandbox, no keys. A strategy that enters at
    // once shows the trade in minutes, not hours.
    let always = strategy(&app, "always enter", ALWAYS_ENTER).await;
    // Market orders, as README's quick start gives them: filled at once in a dry run.
    let config = market_orders(&["BTC/USDT", "ETH/USDT"], 2);
    let bot = create_bot(&app, "first-bot", &exchange, &always, config).await;
    act(&app, "startBot", &bot).await;
    wait_for_status(&app, &bot, "RUNNING", PROVISION_WITHIN.max(START_WITHIN)).await;
    poll_until(Duration::from_secs(120), Duration::from_secs(1), || async {
        let data = app
            .query(
                "query($bot: ID!) { trades(botId: $bot, first: 10) { totalCount } }",
                json!({ "bot": bot }),
            )
            .await;
        if data["trades"]["totalCount"].as_i64() > Some(0) {
            Ok(())
        } else {
            Err(format!("no trade synced yet: {data}"))
        }
    })
    .await;
    act(&app, "stopBot", &bot).await;

    // Each example strategy loads in real freqtrade and trades on the sandbox's prices.
    for (name, id) in examples
        .iter()
        .filter(|(name, _)| EXAMPLE_STRATEGIES.iter().any(|(n, _)| n == name))
    {
        let job = run(&app, "backtest", job_input(id, &exchange)).await;
        let done = wait_for(&app, "backtest", &job, PROVISION_WITHIN, |job| {
            job["status"] != "PENDING" && job["status"] != "RUNNING"
        })
        .await;
        assert_eq!(done["status"], "COMPLETED", "{name}: {done}");
        assert!(
            done["summary"]["totalTrades"].as_i64() > Some(0),
            "{name} made no trade: {done}"
        );
    }
}

#[tokio::test]
async fn a_restart_registers_nothing_twice_and_follows_the_simulators_address() {
    let app = TestApp::spawn_with(|settings| {
        settings.runtime.manage = false;
        settings.monitor.enabled = false;
        sandbox_settings(settings);
    })
    .await;
    let first = the_sandbox(&app).await;
    let strategies = strategy_ids(&app).await;
    assert_eq!(strategies.len(), EXAMPLE_STRATEGIES.len(), "{strategies:?}");
    let settings = app.shut_down().await;

    // Port 0 again: a new port, so the exchange moves to it.
    let app = TestApp::restart(settings).await;
    let again = the_sandbox(&app).await;
    assert_eq!(again["id"], first["id"]);
    let url = |exchange: &Value| exchange["config"]["ccxt_config"]["urls"]["api"]["public"].clone();
    assert_ne!(url(&again), url(&first), "the simulator's new port");
    assert_eq!(strategy_ids(&app).await, strategies);
    let probe = app
        .query(
            "mutation($id: ID!) { testExchangeConnection(id: $id) { ok message } }",
            json!({ "id": again["id"] }),
        )
        .await;
    assert_eq!(probe["testExchangeConnection"]["ok"], true, "{probe}");
}

#[tokio::test]
async fn the_sandbox_refuses_live_trading() {
    let app = TestApp::spawn_with(|settings| {
        settings.runtime.manage = false;
        settings.monitor.enabled = false;
        sandbox_settings(settings);
    })
    .await;
    let sandbox = the_sandbox(&app).await;
    let events = app.event_count().await;
    let error = app
        .query_error(
            r#"mutation { createExchange(input: { name: "sandbox", testMode: false }) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error["code"], "VALIDATION", "{error}");
    assert_eq!(error["field"], "testMode", "{error}");
    let error = app
        .query_error(
            "mutation($id: ID!) { updateExchange(id: $id, input: { testMode: false }) { id } }",
            json!({ "id": sandbox["id"] }),
        )
        .await;
    assert_eq!(error["field"], "testMode", "{error}");
    let (_, strategy) = strategy_ids(&app).await.remove(0);
    let error = app
        .query_error(
            "mutation($e: ID!, $s: ID!) { createBot(input: { name: \"live\", exchangeId: $e,
                strategyId: $s, mode: LIVE }) { id } }",
            json!({ "e": sandbox["id"], "s": strategy }),
        )
        .await;
    assert_eq!(error["field"], "mode", "{error}");
    assert_eq!(app.event_count().await, events, "nothing may be written");
}

#[test]
fn serve_sandbox_on_a_taken_port_says_so_at_start() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let data = crate::cli::data_dir();
    let key = anytrade::crypto::Keyring::generate_key();
    let port = crate::cli::free_port();
    let server = crate::cli::anytrade()
        .args(["serve", "--sandbox"])
        .env("ANYTRADE_DATA_DIR", data.path())
        .env("ANYTRADE_LISTEN", format!("127.0.0.1:{port}"))
        .env("ANYTRADE_ENCRYPTION_KEY", &key)
        .env("ANYTRADE_ADMIN_PASSWORD", "first-admin-password")
        .env("ANYTRADE_RUNTIME", "local")
        .env("ANYTRADE_SANDBOX__LISTEN", &address)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start anytrade serve");
    let output = server.wait_with_output().expect("serve ends");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{said}");
    assert!(
        said.contains(&format!("sandbox.listen {address}"))
            && said.contains("ANYTRADE_SANDBOX__LISTEN"),
        "{said}"
    );
    drop(taken);
}
