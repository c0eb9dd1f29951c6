//! Trades through GraphQL: recorded openings and closings of a bot, filtered and paged.

use std::sync::Arc;

use anytrade::lookup::PgLookup;
use anytrade::store::{CommandMetadata, Commands, EventLog};
use anytrade_aggregates::{TradeClosing, TradeCommand, TradeOpening, trade_aggregate_id};
use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::TestApp;

fn opening(bot: Uuid, trade_id: i64) -> TradeOpening {
    TradeOpening {
        bot_id: bot,
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
    let commands = Commands::new(
        &app.pool,
        &EventLog::new(app.pool.clone()),
        Arc::new(PgLookup::new(app.pool.clone())),
    );
    let meta = CommandMetadata::issued_by("system:trade-sync");
    let bot = Uuid::now_v7();
    let other_bot = Uuid::now_v7();
    for trade_id in 1..=5 {
        let id = trade_aggregate_id(bot, trade_id).to_string();
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
            .execute(&id, command.clone(), &meta)
            .await
            .expect("record");
        // The sync reports the same trade again: nothing new is recorded.
        assert_eq!(
            commands
                .trades
                .execute(&id, command, &meta)
                .await
                .expect("again"),
            None
        );
    }
    let last = commands
        .trades
        .execute(
            &trade_aggregate_id(other_bot, 1).to_string(),
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
