use chrono::{TimeZone, Utc};
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::testing::FakeLookup;

fn fixture() -> TestFramework<Trade> {
    TestFramework::with(FakeLookup::new().services())
}

fn opening() -> TradeOpening {
    TradeOpening {
        bot_id: BotId::from(Uuid::from_u128(0xB0)),
        trade_id: 7,
        pair: "BTC/USDT".into(),
        open_date: Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap(),
        open_rate: 50_000.0,
        amount: 0.002,
        stake_amount: 100.0,
        strategy_name: "AlwaysIn".into(),
        timeframe_minutes: 5,
    }
}

fn closing() -> TradeClosing {
    TradeClosing {
        close_date: Utc.with_ymd_and_hms(2026, 11, 24, 11, 0, 0).unwrap(),
        close_rate: 51_000.0,
        profit_abs: 1.9,
        profit_ratio: 0.019,
        exit_reason: "roi".into(),
    }
}

fn opened() -> TradeEvent {
    TradeEvent::TradeOpened { opening: opening() }
}

fn closed() -> TradeEvent {
    TradeEvent::TradeClosed {
        bot_id: BotId::from(Uuid::from_u128(0xB0)),
        trade_id: 7,
        closing: closing(),
    }
}

#[tokio::test]
async fn an_opening_is_recorded_once() {
    fixture()
        .given_no_previous_events()
        .when_async(TradeCommand::RecordTradeOpened { opening: opening() })
        .await
        .then_expect_events(vec![opened()]);
    fixture()
        .given(vec![opened()])
        .when_async(TradeCommand::RecordTradeOpened { opening: opening() })
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn a_closing_is_recorded_once_and_brings_its_opening_if_unseen() {
    let close = || TradeCommand::RecordTradeClosed {
        opening: opening(),
        closing: closing(),
    };
    fixture()
        .given(vec![opened()])
        .when_async(close())
        .await
        .then_expect_events(vec![closed()]);
    fixture()
        .given_no_previous_events()
        .when_async(close())
        .await
        .then_expect_events(vec![opened(), closed()]);
    fixture()
        .given(vec![opened(), closed()])
        .when_async(close())
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn bad_reports_are_refused_naming_the_field() {
    let cases: Vec<(TradeOpening, TradeClosing, DomainError)> = vec![
        (
            TradeOpening {
                trade_id: 0,
                ..opening()
            },
            closing(),
            DomainError::invalid("tradeId", "must be positive"),
        ),
        (
            TradeOpening {
                open_rate: f64::NAN,
                ..opening()
            },
            closing(),
            DomainError::invalid("openRate", "must be a finite number above 0"),
        ),
        (
            opening(),
            TradeClosing {
                close_date: opening().open_date - chrono::Duration::seconds(1),
                ..closing()
            },
            DomainError::invalid("closeDate", "must not be before the open date"),
        ),
        (
            opening(),
            TradeClosing {
                profit_ratio: f64::INFINITY,
                ..closing()
            },
            DomainError::invalid("profitRatio", "must be a finite number"),
        ),
    ];
    for (opening, closing, error) in cases {
        fixture()
            .given_no_previous_events()
            .when_async(TradeCommand::RecordTradeClosed { opening, closing })
            .await
            .then_expect_error(error);
    }
    let result = fixture()
        .given_no_previous_events()
        .when_async(TradeCommand::RecordTradeOpened {
            opening: TradeOpening {
                pair: "btc-usdt".into(),
                ..opening()
            },
        })
        .await
        .inspect_result();
    assert!(matches!(result, Err(DomainError::Invalid { ref field, .. }) if field == "pair"));
}

#[test]
fn the_aggregate_id_is_stable_per_bot_and_trade() {
    let bot = BotId::from(Uuid::from_u128(0xB0));
    assert_eq!(trade_aggregate_id(bot, 7), trade_aggregate_id(bot, 7));
    assert_ne!(trade_aggregate_id(bot, 7), trade_aggregate_id(bot, 8));
    assert_ne!(
        trade_aggregate_id(bot, 7),
        trade_aggregate_id(BotId::from(Uuid::from_u128(0xB1)), 7)
    );
}
