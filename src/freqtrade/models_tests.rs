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

/// Recorded answers of a real freqtrade 2026.9 dry-run bot (see the fixtures' README.md):
/// three open trades (1, 5, 6), three closed by ROI (2, 3, 4), then a forced entry (7).
mod fixtures {
    use super::*;

    fn read<T: serde::de::DeserializeOwned>(name: &str, json: &str) -> T {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    macro_rules! fixture {
        ($name:literal) => {
            read(
                $name,
                include_str!(concat!("../../tests/fixtures/freqtrade/", $name)),
            )
        };
    }

    /// serde_json (without its `float_roundtrip` feature) may read a 17-digit float one
    /// unit in the last place away from Rust's own parse of the same text.
    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() <= expected.abs() * 1e-12,
            "{actual} != {expected}"
        );
    }

    fn at_ms(millis: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp_millis(millis).unwrap()
    }

    #[test]
    fn ping() {
        let ping: Ping = fixture!("ping.json");
        assert_eq!(ping.status, "pong");
    }

    #[test]
    fn show_config() {
        let config: ShowConfig = fixture!("show_config.json");
        assert_eq!(config.api_version, 2.5);
        assert_eq!(config.version, "2026.9");
        assert_eq!(config.state, "running");
        assert_eq!(config.runmode, "dry_run");
        assert_eq!(config.strategy.as_deref(), Some("AlwaysIn"));
        assert_eq!(config.strategy_version, None);
        assert_eq!(config.exchange, "binance");
        assert!(config.dry_run);
        assert_eq!(config.trading_mode.as_deref(), Some("spot"));
        assert!(!config.short_allowed);
        assert_eq!(config.timeframe.as_deref(), Some("1m"));
        // Sent as 3.0: Python keeps max_open_trades a float.
        assert_eq!(config.max_open_trades, 3);
        assert_eq!(config.stake_currency, "USDT");
        assert_eq!(config.stake_amount, "100");
        assert!(config.force_entry_enable);
        assert_eq!(config.bot_name, "sim-bot");
    }

    #[test]
    fn health() {
        let health: Health = fixture!("health.json");
        let last = utc(2026, 11, 24, 23, 29, 51) + chrono::Duration::microseconds(123_769);
        assert_eq!(health.last_process, Some(last));
        // The `_ts` companions are whole seconds.
        assert_eq!(health.last_process_ts, Some(last.timestamp()));
        assert_eq!(
            health.bot_start,
            Some(utc(2026, 11, 24, 23, 24, 51) + chrono::Duration::microseconds(704_689))
        );
        assert_eq!(health.bot_start_ts, Some(1_795_562_691));
        assert_eq!(
            health.bot_startup,
            Some(utc(2026, 11, 24, 23, 24, 51) + chrono::Duration::microseconds(713_671))
        );
    }

    #[test]
    fn status_lists_the_open_trades() {
        let trades: Vec<Trade> = fixture!("status.json");
        let ids: Vec<_> = trades
            .iter()
            .map(|t| (t.trade_id, t.pair.as_str()))
            .collect();
        assert_eq!(ids, [(1, "BTC/USDT"), (5, "SOL/USDT"), (6, "BNB/USDT")]);

        let btc = &trades[0];
        assert!(btc.is_open && !btc.is_short);
        assert_eq!(btc.strategy, "AlwaysIn");
        assert_eq!(btc.exchange, "binance");
        assert_eq!(btc.timeframe, Some(1));
        assert_eq!(btc.enter_tag.as_deref(), Some(""));
        assert_eq!(btc.amount, 0.00187);
        assert_eq!(btc.stake_amount, 99.9526594);
        assert_eq!(btc.open_rate, 53450.62);
        // `open_date` is printed "2026-11-24 23:24:52"; the timestamp adds the milliseconds.
        assert_eq!(
            btc.open_date,
            utc(2026, 11, 24, 23, 24, 52) + chrono::Duration::milliseconds(254)
        );
        assert_eq!(btc.close_date, None);
        assert_eq!(btc.close_rate, None);
        assert_eq!(btc.close_profit_abs, None);
        assert_eq!(btc.current_rate, Some(53311.43));
        assert_eq!(btc.profit_abs, Some(-0.45993033));
        assert_eq!(btc.profit_ratio, Some(-0.00459688));
        assert_eq!(btc.total_profit_abs, Some(-0.45993033));
        assert_eq!(btc.realized_profit, Some(0.0));
        assert_eq!(btc.leverage, Some(1.0));
        assert_eq!(btc.fee_open_cost, Some(0.0999526594));
        assert_eq!(btc.fee_close_cost, None);
        assert_eq!(btc.stop_loss_abs, Some(48105.56));
        assert_eq!(btc.exit_reason, None);
        assert!(!btc.has_open_orders);

        let entry = &btc.orders[0];
        assert_eq!(entry.ft_order_side, "buy");
        assert_eq!(entry.order_type, "limit");
        assert_eq!(entry.status.as_deref(), Some("closed"));
        assert_eq!(entry.filled, Some(0.00187));
        assert_eq!(entry.order_filled_date, Some(at_ms(1_795_562_692_254)));
    }

    #[test]
    fn trades_pages_the_closed_trades() {
        let page: TradesPage = fixture!("trades.json");
        assert_eq!(
            (page.trades_count, page.offset, page.total_trades),
            (3, 0, 3)
        );
        let closed: Vec<_> = page
            .trades
            .iter()
            .map(|t| (t.trade_id, t.pair.as_str(), t.exit_reason.as_deref()))
            .collect();
        assert_eq!(
            closed,
            [
                (2, "ETH/USDT", Some("roi")),
                (3, "SOL/USDT", Some("roi")),
                (4, "BNB/USDT", Some("roi"))
            ]
        );
        let eth = &page.trades[0];
        assert!(!eth.is_open);
        assert_eq!(eth.open_date, at_ms(1_795_562_692_356));
        assert_eq!(eth.close_date, Some(at_ms(1_795_562_846_123)));
        assert_eq!(eth.close_rate, Some(3480.86));
        assert_eq!(eth.close_profit_abs, Some(0.10508774));
        assert_eq!(eth.close_profit, Some(0.0010504211864484582));
        assert_eq!(eth.fee_close_cost, Some(0.100248768));
        assert_eq!(eth.timeframe, Some(1));
        // `/trades` has no response model: no open-trade fields, and order keys of its own.
        assert_eq!(eth.current_rate, None);
        let sides: Vec<_> = eth
            .orders
            .iter()
            .map(|o| o.ft_order_side.as_str())
            .collect();
        assert_eq!(sides, ["buy", "sell"]);
    }

    #[test]
    fn trade_by_id() {
        let trade: Trade = fixture!("trade.json");
        assert_eq!((trade.trade_id, trade.pair.as_str()), (2, "ETH/USDT"));
        assert!(!trade.is_open);
        assert_eq!(trade.close_date, Some(at_ms(1_795_562_846_123)));
        assert_eq!(trade.profit_abs, Some(0.10508774));
        // For a closed trade freqtrade reports the close rate as the current one.
        assert_eq!(trade.current_rate, Some(3480.86));
        assert_eq!(trade.exit_order_status.as_deref(), Some("closed"));
    }

    #[test]
    fn trade_not_found_is_fastapis_detail() {
        let body: serde_json::Value = fixture!("trade_not_found.json");
        assert_eq!(body, json!({"detail": "Trade not found."}));
    }

    #[test]
    fn profit() {
        let profit: Profit = fixture!("profit.json");
        assert_eq!(profit.profit_closed_coin, 0.3514688);
        assert_eq!(profit.profit_closed_ratio, Some(0.00035501898989898995));
        assert_eq!(profit.profit_all_coin, -0.59585171);
        assert_eq!(profit.profit_all_ratio, Some(-0.0006018704141414142));
        assert_eq!((profit.trade_count, profit.closed_trade_count), (6, 3));
        assert_eq!((profit.winning_trades, profit.losing_trades), (3, 0));
        assert_eq!(profit.winrate, Some(1.0));
        // No losing trade: the profit factor is infinite, which orjson sends as null.
        assert_eq!(profit.profit_factor, None);
        assert_eq!(profit.max_drawdown_abs, Some(0.0));
        assert_eq!(profit.trading_volume, Some(899.5360694));
        assert_eq!(profit.avg_duration, "0:01:27");
        assert_eq!(profit.best_pair, "BNB/USDT");
        assert_eq!(profit.first_trade, Some(at_ms(1_795_562_692_254)));
        assert_eq!(profit.latest_trade, Some(at_ms(1_795_562_846_275)));
        assert_eq!(profit.bot_start, Some(at_ms(1_795_562_691_704)));
    }

    #[test]
    fn balance() {
        let balance: Balance = fixture!("balance.json");
        assert_eq!(balance.stake, "USDT");
        assert_close(balance.total, 1000.0257716000001);
        assert_close(balance.total_bot.unwrap(), 990.0222569120001);
        assert_eq!(balance.starting_capital, Some(990.0));
        assert_eq!(balance.note, "Simulated balances");
        assert_eq!(balance.symbol, "");
        let currencies: Vec<_> = balance
            .currencies
            .iter()
            .map(|c| c.currency.as_str())
            .collect();
        assert_eq!(currencies, ["BTC", "SOL", "BNB", "USDT"]);
        let usdt = &balance.currencies[3];
        assert_close(usdt.free, 700.7785994000001);
        assert_close(usdt.bot_owned.unwrap(), 690.7750847120001);
        assert_close(usdt.est_stake.unwrap(), 700.7785994000001);
        assert!(usdt.is_bot_managed && !usdt.is_position);
        // The schema's `leverage` is absent for spot balances.
        assert_eq!(usdt.leverage, None);
    }

    #[test]
    fn count() {
        let count: Count = fixture!("count.json");
        assert_eq!((count.current, count.max), (3, 3));
        assert_eq!(count.total_stake, 299.5728694);
    }

    #[test]
    fn performance() {
        let rows: Vec<PairPerformance> = fixture!("performance.json");
        let pairs: Vec<_> = rows.iter().map(|r| (r.pair.as_str(), r.count)).collect();
        assert_eq!(pairs, [("BNB/USDT", 1), ("SOL/USDT", 1), ("ETH/USDT", 1)]);
        assert_eq!(rows[0].profit_abs, Some(0.12753642));
        assert_eq!(rows[0].profit_ratio, Some(0.0012801040412334752));
    }

    #[test]
    fn daily() {
        let daily: Daily = fixture!("daily.json");
        assert_eq!(daily.stake_currency, "USDT");
        assert_eq!(daily.data.len(), 7);
        let today = &daily.data[0];
        assert_eq!(today.date, NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
        assert_eq!(today.abs_profit, 0.3514688);
        assert_eq!(today.trade_count, 3);
        assert_eq!(today.starting_balance, Some(989.996485312));
        let oldest = daily.data.last().unwrap();
        assert_eq!(oldest.date, NaiveDate::from_ymd_opt(2026, 11, 18).unwrap());
        assert_eq!((oldest.abs_profit, oldest.trade_count), (0.0, 0));
    }

    #[test]
    fn logs() {
        let logs: Logs = fixture!("logs.json");
        assert_eq!(logs.log_count, 5);
        assert_eq!(logs.logs.len(), 5);
        let first = &logs.logs[0];
        assert_eq!(first.logger, "freqtrade.persistence.trade_model");
        assert_eq!(first.level, "INFO");
        assert!(
            first
                .message
                .starts_with("LIMIT_BUY has been fulfilled for Trade(id=6")
        );
        // 1795562846295.7317 ms, kept to the microsecond.
        assert_eq!(
            first.time,
            utc(2026, 11, 24, 23, 27, 26) + chrono::Duration::microseconds(295_732)
        );
        let last = logs.logs.last().unwrap();
        assert_eq!(last.logger, "freqtrade.worker");
        assert!(last.message.starts_with("Bot heartbeat."));
    }

    #[test]
    fn status_messages_of_the_commands() {
        let messages: [(StatusMessage, &str); 4] = [
            (fixture!("start.json"), "starting trader ..."),
            (fixture!("stop.json"), "stopping trader ..."),
            (
                fixture!("stopentry.json"),
                "paused, no more entries will occur from now. Run /start to enable entries.",
            ),
            (fixture!("reload_config.json"), "Reloading config ..."),
        ];
        for (message, expected) in messages {
            assert_eq!(message.status, expected);
        }
    }

    #[test]
    fn forceexit() {
        let result: ResultMessage = fixture!("forceexit.json");
        assert_eq!(result.result, "Created exit order for trade 1.");
    }

    #[test]
    fn forceenter_returns_the_new_trade() {
        let outcome: ForceEnterOutcome = fixture!("forceenter.json");
        let ForceEnterOutcome::Entered(trade) = outcome else {
            panic!("expected a trade, got {outcome:?}");
        };
        assert_eq!((trade.trade_id, trade.pair.as_str()), (7, "XRP/USDT"));
        assert!(trade.is_open);
        assert_eq!(trade.enter_tag.as_deref(), Some("force_entry"));
        assert_eq!(trade.amount, 162.0);
        assert_eq!(trade.stake_amount, 99.645714);
        assert_eq!(trade.open_rate, 0.615097);
        assert_eq!(trade.open_date, at_ms(1_795_563_009_931));
        // Just filled: no price has been seen since, so no profit yet.
        assert_eq!(trade.profit_abs, None);
        assert_eq!(trade.orders[0].order_type, "limit");
    }
}
