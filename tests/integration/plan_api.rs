//! A client written against the seed plan's GraphQL schema (`PLAN.md`, "GraphQL API
//! Design"), with its input shapes exactly: a bot's `stakeAmount` as a Float, jobs
//! without `exchangeId`, and a bot started right after it was created.

use serde_json::{Value, json};

use crate::app::TestApp;

const CODE: &str = "from freqtrade.strategy import IStrategy\n\nclass PlanStrategy(IStrategy):\n    timeframe = '5m'\n";

async fn create_exchange(app: &TestApp, name: &str) -> String {
    app.query(
        "mutation($name: String!) { createExchange(input: { name: $name }) { id } }",
        json!({ "name": name }),
    )
    .await["createExchange"]["id"]
        .as_str()
        .expect("exchange id")
        .to_owned()
}

const CREATE_BOT: &str = "mutation($input: CreateBotInput!) {
    createBot(input: $input) { id status config { stakeAmount maxOpenTrades pairs timeframe } } }";

const RUN_BACKTEST: &str = "mutation($input: RunBacktestInput!) {
    runBacktest(input: $input) { id status exchangeId } }";

const RUN_HYPEROPT: &str = "mutation($input: RunHyperoptInput!) {
    runHyperopt(input: $input) { id status exchangeId epochs } }";

fn backtest_input(strategy: &str) -> Value {
    json!({
        "strategyId": strategy, "startDate": "2026-01-01", "endDate": "2026-02-01",
        "timeframe": "5m", "stakeAmount": 100.0, "stakeCurrency": "USDT",
        "pairs": ["BTC/USDT"], "config": {}
    })
}

#[tokio::test]
async fn a_client_of_the_plans_schema_works_as_written() {
    let app = TestApp::spawn().await;
    let exchange = create_exchange(&app, "binance").await;
    let strategy = app
        .query(
            "mutation($code: String!) { createStrategy(input: { name: \"Plan\", code: $code }) { id } }",
            json!({ "code": CODE }),
        )
        .await["createStrategy"]["id"]
        .as_str()
        .expect("strategy id")
        .to_owned();

    // CreateBotInput and BotConfigInput as the plan writes them: stakeAmount is a Float.
    let input = json!({
        "name": "plan bot", "exchangeId": exchange, "strategyId": strategy, "mode": "DRY_RUN",
        "config": {
            "maxOpenTrades": 3, "stakeAmount": 50, "pairs": ["BTC/USDT"],
            "timeframe": "5m", "dryRun": true
        },
        "freqtradeVersion": "2026.9"
    });
    let bot = app.query(CREATE_BOT, json!({ "input": input })).await["createBot"].clone();
    assert_eq!(bot["status"], "CREATING");
    assert_eq!(
        bot["config"],
        json!({ "stakeAmount": "50", "maxOpenTrades": 3, "pairs": ["BTC/USDT"], "timeframe": "5m" })
    );
    let id = bot["id"].as_str().expect("bot id");

    // startBot right after createBot: recorded as wanted, not refused.
    let started = app
        .query(
            "mutation($id: ID!) { startBot(id: $id) { status wantedStatus } }",
            json!({ "id": id }),
        )
        .await["startBot"]
        .clone();
    assert_eq!(
        started,
        json!({ "status": "CREATING", "wantedStatus": "RUNNING" })
    );

    // Other stakes: "unlimited" and a small amount as a number are taken; a negative
    // one is refused naming the field, and writes nothing.
    let stakes = [
        (json!("unlimited"), "unlimited"),
        (json!(0.00001), "0.00001"),
    ];
    for (n, (stake, shown)) in stakes.into_iter().enumerate() {
        let input = json!({ "name": format!("stake {n}"), "exchangeId": exchange,
            "strategyId": strategy, "mode": "DRY_RUN", "config": { "stakeAmount": stake } });
        let bot = app.query(CREATE_BOT, json!({ "input": input })).await["createBot"].clone();
        assert_eq!(bot["config"]["stakeAmount"], shown, "{stake}");
    }
    let before = app.event_count().await;
    let negative = json!({ "name": "negative", "exchangeId": exchange, "strategyId": strategy,
        "mode": "DRY_RUN", "config": { "stakeAmount": -5 } });
    let error = app
        .query_error(CREATE_BOT, json!({ "input": negative }))
        .await;
    assert_eq!(error["code"], "VALIDATION", "{error}");
    assert_eq!(error["field"], "config.stakeAmount", "{error}");
    assert_eq!(app.event_count().await, before);

    // Jobs without exchangeId: the only exchange is used.
    let backtest = app
        .query(RUN_BACKTEST, json!({ "input": backtest_input(&strategy) }))
        .await["runBacktest"]
        .clone();
    assert_eq!(backtest["status"], "PENDING");
    assert_eq!(backtest["exchangeId"], exchange.as_str());
    let hyperopt = json!({
        "strategyId": strategy, "epochs": 10, "startDate": "2026-01-01",
        "endDate": "2026-02-01", "timeframe": "5m", "stakeAmount": 100.0,
        "stakeCurrency": "USDT", "pairs": ["BTC/USDT"], "optimizationMetric": "SHARPE",
        "spaces": ["BUY", "SELL"], "config": null
    });
    let hyperopt =
        app.query(RUN_HYPEROPT, json!({ "input": hyperopt })).await["runHyperopt"].clone();
    assert_eq!(hyperopt["exchangeId"], exchange.as_str());
    assert_eq!(hyperopt["epochs"], 10);

    // With two exchanges, leaving it out is refused naming exchangeId.
    create_exchange(&app, "kraken").await;
    let before = app.event_count().await;
    let error = app
        .query_error(RUN_BACKTEST, json!({ "input": backtest_input(&strategy) }))
        .await;
    assert_eq!(error["code"], "VALIDATION", "{error}");
    assert_eq!(error["field"], "exchangeId", "{error}");
    assert_eq!(app.event_count().await, before);
}
