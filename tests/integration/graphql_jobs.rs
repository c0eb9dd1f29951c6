//! Backtests and hyperopts through GraphQL: requests start PENDING with the strategy
//! version pinned, cancel and delete follow the job lifecycle, what the job executor
//! records shows through the API, bad input is refused with its field and writes
//! nothing, viewers only read, and the lists filter and paginate.

use std::sync::Arc;
use std::time::Duration;

use anytrade::lookup::PgLookup;
use anytrade::store::{CommandMetadata, Commands, EventLog};
use anytrade_aggregates::{BacktestCommand, HyperoptCommand};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::TestApp;
use crate::graphql_bots::create_exchange;
use crate::helpers::poll_until;

const CODE: &str = "from freqtrade.strategy import IStrategy\n\nclass AlwaysIn(IStrategy):\n    timeframe = '5m'\n";
const CODE_V2: &str = "from freqtrade.strategy import IStrategy\n\nclass TrendRider(IStrategy):\n    timeframe = '1h'\n";

const JOB: &str = "id status strategyId strategy { id name version } strategyVersion strategyClass
    exchangeId exchange { name }
    startDate endDate timeframe stakeAmount stakeCurrency pairs config results errorMessage
    runtimeId createdAt updatedAt startedAt completedAt";

fn backtest_fields() -> String {
    format!(
        "{JOB} summary {{ totalTrades profitTotal profitTotalAbs maxDrawdown sharpe winRate bestPair worstPair }}"
    )
}

fn hyperopt_fields() -> String {
    format!("{JOB} epochs spaces optimizationMetric progress epoch")
}

async fn create_strategy(app: &TestApp, name: &str) -> String {
    app.query(
        "mutation($input: CreateStrategyInput!) { createStrategy(input: $input) { id } }",
        json!({ "input": { "name": name, "code": CODE } }),
    )
    .await["createStrategy"]["id"]
        .as_str()
        .expect("strategy id")
        .to_owned()
}

fn backtest_input(strategy_id: &str, exchange_id: &str) -> Value {
    json!({
        "strategyId": strategy_id,
        "exchangeId": exchange_id,
        "startDate": "2024-01-01",
        "endDate": "2024-03-01",
        "timeframe": "5m",
        "stakeAmount": 100.0,
        "stakeCurrency": "USDT",
        "pairs": ["BTC/USDT", "ETH/USDT"],
        "config": { "max_open_trades": 3 },
    })
}

fn hyperopt_input(strategy_id: &str, exchange_id: &str) -> Value {
    let mut input = backtest_input(strategy_id, exchange_id);
    input["epochs"] = json!(100);
    input["spaces"] = json!(["BUY", "ROI", "BUY"]);
    input["optimizationMetric"] = json!("SHARPE");
    input
}

const RUN_BACKTEST: &str =
    "mutation($input: RunBacktestInput!) { runBacktest(input: $input) { id } }";
const RUN_HYPEROPT: &str =
    "mutation($input: RunHyperoptInput!) { runHyperopt(input: $input) { id } }";

async fn run_backtest(app: &TestApp, input: Value) -> String {
    app.query(RUN_BACKTEST, json!({ "input": input })).await["runBacktest"]["id"]
        .as_str()
        .expect("backtest id")
        .to_owned()
}

async fn run_hyperopt(app: &TestApp, input: Value) -> String {
    app.query(RUN_HYPEROPT, json!({ "input": input })).await["runHyperopt"]["id"]
        .as_str()
        .expect("hyperopt id")
        .to_owned()
}

async fn backtest(app: &TestApp, id: &str) -> Value {
    app.query(
        &format!(
            "query($id: ID!) {{ backtest(id: $id) {{ {} }} }}",
            backtest_fields()
        ),
        json!({ "id": id }),
    )
    .await["backtest"]
        .clone()
}

async fn hyperopt(app: &TestApp, id: &str) -> Value {
    app.query(
        &format!(
            "query($id: ID!) {{ hyperopt(id: $id) {{ {} }} }}",
            hyperopt_fields()
        ),
        json!({ "id": id }),
    )
    .await["hyperopt"]
        .clone()
}

/// Asks until `done` holds: commands issued beside the API reach its read models on
/// their next poll.
async fn eventually<F, Fut>(what: &str, ask: F, done: impl Fn(&Value) -> bool) -> Value
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    poll_until(
        Duration::from_secs(10),
        Duration::from_millis(50),
        || async {
            let value = ask().await;
            if done(&value) {
                Ok(value)
            } else {
                Err(format!("{what}: the read models never showed it: {value}"))
            }
        },
    )
    .await
}

fn code_and_field(extensions: &Value) -> (Option<&str>, Option<&str>) {
    (extensions["code"].as_str(), extensions["field"].as_str())
}

#[tokio::test]
async fn runs_start_pending_with_the_strategy_version_pinned() {
    let app = TestApp::spawn().await;
    let strategy_id = create_strategy(&app, "Trend").await;
    let exchange_id = create_exchange(&app).await;
    app.query(
        "mutation($id: ID!, $code: String!) { updateStrategy(id: $id, input: { code: $code }) { version } }",
        json!({ "id": strategy_id, "code": CODE_V2 }),
    )
    .await;

    let before = app.event_count().await;
    let run = app
        .query(
            &format!(
                "mutation($input: RunBacktestInput!) {{ runBacktest(input: $input) {{ {} }} }}",
                backtest_fields()
            ),
            json!({ "input": backtest_input(&strategy_id, &exchange_id) }),
        )
        .await["runBacktest"]
        .clone();
    assert_eq!(app.event_count().await, before + 1, "one BacktestRequested");
    assert_eq!(run["status"], "PENDING");
    assert_eq!(run["strategyId"], strategy_id.as_str());
    assert_eq!(run["strategy"]["id"], strategy_id.as_str());
    assert_eq!(run["strategy"]["name"], "Trend");
    assert_eq!(run["strategyVersion"], 2);
    assert_eq!(run["strategyClass"], "TrendRider");
    assert_eq!(run["exchangeId"], exchange_id.as_str());
    assert_eq!(run["exchange"]["name"], "binance");
    assert_eq!(run["startDate"], "2024-01-01");
    assert_eq!(run["endDate"], "2024-03-01");
    assert_eq!(run["timeframe"], "5m");
    assert_eq!(run["stakeAmount"], 100.0);
    assert_eq!(run["stakeCurrency"], "USDT");
    assert_eq!(run["pairs"], json!(["BTC/USDT", "ETH/USDT"]));
    assert_eq!(run["config"], json!({ "max_open_trades": 3 }));
    for empty in [
        "results",
        "summary",
        "errorMessage",
        "runtimeId",
        "startedAt",
        "completedAt",
    ] {
        assert!(run[empty].is_null(), "{empty}: {run}");
    }
    assert!(run["createdAt"].is_string(), "{run}");
    assert_eq!(run["createdAt"], run["updatedAt"]);
    let id = run["id"].as_str().expect("id");
    assert!(Uuid::parse_str(id).is_ok(), "{id}");
    assert_eq!(
        backtest(&app, id).await,
        run,
        "the query shows what the mutation did"
    );

    // A later version does not change what an earlier request pinned.
    app.query(
        "mutation($id: ID!, $code: String!) { updateStrategy(id: $id, input: { code: $code }) { version } }",
        json!({ "id": strategy_id, "code": CODE }),
    )
    .await;
    let pinned = backtest(&app, id).await;
    assert_eq!(
        (&pinned["strategyVersion"], &pinned["strategyClass"]),
        (&json!(2), &json!("TrendRider"))
    );
    assert_eq!(pinned["strategy"]["version"], 3);

    let before = app.event_count().await;
    let run = app
        .query(
            &format!(
                "mutation($input: RunHyperoptInput!) {{ runHyperopt(input: $input) {{ {} }} }}",
                hyperopt_fields()
            ),
            json!({ "input": hyperopt_input(&strategy_id, &exchange_id) }),
        )
        .await["runHyperopt"]
        .clone();
    assert_eq!(app.event_count().await, before + 1, "one HyperoptRequested");
    assert_eq!(run["status"], "PENDING");
    assert_eq!(run["strategy"]["name"], "Trend");
    assert_eq!(run["strategyVersion"], 3);
    assert_eq!(run["strategyClass"], "AlwaysIn");
    assert_eq!(run["startDate"], "2024-01-01");
    assert_eq!(run["endDate"], "2024-03-01");
    assert_eq!(run["timeframe"], "5m");
    assert_eq!(run["stakeAmount"], 100.0);
    assert_eq!(run["stakeCurrency"], "USDT");
    assert_eq!(run["pairs"], json!(["BTC/USDT", "ETH/USDT"]));
    assert_eq!(run["config"], json!({ "max_open_trades": 3 }));
    assert_eq!(run["epochs"], 100);
    assert_eq!(run["spaces"], json!(["BUY", "ROI"]), "repeats are dropped");
    assert_eq!(run["optimizationMetric"], "SHARPE");
    assert_eq!(run["progress"], 0.0);
    for empty in [
        "epoch",
        "results",
        "errorMessage",
        "runtimeId",
        "startedAt",
        "completedAt",
    ] {
        assert!(run[empty].is_null(), "{empty}: {run}");
    }
    let id = run["id"].as_str().expect("id");
    assert_eq!(hyperopt(&app, id).await, run);

    // Unknown ids read as null.
    let unknown = Uuid::now_v7().to_string();
    let missing = app
        .query(
            "query($id: ID!) { backtest(id: $id) { id } hyperopt(id: $id) { id } }",
            json!({ "id": unknown }),
        )
        .await;
    assert_eq!(missing, json!({ "backtest": null, "hyperopt": null }));
}

#[tokio::test]
async fn cancel_and_delete_follow_the_lifecycle() {
    let app = TestApp::spawn().await;
    let strategy_id = create_strategy(&app, "Trend").await;
    let exchange_id = create_exchange(&app).await;

    for (kind, run, cancel, delete, list) in [
        (
            "backtest",
            RUN_BACKTEST,
            "cancelBacktest",
            "deleteBacktest",
            "backtests",
        ),
        (
            "hyperopt",
            RUN_HYPEROPT,
            "cancelHyperopt",
            "deleteHyperopt",
            "hyperopts",
        ),
    ] {
        let input = if kind == "backtest" {
            backtest_input(&strategy_id, &exchange_id)
        } else {
            hyperopt_input(&strategy_id, &exchange_id)
        };
        let data = app.query(run, json!({ "input": input })).await;
        let id = data
            .as_object()
            .and_then(|o| o.values().next())
            .expect("run")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let cancel_it = format!("mutation($id: ID!) {{ {cancel}(id: $id) }}");
        let delete_it = format!("mutation($id: ID!) {{ {delete}(id: $id) }}");
        let read = format!("query($id: ID!) {{ {kind}(id: $id) {{ status completedAt }} }}");
        let listed = format!("{{ {list} {{ totalCount edges {{ node {{ id }} }} }} }}");

        assert_eq!(
            app.query(&cancel_it, json!({ "id": id })).await[cancel],
            true
        );
        let cancelled = app.query(&read, json!({ "id": id })).await[kind].clone();
        assert_eq!(cancelled["status"], "CANCELLED", "{kind}");
        assert!(cancelled["completedAt"].is_string(), "{cancelled}");

        let before = app.event_count().await;
        let again = app.query_error(&cancel_it, json!({ "id": id })).await;
        assert_eq!(
            code_and_field(&again),
            (Some("CONFLICT"), Some("status")),
            "{kind}: {again}"
        );
        assert_eq!(
            app.event_count().await,
            before,
            "{kind}: a refusal writes nothing"
        );

        assert_eq!(app.query(&listed, json!({})).await[list]["totalCount"], 1);
        assert_eq!(
            app.query(&delete_it, json!({ "id": id })).await[delete],
            true
        );
        assert!(app.query(&read, json!({ "id": id })).await[kind].is_null());
        let after = app.query(&listed, json!({})).await;
        assert_eq!(after[list]["totalCount"], 0, "{after}");
        assert_eq!(after[list]["edges"], json!([]));

        let before = app.event_count().await;
        for mutation in [&cancel_it, &delete_it] {
            let gone = app.query_error(mutation, json!({ "id": id })).await;
            assert_eq!(
                code_and_field(&gone),
                (Some("NOT_FOUND"), Some("id")),
                "{kind}: {gone}"
            );
        }
        let bad = app.query_error(&cancel_it, json!({ "id": "nope" })).await;
        assert_eq!(code_and_field(&bad), (Some("VALIDATION"), Some("id")));
        assert_eq!(app.event_count().await, before);
    }

    // A job outlives its strategy: it still lists, with what it pinned.
    let id = run_backtest(&app, backtest_input(&strategy_id, &exchange_id)).await;
    app.query(
        "mutation($id: ID!) { deleteStrategy(id: $id) }",
        json!({ "id": strategy_id }),
    )
    .await;
    let orphan = backtest(&app, &id).await;
    assert!(orphan["strategy"].is_null(), "{orphan}");
    assert_eq!(orphan["strategyClass"], "AlwaysIn");
    assert_eq!(orphan["strategyId"], strategy_id.as_str());
}

/// The job executor's side, issued straight to the command buses as it will be.
fn executor(app: &TestApp) -> (Commands, CommandMetadata) {
    let log = EventLog::new(app.pool.clone());
    let lookup = Arc::new(PgLookup::new(app.pool.clone()));
    (
        Commands::new(&app.pool, &log, lookup),
        CommandMetadata::issued_by("executor:test"),
    )
}

#[tokio::test]
async fn what_the_executor_records_shows_through_the_api() {
    let app = TestApp::spawn().await;
    let strategy_id = create_strategy(&app, "Trend").await;
    let exchange_id = create_exchange(&app).await;
    let (commands, meta) = executor(&app);

    let id = run_backtest(&app, backtest_input(&strategy_id, &exchange_id)).await;
    commands
        .backtests
        .execute(
            &id.parse().expect("id"),
            BacktestCommand::StartBacktest {
                runtime_id: "anytrade-backtest-1".into(),
            },
            &meta,
        )
        .await
        .expect("start");
    let running = eventually(
        "backtest started",
        || backtest(&app, &id),
        |b| b["status"] == "RUNNING",
    )
    .await;
    assert_eq!(running["runtimeId"], "anytrade-backtest-1");
    assert!(running["startedAt"].is_string(), "{running}");
    assert!(running["completedAt"].is_null(), "{running}");
    assert_ne!(running["updatedAt"], running["createdAt"]);

    let results = json!({
        "total_trades": 42, "profit_total": 0.0523, "profit_total_abs": 52.3,
        "max_drawdown_account": 0.021, "sharpe": 1.8, "winrate": 0.65,
        "best_pair": { "key": "BTC/USDT", "profit_sum": 0.04 },
        "worst_pair": { "key": "ETH/USDT", "profit_sum": -0.01 },
    });
    commands
        .backtests
        .execute(
            &id.parse().expect("id"),
            BacktestCommand::CompleteBacktest {
                results: results.clone(),
            },
            &meta,
        )
        .await
        .expect("complete");
    let completed = eventually(
        "backtest completed",
        || backtest(&app, &id),
        |b| b["status"] == "COMPLETED",
    )
    .await;
    assert_eq!(completed["results"], results);
    assert_eq!(
        completed["summary"],
        json!({
            "totalTrades": 42, "profitTotal": 0.0523, "profitTotalAbs": 52.3,
            "maxDrawdown": 0.021, "sharpe": 1.8, "winRate": 0.65,
            "bestPair": "BTC/USDT", "worstPair": "ETH/USDT",
        })
    );
    assert!(completed["completedAt"].is_string(), "{completed}");
    assert_eq!(completed["startedAt"], running["startedAt"]);
    assert!(completed["errorMessage"].is_null());

    // Finished jobs cannot be cancelled; nothing is written.
    let before = app.event_count().await;
    let late = app
        .query_error(
            "mutation($id: ID!) { cancelBacktest(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code_and_field(&late), (Some("CONFLICT"), Some("status")));
    assert_eq!(app.event_count().await, before);

    // A failure shows its message.
    let failing = run_backtest(&app, backtest_input(&strategy_id, &exchange_id)).await;
    commands
        .backtests
        .execute(
            &failing.parse().expect("id"),
            BacktestCommand::FailBacktest {
                error: "no data for BTC/USDT".into(),
            },
            &meta,
        )
        .await
        .expect("fail");
    let failed = eventually(
        "backtest failed",
        || backtest(&app, &failing),
        |b| b["status"] == "FAILED",
    )
    .await;
    assert_eq!(failed["errorMessage"], "no data for BTC/USDT");
    assert!(failed["completedAt"].is_string());
    assert!(failed["results"].is_null() && failed["summary"].is_null());

    // A hyperopt reports progress while running, then its best parameters.
    let id = run_hyperopt(&app, hyperopt_input(&strategy_id, &exchange_id)).await;
    commands
        .hyperopts
        .execute(
            &id.parse().expect("id"),
            HyperoptCommand::StartHyperopt {
                runtime_id: "anytrade-hyperopt-1".into(),
            },
            &meta,
        )
        .await
        .expect("start");
    commands
        .hyperopts
        .execute(
            &id.parse().expect("id"),
            HyperoptCommand::ReportHyperoptProgress {
                progress: 42.5,
                epoch: Some(17),
            },
            &meta,
        )
        .await
        .expect("progress");
    let running = eventually(
        "hyperopt progress",
        || hyperopt(&app, &id),
        |h| h["progress"] == 42.5,
    )
    .await;
    assert_eq!(running["status"], "RUNNING");
    assert_eq!(running["epoch"], 17);
    assert_eq!(running["runtimeId"], "anytrade-hyperopt-1");
    assert!(running["startedAt"].is_string());

    let best = json!({ "best_epoch": 87, "parameters": { "buy_rsi": 28 } });
    commands
        .hyperopts
        .execute(
            &id.parse().expect("id"),
            HyperoptCommand::CompleteHyperopt {
                results: best.clone(),
            },
            &meta,
        )
        .await
        .expect("complete");
    let completed = eventually(
        "hyperopt completed",
        || hyperopt(&app, &id),
        |h| h["status"] == "COMPLETED",
    )
    .await;
    assert_eq!(completed["results"], best);
    assert_eq!(completed["progress"], 42.5);
    assert!(completed["completedAt"].is_string());

    // Deleting a running job cancels it first, and it leaves the list.
    let running_id = run_hyperopt(&app, hyperopt_input(&strategy_id, &exchange_id)).await;
    commands
        .hyperopts
        .execute(
            &running_id.parse().expect("id"),
            HyperoptCommand::StartHyperopt {
                runtime_id: "anytrade-hyperopt-2".into(),
            },
            &meta,
        )
        .await
        .expect("start");
    eventually(
        "second hyperopt started",
        || hyperopt(&app, &running_id),
        |h| h["status"] == "RUNNING",
    )
    .await;
    app.query(
        "mutation($id: ID!) { deleteHyperopt(id: $id) }",
        json!({ "id": running_id }),
    )
    .await;
    assert!(hyperopt(&app, &running_id).await.is_null());
}

#[tokio::test]
async fn bad_input_is_refused_with_its_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let strategy_id = create_strategy(&app, "Trend").await;
    let exchange_id = create_exchange(&app).await;
    let unknown = Uuid::now_v7().to_string();

    type Case = (&'static str, Value, &'static str, &'static str);
    let common: Vec<(Value, &str, &str)> = vec![
        (
            json!({ "startDate": "2024-03-01", "endDate": "2024-01-01" }),
            "VALIDATION",
            "endDate",
        ),
        (
            json!({ "startDate": "2024-1-5" }),
            "VALIDATION",
            "startDate",
        ),
        (json!({ "endDate": "2024-02-30" }), "VALIDATION", "endDate"),
        (json!({ "timeframe": "7m" }), "VALIDATION", "timeframe"),
        (
            json!({ "pairs": ["BTC/USDT", "eth/usdt"] }),
            "VALIDATION",
            "pairs[1]",
        ),
        (json!({ "pairs": [] }), "VALIDATION", "pairs"),
        (json!({ "stakeAmount": -5.0 }), "VALIDATION", "stakeAmount"),
        (json!({ "stakeAmount": 0.0 }), "VALIDATION", "stakeAmount"),
        (
            json!({ "stakeCurrency": "usdt" }),
            "VALIDATION",
            "stakeCurrency",
        ),
        (json!({ "config": [1] }), "VALIDATION", "config"),
        (
            json!({ "config": { "exchange": { "key": "k" } } }),
            "VALIDATION",
            "config.exchange.key",
        ),
        (json!({ "strategyId": "nope" }), "VALIDATION", "strategyId"),
        (json!({ "strategyId": unknown }), "NOT_FOUND", "strategyId"),
        (json!({ "exchangeId": "nope" }), "VALIDATION", "exchangeId"),
        (json!({ "exchangeId": unknown }), "NOT_FOUND", "exchangeId"),
    ];
    let mut cases: Vec<Case> = Vec::new();
    for (change, code, field) in &common {
        cases.push(("backtest", change.clone(), code, field));
        cases.push(("hyperopt", change.clone(), code, field));
    }
    cases.extend([
        ("hyperopt", json!({ "epochs": 0 }), "VALIDATION", "epochs"),
        (
            "hyperopt",
            json!({ "epochs": 10001 }),
            "VALIDATION",
            "epochs",
        ),
        ("hyperopt", json!({ "epochs": -1 }), "VALIDATION", "epochs"),
        ("hyperopt", json!({ "spaces": [] }), "VALIDATION", "spaces"),
    ]);

    let before = app.event_count().await;
    for (kind, change, code, field) in cases {
        let (mut input, mutation) = if kind == "backtest" {
            (backtest_input(&strategy_id, &exchange_id), RUN_BACKTEST)
        } else {
            (hyperopt_input(&strategy_id, &exchange_id), RUN_HYPEROPT)
        };
        for (key, value) in change.as_object().expect("changes") {
            input[key] = value.clone();
        }
        let error = app.query_error(mutation, json!({ "input": input })).await;
        assert_eq!(
            code_and_field(&error),
            (Some(code), Some(field)),
            "{kind} {change}: {error}"
        );
    }
    assert_eq!(
        app.event_count().await,
        before,
        "refused requests wrote events"
    );
    let lists = app
        .query(
            "{ backtests { totalCount } hyperopts { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        lists,
        json!({ "backtests": { "totalCount": 0 }, "hyperopts": { "totalCount": 0 } })
    );
}

#[tokio::test]
async fn viewers_list_jobs_but_may_not_run_or_cancel_them() {
    let app = TestApp::spawn().await;
    let strategy_id = create_strategy(&app, "Trend").await;
    let exchange_id = create_exchange(&app).await;
    let backtest_id = run_backtest(&app, backtest_input(&strategy_id, &exchange_id)).await;
    let hyperopt_id = run_hyperopt(&app, hyperopt_input(&strategy_id, &exchange_id)).await;

    let (status, body) = app
        .graphql_as(
            Some(&app.viewer),
            "query($b: ID!, $h: ID!) { backtests { totalCount edges { node { id strategy { name } } } }
               hyperopts { totalCount } backtest(id: $b) { status } hyperopt(id: $h) { status } }",
            json!({ "b": backtest_id, "h": hyperopt_id }),
        )
        .await;
    assert_eq!(status, 200);
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["backtests"]["totalCount"], 1);
    assert_eq!(
        body["data"]["backtests"]["edges"][0]["node"]["strategy"]["name"],
        "Trend"
    );
    assert_eq!(body["data"]["hyperopts"]["totalCount"], 1);
    assert_eq!(body["data"]["backtest"]["status"], "PENDING");

    let before = app.event_count().await;
    let attempts = [
        (
            RUN_BACKTEST,
            json!({ "input": backtest_input(&strategy_id, &exchange_id) }),
        ),
        (
            RUN_HYPEROPT,
            json!({ "input": hyperopt_input(&strategy_id, &exchange_id) }),
        ),
        (
            "mutation($id: ID!) { cancelBacktest(id: $id) }",
            json!({ "id": backtest_id }),
        ),
        (
            "mutation($id: ID!) { deleteHyperopt(id: $id) }",
            json!({ "id": hyperopt_id }),
        ),
    ];
    for (mutation, variables) in attempts {
        let (_, body) = app.graphql_as(Some(&app.viewer), mutation, variables).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{mutation}: {body}"
        );
    }
    assert_eq!(app.event_count().await, before, "viewers wrote events");
}

const BACKTEST_PAGE: &str = "query($strategyId: ID, $filter: BacktestFilter, $orderBy: BacktestOrder, $first: Int, $after: String) {
    backtests(strategyId: $strategyId, filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id status } } } }";

const HYPEROPT_PAGE: &str = "query($strategyId: ID, $filter: HyperOptFilter, $orderBy: HyperOptOrder, $first: Int, $after: String) {
    hyperopts(strategyId: $strategyId, filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id status } } } }";

/// Follows `endCursor` from the first page to the last, `first` at a time; returns the
/// ids in order and checks totalCount and pageInfo on every page.
async fn walk(
    app: &TestApp,
    query: &str,
    list: &str,
    mut variables: Value,
    first: i64,
) -> Vec<String> {
    variables["first"] = json!(first);
    let mut ids = Vec::new();
    let mut total = None;
    let mut after: Option<String> = None;
    loop {
        variables["after"] = json!(after);
        let page = app.query(query, variables.clone()).await[list].clone();
        let count = page["totalCount"].as_i64().expect("totalCount");
        assert_eq!(
            *total.get_or_insert(count),
            count,
            "totalCount changed between pages"
        );
        assert_eq!(page["pageInfo"]["hasPreviousPage"], after.is_some());
        let edges = page["edges"].as_array().expect("edges");
        assert!(edges.len() as i64 <= first);
        ids.extend(
            edges
                .iter()
                .map(|e| e["node"]["id"].as_str().expect("id").to_owned()),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        assert_eq!(edges.len() as i64, first, "a page before the last is full");
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        assert_eq!(
            after.as_deref(),
            edges.last().and_then(|e| e["cursor"].as_str()),
            "endCursor is the last edge's cursor"
        );
    }
    assert_eq!(
        total,
        Some(ids.len() as i64),
        "totalCount matches the rows walked"
    );
    ids
}

#[tokio::test]
async fn lists_filter_by_strategy_and_status_across_pages() {
    let app = TestApp::spawn().await;
    let a = create_strategy(&app, "A").await;
    let b = create_strategy(&app, "B").await;
    let exchange_id = create_exchange(&app).await;

    // Interleaved, oldest first: a0 b0 a1 a2 b1 a3 a4; a1 and a3 cancelled.
    let mut all = Vec::new();
    let mut of_a = Vec::new();
    for strategy in [&a, &b, &a, &a, &b, &a, &a] {
        let id = run_backtest(&app, backtest_input(strategy, &exchange_id)).await;
        if strategy == &a {
            of_a.push(id.clone());
        }
        all.push(id);
    }
    for cancelled in [&of_a[1], &of_a[3]] {
        app.query(
            "mutation($id: ID!) { cancelBacktest(id: $id) }",
            json!({ "id": cancelled }),
        )
        .await;
    }
    let ids = |pick: &dyn Fn(&str) -> bool| -> Vec<String> {
        all.iter().filter(|id| pick(id)).cloned().collect()
    };
    let is_cancelled = |id: &str| id == of_a[1] || id == of_a[3];
    let oldest_first = ids(&|_| true);

    assert_eq!(
        walk(&app, BACKTEST_PAGE, "backtests", json!({}), 3).await,
        oldest_first
    );
    assert_eq!(
        walk(
            &app,
            BACKTEST_PAGE,
            "backtests",
            json!({ "strategyId": a }),
            2
        )
        .await,
        of_a
    );
    let pending_a: Vec<String> = of_a
        .iter()
        .filter(|id| !is_cancelled(id))
        .cloned()
        .collect();
    assert_eq!(
        walk(
            &app,
            BACKTEST_PAGE,
            "backtests",
            json!({ "strategyId": a, "filter": { "status": "PENDING" } }),
            2
        )
        .await,
        pending_a
    );
    assert_eq!(
        walk(
            &app,
            BACKTEST_PAGE,
            "backtests",
            json!({ "strategyId": b, "filter": { "status": ["CANCELLED"] } }),
            2
        )
        .await,
        Vec::<String>::new()
    );
    assert_eq!(
        walk(
            &app,
            BACKTEST_PAGE,
            "backtests",
            json!({ "filter": { "status": ["CANCELLED", "COMPLETED"] } }),
            1
        )
        .await,
        ids(&|id| is_cancelled(id))
    );

    // Newest first, and by status in lifecycle order (PENDING before CANCELLED, though
    // "cancelled" sorts first alphabetically), ties by age.
    let mut newest_first = oldest_first.clone();
    newest_first.reverse();
    assert_eq!(
        walk(
            &app,
            BACKTEST_PAGE,
            "backtests",
            json!({ "orderBy": { "field": "CREATED_AT", "direction": "DESC" } }),
            2
        )
        .await,
        newest_first
    );
    let mut by_status = ids(&|id| !is_cancelled(id));
    by_status.extend(ids(&|id| is_cancelled(id)));
    assert_eq!(
        walk(
            &app,
            BACKTEST_PAGE,
            "backtests",
            json!({ "orderBy": { "field": "STATUS" } }),
            2
        )
        .await,
        by_status
    );
    let mut by_status_desc = by_status.clone();
    by_status_desc.reverse();
    assert_eq!(
        walk(
            &app,
            BACKTEST_PAGE,
            "backtests",
            json!({ "orderBy": { "field": "STATUS", "direction": "DESC" } }),
            3
        )
        .await,
        by_status_desc
    );

    // A cursor only works with the order that issued it.
    let first = app
        .query(
            BACKTEST_PAGE,
            json!({ "orderBy": { "field": "STATUS" }, "first": 1 }),
        )
        .await;
    let cursor = first["backtests"]["pageInfo"]["endCursor"].clone();
    let foreign = app
        .query_error(BACKTEST_PAGE, json!({ "first": 1, "after": cursor }))
        .await;
    assert_eq!(
        code_and_field(&foreign),
        (Some("VALIDATION"), Some("after"))
    );
    let bad = app
        .query_error(BACKTEST_PAGE, json!({ "strategyId": "nope" }))
        .await;
    assert_eq!(
        code_and_field(&bad),
        (Some("VALIDATION"), Some("strategyId"))
    );
    let too_many = app
        .query_error(BACKTEST_PAGE, json!({ "first": 101 }))
        .await;
    assert_eq!(
        code_and_field(&too_many),
        (Some("VALIDATION"), Some("first"))
    );

    // Hyperopts list the same way.
    let mut hyperopts_of_a = Vec::new();
    for strategy in [&a, &b, &a, &a] {
        let id = run_hyperopt(&app, hyperopt_input(strategy, &exchange_id)).await;
        if strategy == &a {
            hyperopts_of_a.push(id);
        }
    }
    app.query(
        "mutation($id: ID!) { cancelHyperopt(id: $id) }",
        json!({ "id": hyperopts_of_a[0] }),
    )
    .await;
    assert_eq!(
        walk(
            &app,
            HYPEROPT_PAGE,
            "hyperopts",
            json!({ "strategyId": a }),
            2
        )
        .await,
        hyperopts_of_a
    );
    assert_eq!(
        walk(
            &app,
            HYPEROPT_PAGE,
            "hyperopts",
            json!({ "strategyId": a, "filter": { "status": "PENDING" } }),
            1
        )
        .await,
        hyperopts_of_a[1..].to_vec()
    );
    let mut newest = hyperopts_of_a.clone();
    newest.reverse();
    assert_eq!(
        walk(
            &app,
            HYPEROPT_PAGE,
            "hyperopts",
            json!({ "strategyId": a, "orderBy": { "direction": "DESC" } }),
            2
        )
        .await,
        newest
    );
    let total = app.query(HYPEROPT_PAGE, json!({ "first": 0 })).await;
    assert_eq!(total["hyperopts"]["totalCount"], 4);
    assert_eq!(total["hyperopts"]["edges"], json!([]));
    assert_eq!(total["hyperopts"]["pageInfo"]["hasNextPage"], true);
}
