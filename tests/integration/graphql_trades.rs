//! Trades through GraphQL: recorded openings and closings of a bot, filtered and paged.

use anytrade::store::CommandMetadata;
use anytrade_aggregates::values::BotId;
use anytrade_aggregates::{TradeClosing, TradeCommand, TradeOpening, trade_aggregate_id};
use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::TestApp;

fn opening(bot: Uuid, trade_id: i64) -> TradeOpening {
    TradeOpening {
        bot_id: BotId::from(bot),
        trade_id,
        pair: if trade_id % 2 == 0 {
            "ETH/USDT"
        } else {
            "BTC/USDT"
        }
        .into(),
        open_date: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + Duration::hours(trade_id),
        open_rate: 100.0 + trade_id as f64,
        amount: 1.5,
        stake_amount: 150.0,
        strategy_name: "AlwaysIn".into(),
        timeframe_minutes: 5,
    }
}

const TRADES: &str = "query($bot: ID!, $first: Int, $after: String, $filter: TradeFilter, $order: TradeOrder) {
  trades(botId: $bot, first: $first, after: $after, filter: $filter, orderBy: $order) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { freqtradeTradeId pair isOpen closeRate profitAbs exitReason timeframeMinutes } } } }";

fn ids(page: &Value) -> Vec<i64> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["freqtradeTradeId"].as_i64().expect("id"))
        .collect()
}

#[tokio::test]
async fn trades_are_listed_per_bot_filtered_and_paged() {
    let app = TestApp::spawn().await;
    let commands = app.commands();
    let meta = CommandMetadata::issued_by("system:trade-sync");
    let bot = Uuid::now_v7();
    let other_bot = Uuid::now_v7();
    for trade_id in 1..=5 {
        let id = trade_aggregate_id(BotId::from(bot), trade_id).to_string();
        let command = if trade_id <= 3 {
            TradeCommand::RecordTradeClosed {
                opening: opening(bot, trade_id),
                closing: TradeClosing {
                    close_date: opening(bot, trade_id).open_date + Duration::minutes(30),
                    close_rate: 110.0,
                    profit_abs: 2.5,
                    profit_ratio: 0.016,
                    exit_reason: "roi".into(),
                },
            }
        } else {
            TradeCommand::RecordTradeOpened {
                opening: opening(bot, trade_id),
            }
        };
        commands
            .trades
            .execute(&id.parse().expect("id"), command.clone(), &meta)
            .await
            .expect("record");
        // The sync reports the same trade again: nothing new is recorded.
        assert_eq!(
            commands
                .trades
                .execute(&id.parse().expect("id"), command, &meta)
                .await
                .expect("again"),
            None
        );
    }
    let last = commands
        .trades
        .execute(
            &trade_aggregate_id(BotId::from(other_bot), 1),
            TradeCommand::RecordTradeOpened {
                opening: opening(other_bot, 1),
            },
            &meta,
        )
        .await
        .expect("other bot");
    assert!(last.is_some());

    let vars = |first: i64, after: Option<&str>, filter: Value, order: Value| json!({ "bot": bot, "first": first, "after": after, "filter": filter, "order": order });
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let all = loop {
        let page = app
            .query(TRADES, vars(100, None, json!(null), json!(null)))
            .await["trades"]
            .clone();
        if page["totalCount"] == 5 || tokio::time::Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(ids(&all), [1, 2, 3, 4, 5]);
    let first = &all["edges"][0]["node"];
    assert_eq!(first["isOpen"], false);
    assert_eq!(first["closeRate"], 110.0);
    assert_eq!(first["exitReason"], "roi");
    assert_eq!(first["timeframeMinutes"], 5);
    assert!(all["edges"][4]["node"]["closeRate"].is_null());

    let open = app
        .query(
            TRADES,
            vars(100, None, json!({ "isOpen": true }), json!(null)),
        )
        .await;
    assert_eq!(ids(&open["trades"]), [4, 5]);
    let eth = app
        .query(
            TRADES,
            vars(100, None, json!({ "pair": "ETH/USDT" }), json!(null)),
        )
        .await;
    assert_eq!(ids(&eth["trades"]), [2, 4]);

    let order = json!({ "field": "FREQTRADE_ID", "direction": "DESC" });
    let page1 = app
        .query(TRADES, vars(2, None, json!(null), order.clone()))
        .await["trades"]
        .clone();
    assert_eq!(ids(&page1), [5, 4]);
    let page2 = app
        .query(
            TRADES,
            vars(
                2,
                page1["pageInfo"]["endCursor"].as_str(),
                json!(null),
                order.clone(),
            ),
        )
        .await["trades"]
        .clone();
    assert_eq!(ids(&page2), [3, 2]);
    let page3 = app
        .query(
            TRADES,
            vars(
                2,
                page2["pageInfo"]["endCursor"].as_str(),
                json!(null),
                order,
            ),
        )
        .await["trades"]
        .clone();
    assert_eq!(ids(&page3), [1]);
    assert_eq!(page3["pageInfo"]["hasNextPage"], false);

    let mismatched = app
        .query_error(
            TRADES,
            vars(
                2,
                page1["pageInfo"]["endCursor"].as_str(),
                json!(null),
                json!(null),
            ),
        )
        .await;
    assert_eq!(
        (mismatched["code"].as_str(), mismatched["field"].as_str()),
        (Some("VALIDATION"), Some("after"))
    );
}

#[tokio::test]
async fn sync_and_close_requests_are_recorded_for_running_bots_only() {
    let app = TestApp::spawn().await;
    let bot = crate::graphql_live::create_bot(&app).await;
    let commands = app.commands();
    let meta = CommandMetadata::issued_by("system:test-runtime");
    let sync = "mutation($bot: ID!) { syncTrades(botId: $bot) { botId requested } }";

    let not_running = app.query_error(sync, json!({ "bot": bot })).await;
    assert_eq!(
        (not_running["code"].as_str(), not_running["field"].as_str()),
        (Some("CONFLICT"), Some("status"))
    );
    let unknown = app
        .query_error(sync, json!({ "bot": Uuid::now_v7() }))
        .await;
    assert_eq!(
        (unknown["code"].as_str(), unknown["field"].as_str()),
        (Some("NOT_FOUND"), Some("botId"))
    );

    for command in [
        anytrade_aggregates::BotCommand::ConfirmBotProvisioned {
            runtime_id: "pid-1".into(),
        },
        anytrade_aggregates::BotCommand::StartBot,
        anytrade_aggregates::BotCommand::ConfirmBotStarted {
            runtime_id: "pid-1".into(),
            api_url: "http://127.0.0.1:8089".into(),
        },
    ] {
        commands
            .bots
            .execute(&bot.parse().expect("id"), command, &meta)
            .await
            .expect("lifecycle");
    }
    let requested = app.query(sync, json!({ "bot": bot })).await;
    assert_eq!(
        requested["syncTrades"],
        json!({ "botId": bot, "requested": true })
    );

    let bot_id: Uuid = bot.parse().expect("uuid");
    let at = commands
        .trades
        .execute(
            &trade_aggregate_id(BotId::from(bot_id), 9),
            TradeCommand::RecordTradeOpened {
                opening: opening(bot_id, 9),
            },
            &meta,
        )
        .await
        .expect("record");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let close = "mutation($bot: ID!, $t: Int!) { closeTrade(botId: $bot, tradeId: $t) { freqtradeTradeId isOpen } }";
    let closed = loop {
        let (_, body) = app
            .graphql_as(Some(&app.admin), close, json!({ "bot": bot, "t": 9 }))
            .await;
        if body.get("errors").is_none() || tokio::time::Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(at.is_some());
    assert_eq!(
        closed["data"]["closeTrade"],
        json!({ "freqtradeTradeId": 9, "isOpen": true }),
        "{closed}"
    );
    let missing = app.query_error(close, json!({ "bot": bot, "t": 10 })).await;
    assert_eq!(
        (missing["code"].as_str(), missing["field"].as_str()),
        (Some("NOT_FOUND"), Some("tradeId"))
    );

    let recorded: Vec<(String, Value)> = sqlx::query_as(
        "SELECT event_type, payload FROM events WHERE aggregate_id = $1 AND event_type LIKE 'Trade%' ORDER BY position",
    )
    .bind(&bot)
    .fetch_all(&app.pool)
    .await
    .expect("events");
    assert_eq!(
        recorded,
        [
            ("TradeSyncRequested".to_owned(), json!("TradeSyncRequested")),
            (
                "TradeCloseRequested".to_owned(),
                json!({ "TradeCloseRequested": { "trade_id": 9 } })
            ),
        ]
    );
}
