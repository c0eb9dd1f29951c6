//! Backtests and hyperopts as jobs of the local runtime, with real freqtrade against
//! the exchange simulator: steps run in order, results are readable, a failing step
//! and a cancellation are reported, and cleanup leaves nothing.

use std::time::Duration;

use anytrade::freqtrade::config::job_config;
use anytrade::runtime::local::{LocalConfig, LocalRuntime};
use anytrade::runtime::{InstanceState, JobKind, JobSpec, Runtime, RuntimeError, StrategyFile};
use anytrade_aggregates::ExchangeState;
use anytrade_aggregates::values::{
    ConfigObject, DateRange, ExchangeName, Pairs, StakeAmount, StakeCurrency, Timeframe,
};
use serde_json::Value;
use uuid::Uuid;

use crate::sandbox::{ALWAYS_ENTER, TUNABLE, freqtrade_cache, sandbox_exchange_config, simulator};

const TIMERANGE: &str = "20260101-20260104";

fn runtime(dir: &std::path::Path) -> LocalRuntime {
    LocalRuntime::new(
        LocalConfig {
            bots_dir: dir.join("bots"),
            jobs_dir: dir.join("jobs"),
            logs_dir: dir.join("logs"),
            freqtrade_dir: freqtrade_cache(),
            python: "python3".into(),
            api_ports: None,
            start_timeout: Duration::from_secs(90),
        },
        reqwest::Client::new(),
    )
}

fn config(simulator: &str, class: &str) -> Value {
    let exchange = ExchangeState {
        id: Uuid::new_v4(),
        name: ExchangeName::parse("binance").expect("name"),
        test_mode: true,
        config: ConfigObject::parse("config", sandbox_exchange_config(simulator)).expect("config"),
        secrets: Default::default(),
        deleted: false,
    };
    let job = anytrade_aggregates::JobSpec {
        strategy_id: Uuid::new_v4(),
        exchange_id: Some(exchange.id),
        strategy_version: 1,
        strategy_class: class.into(),
        dates: DateRange::parse("2026-01-01", "2026-01-04").expect("dates"),
        timeframe: Timeframe::parse("5m").expect("timeframe"),
        stake_amount: StakeAmount::parse_amount(100.0).expect("stake"),
        stake_currency: StakeCurrency::parse("USDT").expect("currency"),
        pairs: Pairs::parse(&["BTC/USDT", "ETH/USDT"]).expect("pairs"),
        config: ConfigObject::default(),
    };
    job_config(&exchange, &job).expect("job config")
}

fn steps(rest: &[&str]) -> Vec<Vec<String>> {
    let download = ["download-data", "--timerange", TIMERANGE, "-t", "5m"];
    vec![
        download.iter().map(|s| (*s).to_owned()).collect(),
        rest.iter().map(|s| (*s).to_owned()).collect(),
    ]
}

fn spec(kind: JobKind, config: Value, class: &str, code: &str, steps: Vec<Vec<String>>) -> JobSpec {
    JobSpec {
        job_id: Uuid::new_v4(),
        kind,
        freqtrade_version: "2026.9".into(),
        config,
        strategy: StrategyFile {
            class_name: class.into(),
            code: code.into(),
        },
        steps,
        resources: Default::default(),
    }
}

/// A hyperopt of `Tunable`'s buy space over `epochs`, with `more` arguments.
fn tunable_hyperopt(simulator: &str, epochs: &str, more: &[&str]) -> JobSpec {
    let mut hyperopt = vec![
        "hyperopt",
        "--strategy",
        "Tunable",
        "--timerange",
        TIMERANGE,
        "--epochs",
        epochs,
        "--spaces",
        "buy",
        "--hyperopt-loss",
        "SharpeHyperOptLoss",
    ];
    hyperopt.extend_from_slice(more);
    spec(
        JobKind::Hyperopt,
        config(simulator, "Tunable"),
        "Tunable",
        TUNABLE,
        steps(&hyperopt),
    )
}

/// Waits while the job runs; returns how it ended.
async fn outcome(runtime: &LocalRuntime, job: Uuid) -> InstanceState {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    loop {
        let instance = runtime
            .job_status(job)
            .await
            .expect("job status")
            .expect("job exists");
        if instance.state != InstanceState::Running {
            return instance.state;
        }
        assert!(tokio::time::Instant::now() < deadline, "job still runs");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backtests_and_hyperopts_run_as_local_jobs() {
    let dir = tempfile::tempdir().expect("dir");
    let _reaper = crate::sandbox::Reaper(dir.path().to_owned());
    let simulator = simulator().await;
    let runtime = runtime(dir.path());

    // A backtest: download, then test; the result file is there to read.
    let backtest = spec(
        JobKind::Backtest,
        config(&simulator, "AlwaysEnter"),
        "AlwaysEnter",
        ALWAYS_ENTER,
        steps(&[
            "backtesting",
            "--strategy",
            "AlwaysEnter",
            "--timerange",
            TIMERANGE,
        ]),
    );
    let started = runtime.run_job(&backtest).await.expect("backtest starts");
    assert_eq!(started.state, InstanceState::Running);
    assert_eq!(started.labels["anytrade.kind"], "backtest");
    let ended = outcome(&runtime, backtest.job_id).await;
    let logs = runtime.job_logs(backtest.job_id, 20).await.expect("logs");
    assert_eq!(ended, InstanceState::Finished, "{logs:#?}");
    let last: Value = serde_json::from_slice(
        &runtime
            .job_file(backtest.job_id, "backtest_results/.last_result.json")
            .await
            .expect("readable")
            .unwrap_or_else(|| panic!("the backtest wrote no result: {logs:#?}")),
    )
    .expect("result JSON");
    assert!(last["latest_backtest"].is_string(), "{last}");
    // Asking again does not run it again.
    let again = runtime.run_job(&backtest).await.expect("known job");
    assert_eq!(again.state, InstanceState::Finished);
    assert!(matches!(
        runtime.job_file(backtest.job_id, "../config.json").await,
        Err(RuntimeError::OutsideJob(_))
    ));

    // A hyperopt of a few epochs.
    let hyperopt = tunable_hyperopt(&simulator, "3", &["--print-json"]);
    runtime.run_job(&hyperopt).await.expect("hyperopt starts");
    let ended = outcome(&runtime, hyperopt.job_id).await;
    let logs = runtime.job_logs(hyperopt.job_id, 40).await.expect("logs");
    assert_eq!(ended, InstanceState::Finished, "{logs:#?}");
    assert!(
        logs.iter().any(|line| line.contains("\"buy_every\"")),
        "--print-json shows the best parameters: {logs:#?}"
    );

    // A step that fails ends the job with freqtrade's reason.
    let failing = spec(
        JobKind::Backtest,
        config(&simulator, "Missing"),
        "AlwaysEnter",
        ALWAYS_ENTER,
        steps(&[
            "backtesting",
            "--strategy",
            "Missing",
            "--timerange",
            TIMERANGE,
        ]),
    );
    runtime.run_job(&failing).await.expect("starts");
    match outcome(&runtime, failing.job_id).await {
        InstanceState::Exited { detail } => {
            assert!(
                detail.starts_with("step 2 (backtesting) exit status"),
                "{detail}"
            );
            assert!(detail.contains("Missing"), "{detail}");
        }
        other => panic!("a missing strategy fails: {other:?}"),
    }

    // A long hyperopt, cancelled while it runs.
    let long = tunable_hyperopt(&simulator, "5000", &[]);
    runtime.run_job(&long).await.expect("starts");
    tokio::time::sleep(Duration::from_secs(3)).await;
    runtime.cancel_job(long.job_id).await.expect("cancel");
    assert_eq!(
        outcome(&runtime, long.job_id).await,
        InstanceState::Exited {
            detail: "cancelled".into()
        }
    );

    // Every job is listed with its labels, and cleanup removes each.
    let listed = runtime.list_instances().await.expect("list");
    assert_eq!(listed.len(), 4, "{listed:#?}");
    for instance in listed {
        assert_eq!(instance.labels["anytrade.managed"], "true");
        runtime
            .cleanup(&instance.runtime_id)
            .await
            .expect("cleanup");
    }
    assert!(runtime.list_instances().await.expect("list").is_empty());
    assert!(
        runtime
            .job_status(backtest.job_id)
            .await
            .expect("status")
            .is_none()
    );
}
