//! botMetrics and strategyPerformance from recorded trades and backtests.

use anytrade::store::CommandMetadata;
use anytrade_aggregates::values::BotId;
use anytrade_aggregates::{
    BacktestCommand, TradeClosing, TradeCommand, TradeOpening, trade_aggregate_id,
};
use chrono::{Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::app::TestApp;

#[tokio::test]
async fn metrics_add_up_the_recorded_trades() {
    let app = TestApp::spawn().await;
    let bot = crate::graphql_live::create_bot(&app).await;
    let strategy = app
        .query(
            "query($id: ID!) { bot(id: $id) { strategy { id } } }",
            json!({ "id": bot }),
        )
        .await["bot"]["strategy"]["id"]
        .as_str()
        .expect("strategy")
        .to_owned();
    let commands = app.commands();
    let meta = CommandMetadata::issued_by("system:trade-sync");
    let bot_id: Uuid = bot.parse().expect("uuid");
    let start = Utc::now() - Duration::days(1);
    let profits = [
        (1, "BTC/USDT", 10.0),
        (2, "ETH/USDT", -4.0),
        (3, "BTC/USDT", 2.0),
        (4, "ETH/USDT", -7.0),
    ];
    let opening = |trade_id: i64, pair: &str| TradeOpening {
        bot_id: BotId::from(bot_id),
        trade_id,
        pair: pair.into(),
        open_date: start + Duration::hours(trade_id),
        open_rate: 100.0,
        amount: 1.0,
        stake_amount: 100.0,
        strategy_name: "Live".into(),
        timeframe_minutes: 5,
    };
    for (trade_id, pair, profit) in profits {
        let closing = TradeClosing {
            close_date: start + Duration::hours(trade_id) + Duration::minutes(30),
            close_rate: 100.0 + profit,
            profit_abs: profit,
            profit_ratio: profit / 100.0,
            exit_reason: "roi".into(),
        };
        commands
            .trades
            .execute(
                &trade_aggregate_id(BotId::from(bot_id), trade_id),
                TradeCommand::RecordTradeClosed {
                    opening: opening(trade_id, pair),
                    closing,
                },
                &meta,
            )
            .await
            .expect("closed trade");
    }
    commands
        .trades
        .execute(
            &trade_aggregate_id(BotId::from(bot_id), 5),
            TradeCommand::RecordTradeOpened {
                opening: opening(5, "SOL/USDT"),
            },
            &meta,
        )
        .await
        .expect("open trade");
    // What the trade sync last read of the open trade's profit.
    sqlx::query(
        "INSERT INTO trade_marks (bot_id, freqtrade_trade_id, current_rate, profit_ratio,
                                  profit_abs, updated_at)
         VALUES ($1, 5, 101.5, 0.015, 2.5, now())",
    )
    .bind(uuid::Uuid::parse_str(&bot).expect("bot id"))
    .execute(&app.pool)
    .await
    .expect("mark");

    let backtest = app
        .query(
            "mutation($s: ID!, $x: ID!) { runBacktest(input: { strategyId: $s, exchangeId: $x, startDate: \"2026-01-01\", endDate: \"2026-02-01\", timeframe: \"5m\", stakeAmount: 10, stakeCurrency: \"USDT\", pairs: [\"BTC/USDT\"] }) { id } }",
            json!({ "s": strategy, "x": crate::graphql_bots::create_exchange(&app).await }),
        )
        .await["runBacktest"]["id"]
        .as_str()
        .expect("backtest")
        .to_owned();
    commands
        .backtests
        .execute(
            &backtest.parse().expect("id"),
            BacktestCommand::StartBacktest {
                runtime_id: "job".into(),
            },
            &meta,
        )
        .await
        .expect("start");
    commands
        .backtests
        .execute(
            &backtest.parse().expect("id"),
            BacktestCommand::CompleteBacktest {
                results: json!({ "profit_total": 0.05 }),
            },
            &meta,
        )
        .await
        .expect("complete");

    const STATS: &str = "tradeCount openTradeCount closedTradeCount winningTrades losingTrades winRate profitClosedAbs profitOpenAbs profitTotalAbs maxDrawdownAbs bestPair worstPair";
    let expected = json!({
        "tradeCount": 5, "openTradeCount": 1, "closedTradeCount": 4, "winningTrades": 2,
        "losingTrades": 2, "winRate": 0.5, "profitClosedAbs": 1.0, "profitOpenAbs": 2.5,
        "profitTotalAbs": 3.5, "maxDrawdownAbs": 9.0,
        "bestPair": "BTC/USDT", "worstPair": "ETH/USDT"
    });
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let metrics = app
            .query(
                &format!("query($b: ID!) {{ botMetrics(botId: $b) {{ {STATS} }} }}"),
                json!({ "b": bot }),
            )
            .await;
        let performance = app
            .query(
                &format!("query($s: ID!) {{ strategyPerformance(strategyId: $s) {{ botCount live {{ {STATS} }} backtests {{ backtestCount completedBackTests: completedBacktests bestProfitTotal }} }} }}"),
                json!({ "s": strategy }),
            )
            .await;
        let done = metrics["botMetrics"] == expected
            && performance["strategyPerformance"]["backtests"]["completedBackTests"] == 1;
        if done || tokio::time::Instant::now() > deadline {
            assert_eq!(metrics["botMetrics"], expected);
            let performance = &performance["strategyPerformance"];
            assert_eq!(performance["botCount"], 1);
            assert_eq!(performance["live"], expected);
            assert_eq!(
                performance["backtests"],
                json!({ "backtestCount": 1, "completedBackTests": 1, "bestProfitTotal": 0.05 })
            );
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // No sync has read this bot's own summary from freqtrade.
    let own = app
        .query(
            "query($b: ID!) { botMetrics(botId: $b) { freqtrade { tradeCount } } }",
            json!({ "b": bot }),
        )
        .await;
    assert_eq!(own["botMetrics"]["freqtrade"], serde_json::Value::Null);

    let unknown = app
        .query_error(
            "query($s: ID!) { strategyPerformance(strategyId: $s) { botCount } }",
            json!({ "s": Uuid::now_v7() }),
        )
        .await;
    assert_eq!(
        (unknown["code"].as_str(), unknown["field"].as_str()),
        (Some("NOT_FOUND"), Some("strategyId"))
    );
}
