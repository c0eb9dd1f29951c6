//! The trade sync against a real dry-run freqtrade bot trading on the exchange
//! simulator: its trades appear in `trades(botId)` within a sync interval, with their
//! current values while open; `closeTrade` closes one through `/forceexit`; a re-sync
//! records nothing new.

use std::time::Duration;

use serde_json::{Value, json};

use crate::app::TestApp;
use crate::bot_lifecycle::{
    START_WITHIN, act, create_bot, managing_app, sandbox_exchange, strategy, wait_for_status,
};
use crate::graphql_live::{subscribe, viewer_socket};
use crate::graphql_subscriptions::next;
use crate::helpers::poll_until;
use crate::sandbox::{ALWAYS_ENTER, simulator};

const TRADES: &str =
    "query($bot: ID!) { trades(botId: $bot, first: 100) { totalCount edges { node {
    freqtradeTradeId pair isOpen openRate closeRate profitAbs exitReason
    currentRate currentProfitRatio } } } }";

async fn trades(app: &TestApp, bot: &str) -> Vec<Value> {
    let data = app.query(TRADES, json!({ "bot": bot })).await;
    data["trades"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

async fn wait_for_trades(
    app: &TestApp,
    log_dir: &std::path::Path,
    bot: &str,
    what: &str,
    accept: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let every = Duration::from_millis(500);
    poll_until(Duration::from_secs(90), every, || async {
        let trades = trades(app, bot).await;
        if accept(&trades) {
            return Ok(trades);
        }
        let log = std::fs::read_to_string(log_dir.join(format!("{bot}.log"))).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        Err(format!(
            "{what}: {trades:#?}\nbot log (last lines first): {tail:#?}"
        ))
    })
    .await
}

async fn trade_events(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type = 'trade'")
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_bots_trades_are_synced_and_closed() {
    let data = tempfile::tempdir().expect("data dir");
    let _reaper = crate::sandbox::Reaper(data.path().to_owned());
    let simulator = simulator().await;
    let app = managing_app(data.path(), |settings| {
        settings.monitor.trade_sync_interval_secs = 2;
    })
    .await;
    let exchange = sandbox_exchange(&app, &simulator).await;
    let strategy = strategy(&app, "always enter", ALWAYS_ENTER).await;
    let config = crate::sandbox::market_orders(&["BTC/USDT", "ETH/USDT"], 2);
    let id = create_bot(&app, "trader", &exchange, &strategy, config).await;
    wait_for_status(&app, &id, "STOPPED", Duration::from_secs(600)).await;
    act(&app, "startBot", &id).await;
    wait_for_status(&app, &id, "RUNNING", START_WITHIN).await;
    // A dashboard follows the bot's trades live.
    let mut socket = viewer_socket(&app).await;
    subscribe(
        &mut socket,
        "trades",
        "subscription($bot: ID!) { botTrades(botId: $bot) { freqtradeTradeId pair isOpen } }",
        json!({ "bot": id }),
    )
    .await;
    app.wait_for_subscribers(1).await;

    // The bot enters on both pairs; the sync records the trades, and the current
    // values of those whose entry filled.
    let open = wait_for_trades(
        &app,
        &data.path().join("local/logs"),
        &id,
        "two trades, one filled",
        |trades| {
            trades.len() >= 2
                && trades
                    .iter()
                    .any(|t| t["isOpen"] == true && t["currentRate"].is_number())
        },
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let live = loop {
        if let Some(message) = next(&mut socket).await {
            break message;
        }
        assert!(tokio::time::Instant::now() < deadline, "no live trade");
    };
    assert_eq!(live["type"], "next", "{live}");
    let live_trade = &live["payload"]["data"]["botTrades"];
    assert!(live_trade["freqtradeTradeId"].is_i64(), "{live}");
    assert!(
        open.iter()
            .any(|t| t["freqtradeTradeId"] == live_trade["freqtradeTradeId"]),
        "the live trade is one of the synced ones: {live_trade}"
    );
    let first = open
        .iter()
        .find(|t| t["isOpen"] == true && t["currentRate"].is_number())
        .and_then(|t| t["freqtradeTradeId"].as_i64())
        .expect("a filled open trade");

    // closeTrade exits it through freqtrade; the next sync shows it closed.
    let answered = app
        .query(
            "mutation($bot: ID!, $trade: Int!) { closeTrade(botId: $bot, tradeId: $trade) { freqtradeTradeId isOpen } }",
            json!({ "bot": id, "trade": first }),
        )
        .await;
    assert_eq!(answered["closeTrade"]["freqtradeTradeId"], first);
    let after = wait_for_trades(
        &app,
        &data.path().join("local/logs"),
        &id,
        "the closed trade",
        |trades| {
            trades
                .iter()
                .any(|t| t["freqtradeTradeId"] == first && t["isOpen"] == false)
        },
    )
    .await;
    let closed = after
        .iter()
        .find(|t| t["freqtradeTradeId"] == first)
        .expect("closed trade");
    assert_eq!(closed["exitReason"], "force_exit", "{closed}");
    assert!(closed["closeRate"].is_number() && closed["profitAbs"].is_number());
    assert_eq!(
        closed["currentRate"],
        Value::Null,
        "a closed trade has no mark"
    );

    // Re-syncs (every 2 s here, and on request) never record a trade's opening or
    // closing twice.
    let synced = app
        .query(
            "mutation($bot: ID!) { syncTrades(botId: $bot) { requested } }",
            json!({ "bot": id }),
        )
        .await;
    assert_eq!(synced["syncTrades"]["requested"], true);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let recorded_ids: Vec<i64> = trades(&app, &id)
        .await
        .iter()
        .map(|t| t["freqtradeTradeId"].as_i64().expect("id"))
        .collect();
    let mut unique = recorded_ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), recorded_ids.len(), "each trade once");
    assert!(
        trade_events(&app).await >= 3,
        "two openings and a closing at least"
    );
    let per_trade: Vec<(String, i64)> = sqlx::query_as(
        "SELECT aggregate_id, count(*) FROM events WHERE aggregate_type = 'trade'
          GROUP BY aggregate_id HAVING count(*) > 2",
    )
    .fetch_all(&app.pool)
    .await
    .expect("per trade");
    assert!(per_trade.is_empty(), "{per_trade:?}");

    // botMetrics carries freqtrade's own summary beside AnyTrade's figures; once a
    // sync has read both after the same trades, they agree.
    let metrics = agreeing_metrics(&app, &id).await;
    let own = &metrics["freqtrade"];
    assert!(own["closedTradeCount"].as_i64() >= Some(1), "{metrics}");
    assert!(own["profitAllCoin"].is_number() && own["updatedAt"].is_string());

    act(&app, "deleteBot", &id).await;
    // Trades stay when their bot is deleted.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!trades(&app, &id).await.is_empty());
}

/// The bot's metrics once freqtrade's summary and the recorded trades agree on the
/// closed trades (a sync reads the summary right after the trades).
async fn agreeing_metrics(app: &TestApp, bot: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let metrics = app
            .query(
                "query($bot: ID!) { botMetrics(botId: $bot) {
                    closedTradeCount profitClosedAbs
                    freqtrade { closedTradeCount profitClosedCoin profitAllCoin updatedAt }
                 } }",
                json!({ "bot": bot }),
            )
            .await["botMetrics"]
            .clone();
        let own = &metrics["freqtrade"];
        let closed_agree = own["closedTradeCount"] == metrics["closedTradeCount"];
        let profit_agrees = match (
            own["profitClosedCoin"].as_f64(),
            metrics["profitClosedAbs"].as_f64(),
        ) {
            (Some(theirs), Some(ours)) => (theirs - ours).abs() < 1e-6,
            _ => false,
        };
        if closed_agree && profit_agrees {
            return metrics;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "freqtrade's summary never matched the recorded trades: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
