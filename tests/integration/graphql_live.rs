//! Dashboard subscriptions: a bot's status changes and its trades reach subscribers,
//! each showing the state after the change.

use anytrade::store::CommandMetadata;
use anytrade_aggregates::{
    BacktestCommand, BotCommand, HyperoptCommand, TradeCommand, TradeOpening, trade_aggregate_id,
};
use serde_json::{Value, json};

use crate::app::TestApp;
use crate::graphql_subscriptions::{Socket, connect, next, send};

pub async fn create_bot(app: &TestApp) -> String {
    let exchange = app
        .query(
            r#"mutation { createExchange(input: { name: "binance" }) { id } }"#,
            json!({}),
        )
        .await["createExchange"]["id"]
        .clone();
    let strategy = app
        .query(
            "mutation($code: String!) { createStrategy(input: { name: \"live\", code: $code }) { id } }",
            json!({ "code": "from freqtrade.strategy import IStrategy\n\nclass Live(IStrategy):\n    pass\n" }),
        )
        .await["createStrategy"]["id"]
        .clone();
    app.query(
        "mutation($e: ID!, $s: ID!) { createBot(input: { name: \"live-bot\", exchangeId: $e, strategyId: $s, mode: DRY_RUN }) { id } }",
        json!({ "e": exchange, "s": strategy }),
    )
    .await["createBot"]["id"]
    .as_str()
    .expect("bot id")
    .to_owned()
}

/// A `graphql-transport-ws` connection authenticated as the viewer.
pub(crate) async fn viewer_socket(app: &TestApp) -> Socket {
    let auth = json!({ "Authorization": format!("Bearer {}", app.viewer) });
    let mut socket = connect(app, "graphql-transport-ws", auth).await;
    let ack = next(&mut socket).await.expect("ack");
    assert_eq!(ack["type"], "connection_ack");
    socket
}

pub(crate) async fn subscribe(socket: &mut Socket, id: &str, query: &str, variables: Value) {
    let message = json!({ "id": id, "type": "subscribe",
        "payload": { "query": query, "variables": variables } });
    send(socket, message).await;
}

async fn next_data(socket: &mut Socket, field: &str) -> Value {
    let message = next(socket).await.expect("a message arrives");
    assert_eq!(message["type"], "next", "{message}");
    message["payload"]["data"][field].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_status_changes_and_trades_reach_subscribers() {
    let app = TestApp::spawn().await;
    let bot = create_bot(&app).await;
    let mut socket = viewer_socket(&app).await;
    subscribe(
        &mut socket,
        "status",
        "subscription($bot: ID) { botStatusChanged(botId: $bot) { id status apiUrl } }",
        json!({ "bot": bot }),
    )
    .await;
    subscribe(
        &mut socket,
        "trades",
        "subscription($bot: ID!) { botTrades(botId: $bot) { freqtradeTradeId pair isOpen botId } }",
        json!({ "bot": bot }),
    )
    .await;
    app.wait_for_subscribers(2).await;

    let commands = app.commands();
    let meta = CommandMetadata::issued_by("system:test-runtime");
    commands
        .bots
        .execute(
            &bot.parse().expect("id"),
            BotCommand::ConfirmBotProvisioned {
                runtime_id: "pid-7".into(),
            },
            &meta,
        )
        .await
        .expect("provisioned");
    let update = next_data(&mut socket, "botStatusChanged").await;
    assert_eq!(
        (update["id"].as_str(), update["status"].as_str()),
        (Some(bot.as_str()), Some("STOPPED"))
    );

    app.query(
        "mutation($id: ID!) { startBot(id: $id) { status } }",
        json!({ "id": bot }),
    )
    .await;
    assert_eq!(
        next_data(&mut socket, "botStatusChanged").await["status"],
        "STARTING"
    );

    let opening = TradeOpening {
        bot_id: bot.parse().expect("uuid"),
        trade_id: 1,
        pair: "ETH/USDT".into(),
        open_date: chrono::Utc::now(),
        open_rate: 3000.0,
        amount: 0.05,
        stake_amount: 150.0,
        strategy_name: "Live".into(),
        timeframe_minutes: 5,
    };
    commands
        .trades
        .execute(
            &trade_aggregate_id(opening.bot_id, 1),
            TradeCommand::RecordTradeOpened { opening },
            &meta,
        )
        .await
        .expect("trade");
    let trade = next_data(&mut socket, "botTrades").await;
    assert_eq!(
        trade,
        json!({ "freqtradeTradeId": 1, "pair": "ETH/USDT", "isOpen": true, "botId": bot })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyperopt_progress_and_backtest_updates_reach_subscribers() {
    let app = TestApp::spawn().await;
    let strategy = app
        .query(
            "mutation($code: String!) { createStrategy(input: { name: \"jobs\", code: $code }) { id } }",
            json!({ "code": "from freqtrade.strategy import IStrategy\n\nclass Jobs(IStrategy):\n    pass\n" }),
        )
        .await["createStrategy"]["id"]
        .clone();
    let exchange = crate::graphql_bots::create_exchange(&app).await;
    let job = || {
        json!({ "strategyId": strategy, "exchangeId": exchange, "startDate": "2026-01-01", "endDate": "2026-02-01",
                "timeframe": "5m", "stakeAmount": 10.0, "stakeCurrency": "USDT", "pairs": ["BTC/USDT"] })
    };
    let mut hyperopt_input = job();
    hyperopt_input["epochs"] = json!(50);
    hyperopt_input["spaces"] = json!(["BUY"]);
    hyperopt_input["optimizationMetric"] = json!("SHARPE");
    let hyperopt = app
        .query(
            "mutation($i: RunHyperoptInput!) { runHyperopt(input: $i) { id } }",
            json!({ "i": hyperopt_input }),
        )
        .await["runHyperopt"]["id"]
        .as_str()
        .expect("hyperopt id")
        .to_owned();
    let backtest_input = job();
    let backtest = app
        .query(
            "mutation($i: RunBacktestInput!) { runBacktest(input: $i) { id } }",
            json!({ "i": backtest_input }),
        )
        .await["runBacktest"]["id"]
        .as_str()
        .expect("backtest id")
        .to_owned();

    let mut socket = viewer_socket(&app).await;
    subscribe(
        &mut socket,
        "h",
        "subscription($id: ID!) { hyperoptProgress(id: $id) { status progress epoch } }",
        json!({ "id": hyperopt }),
    )
    .await;
    subscribe(
        &mut socket,
        "b",
        "subscription($id: ID!) { backtestUpdated(id: $id) { status runtimeId } }",
        json!({ "id": backtest }),
    )
    .await;
    app.wait_for_subscribers(2).await;

    let commands = app.commands();
    let meta = CommandMetadata::issued_by("system:test-executor");
    commands
        .hyperopts
        .execute(
            &hyperopt.parse().expect("id"),
            HyperoptCommand::StartHyperopt {
                runtime_id: "job-h".into(),
            },
            &meta,
        )
        .await
        .expect("start");
    assert_eq!(
        next_data(&mut socket, "hyperoptProgress").await["status"],
        "RUNNING"
    );
    commands
        .hyperopts
        .execute(
            &hyperopt.parse().expect("id"),
            HyperoptCommand::ReportHyperoptProgress {
                progress: 12.0,
                epoch: Some(6),
            },
            &meta,
        )
        .await
        .expect("progress");
    let progress = next_data(&mut socket, "hyperoptProgress").await;
    assert_eq!(
        (progress["progress"].as_f64(), progress["epoch"].as_i64()),
        (Some(12.0), Some(6))
    );
    commands
        .backtests
        .execute(
            &backtest.parse().expect("id"),
            BacktestCommand::StartBacktest {
                runtime_id: "job-b".into(),
            },
            &meta,
        )
        .await
        .expect("start backtest");
    let update = next_data(&mut socket, "backtestUpdated").await;
    assert_eq!(
        (update["status"].as_str(), update["runtimeId"].as_str()),
        (Some("RUNNING"), Some("job-b"))
    );
}
