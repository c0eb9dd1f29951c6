//! The models against hand-written edge cases; the recorded responses of a real freqtrade
//! 2026.9 bot are read in `fixtures` below.

use chrono::TimeZone;
use serde_json::json;

use super::*;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

#[test]
fn dates_in_every_form_freqtrade_uses() {
    let parse = |v: serde_json::Value| opt_datetime(v).map_err(|e| e.to_string());
    let noon = utc(2026, 9, 1, 12, 0, 0);
    assert_eq!(parse(json!("2026-09-01T12:00:00+00:00")), Ok(Some(noon)));
    assert_eq!(parse(json!("2026-09-01T14:00:00+02:00")), Ok(Some(noon)));
    assert_eq!(parse(json!("2026-09-01T12:00:00Z")), Ok(Some(noon)));
    assert_eq!(parse(json!("2026-09-01 12:00:00")), Ok(Some(noon)));
    assert_eq!(parse(json!("2026-09-01T12:00:00")), Ok(Some(noon)));
    assert_eq!(parse(json!("2026-09-01 12:00:00+00:00")), Ok(Some(noon)));
    assert_eq!(
        parse(json!("2026-09-01 12:00:00.250000+00:00")),
        Ok(Some(noon + chrono::Duration::milliseconds(250)))
    );
    assert_eq!(parse(json!(noon.timestamp_millis())), Ok(Some(noon)));
    assert_eq!(parse(json!(null)), Ok(None));
    assert_eq!(parse(json!("")), Ok(None));
    assert!(parse(json!("yesterday")).is_err());
}

#[test]
fn zero_millisecond_timestamps_mean_never() {
    let parse = |v: serde_json::Value| opt_ms_datetime(v).map_err(|e| e.to_string());
    assert_eq!(parse(json!(0)), Ok(None));
    assert_eq!(parse(json!(null)), Ok(None));
    assert_eq!(
        parse(json!(1_788_264_000_000_i64)),
        Ok(Some(utc(2026, 9, 1, 12, 0, 0)))
    );
}

#[test]
fn whole_numbers_may_come_as_floats_and_unlimited_as_null() {
    let parse = |v: serde_json::Value| int_from_number(v).map_err(|e| e.to_string());
    assert_eq!(parse(json!(3)), Ok(3));
    assert_eq!(parse(json!(3.0)), Ok(3));
    assert_eq!(parse(json!(-1)), Ok(-1));
    assert_eq!(parse(json!(null)), Ok(-1));
    assert!(parse(json!(2.5)).is_err());
}

#[test]
fn a_log_line_is_read_by_position_and_extra_elements_are_ignored() {
    let line: LogLine = serde_json::from_value(json!([
        "2026-09-01 12:00:00",
        1_788_264_000_123.456_f64,
        "freqtrade.worker",
        "INFO",
        "Bot heartbeat. PID=1",
        "a field from a later version"
    ]))
    .unwrap();
    assert_eq!(
        line.time,
        utc(2026, 9, 1, 12, 0, 0) + chrono::Duration::microseconds(123_456)
    );
    assert_eq!(line.logger, "freqtrade.worker");
    assert_eq!(line.level, "INFO");
    assert_eq!(line.message, "Bot heartbeat. PID=1");
    assert!(serde_json::from_value::<LogLine>(json!(["no time"])).is_err());
}

#[test]
fn force_enter_answers_a_trade_or_a_status() {
    let not_entered: ForceEnterOutcome =
        serde_json::from_value(json!({"status": "Error entering long trade for pair X/Y."}))
            .unwrap();
    assert_eq!(
        not_entered,
        ForceEnterOutcome::NotEntered {
            status: "Error entering long trade for pair X/Y.".into()
        }
    );
    // A trade with a fault reports the fault, not "no variant matched".
    let error = serde_json::from_value::<ForceEnterOutcome>(json!({"trade_id": 1, "pair": 5}))
        .unwrap_err()
        .to_string();
    assert!(error.contains("invalid type"), "{error}");
}

#[test]
fn open_trade_fields_are_optional_and_unknown_fields_ignored() {
    let trade: Trade = serde_json::from_value(json!({
        "trade_id": 3, "pair": "BTC/USDT", "is_open": true, "amount": 0.001,
        "stake_amount": 50.0, "open_rate": 50_000.0, "open_timestamp": 1_788_264_000_000_i64,
        "open_date": "2026-09-01 12:00:00", "current_rate": null, "profit_ratio": null,
        "a_field_from_the_future": {"nested": true},
    }))
    .unwrap();
    assert_eq!(trade.open_date, utc(2026, 9, 1, 12, 0, 0));
    assert_eq!(trade.close_date, None);
    assert_eq!(trade.current_rate, None);
    assert_eq!(trade.timeframe, None);
    assert!(trade.orders.is_empty());
}

#[test]
fn command_bodies_use_freqtrades_names() {
    assert_eq!(
        serde_json::to_value(ForceEnter {
            leverage: Some(2.0),
            ..ForceEnter::short("ETH/USDT:USDT")
        })
        .unwrap(),
        json!({"pair": "ETH/USDT:USDT", "side": "short", "leverage": 2.0})
    );
    assert_eq!(
        serde_json::to_value(ForceExit {
            amount: Some(0.5),
            order_type: Some(OrderType::Limit),
            ..ForceExit::trade(12)
        })
        .unwrap(),
        json!({"tradeid": "12", "ordertype": "limit", "amount": 0.5})
    );
    assert_eq!(
        serde_json::to_value(ForceExit::all()).unwrap(),
        json!({"tradeid": "all"})
    );
}
