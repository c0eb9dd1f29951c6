//! The job executor end to end: backtests and hyperopts requested through the API run
//! as real freqtrade jobs on the local runtime against the exchange simulator, and
//! their outcome, progress and results come back through the API.

use std::time::Duration;

use serde_json::{Value, json};

use crate::app::TestApp;
use crate::bot_lifecycle::{
    PROVISION_WITHIN, freqtrade_processes, managing_app, sandbox_exchange, strategy,
};
use crate::helpers::poll_until;
use crate::sandbox::{ALWAYS_ENTER, TUNABLE, simulator};

/// A strategy freqtrade loads but that fails on its first candles.
pub(crate) const BROKEN: &str = r#"
from freqtrade.strategy import IStrategy


class Broken(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {"0": 0.01}
    stoploss = -0.10

    def populate_indicators(self, dataframe, metadata):
        raise RuntimeError("anytrade_broken_indicator")

    def populate_entry_trend(self, dataframe, metadata):
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        return dataframe
"#;

const BACKTEST: &str = "id status runtimeId errorMessage results startedAt completedAt logOutput
    summary { totalTrades profitTotal profitTotalAbs winRate bestPair }";
const HYPEROPT: &str = "id status runtimeId errorMessage results progress epoch logOutput";

/// A 3-epoch hyperopt of [`TUNABLE`](crate::sandbox::TUNABLE) that completed with the
/// best parameters it found.
pub(crate) fn assert_short_hyperopt_completed(done: &Value) {
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["progress"], 100.0, "{done}");
    let results = &done["results"];
    assert!(results["params"]["buy_every"].is_i64(), "{results}");
    assert!(results["loss"].is_number(), "{results}");
    // freqtrade saves no epoch that repeats an earlier one's parameters (six values of
    // buy_every here), so the search may finish with fewer than the 3 asked for.
    let saved = results["epochs_done"].as_u64().unwrap_or(0);
    assert!((1..=3).contains(&saved), "{results}");
    assert_eq!(done["epoch"], saved, "{done}");
}

pub(crate) fn job_input(strategy: &str, exchange: &str) -> Value {
    json!({
        "strategyId": strategy, "exchangeId": exchange,
        "startDate": "2026-01-01", "endDate": "2026-01-04", "timeframe": "5m",
        "stakeAmount": 100.0, "stakeCurrency": "USDT", "pairs": ["BTC/USDT", "ETH/USDT"],
    })
}

pub(crate) fn hyperopt_input(strategy: &str, exchange: &str, epochs: u32) -> Value {
    let mut input = job_input(strategy, exchange);
    input["epochs"] = json!(epochs);
    input["spaces"] = json!(["BUY"]);
    input["optimizationMetric"] = json!("SHARPE");
    input
}

pub(crate) async fn run(app: &TestApp, kind: &str, input: Value) -> String {
    let (mutation, input_type) = match kind {
        "backtest" => ("runBacktest", "RunBacktestInput"),
        _ => ("runHyperopt", "RunHyperoptInput"),
    };
    app.query(
        &format!("mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ id }} }}"),
        json!({ "i": input }),
    )
    .await[mutation]["id"]
        .as_str()
        .expect("job id")
        .to_owned()
}

pub(crate) async fn job(app: &TestApp, kind: &str, id: &str) -> Value {
    let fields = if kind == "backtest" {
        BACKTEST
    } else {
        HYPEROPT
    };
    app.query(
        &format!("query($id: ID!) {{ {kind}(id: $id) {{ {fields} }} }}"),
        json!({ "id": id }),
    )
    .await[kind]
        .clone()
}

/// The job once `done` holds, within `within`.
pub(crate) async fn wait_for(
    app: &TestApp,
    kind: &str,
    id: &str,
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    poll_until(within, Duration::from_millis(500), || async {
        let job = job(app, kind, id).await;
        if done(&job) {
            Ok(job)
        } else {
            Err(format!("{kind} {id} never got there: {job}"))
        }
    })
    .await
}

/// The types of aggregate `id`'s events, in order.
pub(crate) async fn event_types(app: &TestApp, id: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT event_type FROM events WHERE aggregate_id = $1 ORDER BY sequence")
        .bind(id)
        .fetch_all(&app.pool)
        .await
        .expect("events")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backtests_run_to_results_and_failures_say_why() {
    let data = tempfile::tempdir().expect("data dir");
    let _reaper = crate::sandbox::Reaper(data.path().to_owned());
    let simulator = simulator().await;
    let app = managing_app(data.path(), |settings| {
        settings.jobs.poll_interval_ms = 500;
    })
    .await;
    let exchange = sandbox_exchange(&app, &simulator).await;
    let always = strategy(&app, "always enter", ALWAYS_ENTER).await;
    let broken = strategy(&app, "broken", BROKEN).await;

    // A backtest runs: candles downloaded from the simulator, then tested; freqtrade's
    // statistics become the results.
    let id = run(&app, "backtest", job_input(&always, &exchange)).await;
    let done = wait_for(&app, "backtest", &id, PROVISION_WITHIN, |job| {
        job["status"] != "PENDING" && job["status"] != "RUNNING"
    })
    .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["runtimeId"], format!("job-{id}"));
    let summary = &done["summary"];
    assert!(summary["totalTrades"].as_i64() > Some(0), "{done}");
    assert!(summary["profitTotalAbs"].is_number(), "{done}");
    let results = &done["results"];
    assert_eq!(results["total_trades"], summary["totalTrades"]);
    let trades = results["trades"].as_array().expect("trade list");
    assert!(
        !trades.is_empty() && trades[0]["pair"].is_string(),
        "{results}"
    );
    assert_eq!(
        event_types(&app, &id).await,
        ["BacktestRequested", "BacktestStarted", "BacktestCompleted"]
    );
    // Its output stays readable: freqtrade's result table is in the log's last lines.
    let log = done["logOutput"].as_str().expect("log output");
    assert!(
        log.contains("BACKTESTING REPORT") || log.contains("SUMMARY METRICS"),
        "{log}"
    );

    // A strategy that fails while testing: the backtest fails with freqtrade's reason.
    let failing = run(&app, "backtest", job_input(&broken, &exchange)).await;
    let failed = wait_for(
        &app,
        "backtest",
        &failing,
        Duration::from_secs(180),
        |job| job["status"] != "PENDING" && job["status"] != "RUNNING",
    )
    .await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    let reason = failed["errorMessage"].as_str().expect("reason");
    assert!(reason.contains("anytrade_broken_indicator"), "{reason}");
    let log = failed["logOutput"].as_str().expect("log output");
    assert!(log.contains("Traceback"), "{log}");

    // Deleting a finished backtest removes its files.
    let files = data.path().join(format!("local/jobs/{id}"));
    assert!(files.exists(), "{files:?}");
    app.query(
        "mutation($id: ID!) { deleteBacktest(id: $id) }",
        json!({ "id": id }),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while files.exists() {
        assert!(tokio::time::Instant::now() < deadline, "{files:?} stays");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM job_logs WHERE job_id = $1")
        .bind(uuid::Uuid::parse_str(&id).expect("uuid"))
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(kept, 0, "the deleted backtest's log is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyperopts_wait_their_turn_report_progress_and_can_be_cancelled() {
    let data = tempfile::tempdir().expect("data dir");
    let _reaper = crate::sandbox::Reaper(data.path().to_owned());
    let simulator = simulator().await;
    let app = managing_app(data.path(), |settings| {
        settings.jobs.poll_interval_ms = 500;
        settings.jobs.max_hyperopts = 1;
    })
    .await;
    let exchange = sandbox_exchange(&app, &simulator).await;
    let tunable = strategy(&app, "tunable", TUNABLE).await;

    // A long hyperopt runs; a second one waits for it, pending.
    let long = run(&app, "hyperopt", hyperopt_input(&tunable, &exchange, 5000)).await;
    let short = run(&app, "hyperopt", hyperopt_input(&tunable, &exchange, 3)).await;
    let running = wait_for(&app, "hyperopt", &long, PROVISION_WITHIN, |job| {
        job["status"] != "PENDING"
    })
    .await;
    assert_eq!(running["status"], "RUNNING", "{running}");
    // It reports the epochs it finishes.
    let progressing = wait_for(&app, "hyperopt", &long, Duration::from_secs(120), |job| {
        job["epoch"].as_i64() > Some(0) || job["status"] != "RUNNING"
    })
    .await;
    assert_eq!(progressing["status"], "RUNNING", "{progressing}");
    let progress = progressing["progress"].as_f64().expect("progress");
    assert!(progress > 0.0 && progress < 100.0, "{progressing}");
    assert!(progressing["logOutput"].is_string(), "{progressing}");
    let waiting = job(&app, "hyperopt", &short).await;
    assert_eq!(waiting["status"], "PENDING");
    assert_eq!(waiting["logOutput"], Value::Null, "{waiting}");

    // Cancelling ends its freqtrade process; the waiting one starts.
    app.query(
        "mutation($id: ID!) { cancelHyperopt(id: $id) }",
        json!({ "id": long }),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !freqtrade_processes(&long).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cancelled hyperopt still runs"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(job(&app, "hyperopt", &long).await["status"], "CANCELLED");

    // The short one completes with the best parameters it found.
    let done = wait_for(&app, "hyperopt", &short, Duration::from_secs(240), |job| {
        job["status"] != "PENDING" && job["status"] != "RUNNING"
    })
    .await;
    assert_short_hyperopt_completed(&done);
    let events = event_types(&app, &short).await;
    assert_eq!(
        events.first().map(String::as_str),
        Some("HyperoptRequested")
    );
    assert_eq!(events.last().map(String::as_str), Some("HyperoptCompleted"));
    assert!(
        events.iter().any(|e| e == "HyperoptProgressReported"),
        "{events:?}"
    );

    // A hyperopt running when the control plane goes away fails when it comes back,
    // saying why, and what was left of its process ends.
    let cut = run(&app, "hyperopt", hyperopt_input(&tunable, &exchange, 5000)).await;
    wait_for(&app, "hyperopt", &cut, Duration::from_secs(120), |job| {
        job["epoch"].as_i64() > Some(0)
    })
    .await;
    let settings = app.shut_down().await;
    let app = TestApp::restart(settings).await;
    let failed = wait_for(&app, "hyperopt", &cut, Duration::from_secs(60), |job| {
        job["status"] != "RUNNING"
    })
    .await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    let reason = failed["errorMessage"].as_str().expect("reason");
    assert!(reason.contains("control plane restarted"), "{reason}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !freqtrade_processes(&cut).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cut-off hyperopt still runs"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
