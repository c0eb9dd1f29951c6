use cqrs_es::test::TestFramework;
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::testing::FakeLookup;
use crate::values::{
    ConfigObject, DateRange, ExchangeName, Pairs, StakeAmount, StakeCurrency, Timeframe,
};

fn id() -> Uuid {
    Uuid::from_u128(0xB1)
}

fn strategy_id() -> Uuid {
    Uuid::from_u128(0x51)
}

fn exchange_id() -> Uuid {
    Uuid::from_u128(0xE1)
}

fn with_exchange(lookup: FakeLookup) -> FakeLookup {
    lookup.with_exchange(
        exchange_id(),
        ExchangeName::parse("binance").expect("name"),
        false,
        &[],
    )
}

fn fixture() -> TestFramework<Backtest> {
    TestFramework::with(
        with_exchange(FakeLookup::new())
            .with_strategy(strategy_id(), "RSI cross", 3, "RsiCross")
            .services(),
    )
}

fn request() -> BacktestCommand {
    BacktestCommand::RequestBacktest {
        backtest_id: id(),
        input: JobInput {
            strategy_id: strategy_id(),
            exchange_id: Some(exchange_id()),
            start_date: "2024-01-01".into(),
            end_date: "2024-03-01".into(),
            timeframe: "5m".into(),
            stake_amount: 100.0,
            stake_currency: "USDT".into(),
            pairs: vec!["BTC/USDT".into(), "ETH/USDT".into()],
            config: Some(json!({"max_open_trades": 3})),
        },
    }
}

/// `request()` with one input changed.
fn request_with(change: impl FnOnce(&mut BacktestCommand)) -> BacktestCommand {
    let mut command = request();
    change(&mut command);
    command
}

fn spec() -> JobSpec {
    JobSpec {
        strategy_id: strategy_id(),
        exchange_id: Some(exchange_id()),
        strategy_version: 3,
        strategy_class: "RsiCross".into(),
        dates: DateRange::parse("2024-01-01", "2024-03-01").expect("valid"),
        timeframe: Timeframe::M5,
        stake_amount: StakeAmount::parse_amount(100.0).expect("valid"),
        stake_currency: StakeCurrency::parse("USDT").expect("valid"),
        pairs: Pairs::parse(&["BTC/USDT", "ETH/USDT"]).expect("valid"),
        config: ConfigObject::parse("config", json!({"max_open_trades": 3})).expect("valid"),
    }
}

fn requested() -> BacktestEvent {
    BacktestEvent::BacktestRequested {
        backtest_id: id(),
        spec: spec(),
    }
}

fn started() -> BacktestEvent {
    BacktestEvent::BacktestStarted {
        runtime_id: RuntimeId::parse("container-1").expect("valid"),
    }
}

fn results() -> Map<String, Value> {
    match json!({"total_trades": 12, "profit_total": 0.05}) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn pending() -> Vec<BacktestEvent> {
    vec![requested()]
}

fn running() -> Vec<BacktestEvent> {
    vec![requested(), started()]
}

fn finished() -> Vec<(&'static str, Vec<BacktestEvent>)> {
    vec![
        (
            "completed",
            vec![
                requested(),
                started(),
                BacktestEvent::BacktestCompleted { results: results() },
            ],
        ),
        (
            "failed",
            vec![
                requested(),
                BacktestEvent::BacktestFailed {
                    error: "boom".into(),
                },
            ],
        ),
        (
            "cancelled",
            vec![requested(), BacktestEvent::BacktestCancelled],
        ),
    ]
}

fn start() -> BacktestCommand {
    BacktestCommand::StartBacktest {
        runtime_id: "container-1".into(),
    }
}

fn complete() -> BacktestCommand {
    BacktestCommand::CompleteBacktest {
        results: Value::Object(results()),
    }
}

fn fail() -> BacktestCommand {
    BacktestCommand::FailBacktest {
        error: "boom".into(),
    }
}

fn conflict(reason: &str) -> DomainError {
    DomainError::conflict("status", reason)
}

#[tokio::test]
async fn request_pins_the_current_strategy_version() {
    fixture()
        .given_no_previous_events()
        .when_async(request())
        .await
        .then_expect_events(vec![requested()]);
}

#[tokio::test]
async fn request_without_config_gets_an_empty_one() {
    let mut expected = spec();
    expected.config = ConfigObject::default();
    fixture()
        .given_no_previous_events()
        .when_async(request_with(|c| {
            if let BacktestCommand::RequestBacktest { input, .. } = c {
                input.config = None;
            }
        }))
        .await
        .then_expect_events(vec![BacktestEvent::BacktestRequested {
            backtest_id: id(),
            spec: expected,
        }]);
}

/// `request()` naming no exchange.
fn request_without_exchange() -> BacktestCommand {
    request_with(|c| {
        if let BacktestCommand::RequestBacktest { input, .. } = c {
            input.exchange_id = None;
        }
    })
}

#[tokio::test]
async fn without_an_exchange_the_only_one_is_taken() {
    fixture()
        .given_no_previous_events()
        .when_async(request_without_exchange())
        .await
        .then_expect_events(vec![requested()]);
}

#[tokio::test]
async fn without_an_exchange_none_or_several_is_invalid() {
    let none = FakeLookup::new().with_strategy(strategy_id(), "RSI cross", 3, "RsiCross");
    let several = with_exchange(none.clone()).with_exchange(
        Uuid::from_u128(0xE2),
        ExchangeName::parse("kraken").expect("name"),
        true,
        &[],
    );
    for lookup in [none, several] {
        let error = TestFramework::<Backtest>::with(lookup.services())
            .given_no_previous_events()
            .when_async(request_without_exchange())
            .await
            .inspect_result()
            .expect_err("refused");
        assert_eq!(error.field(), Some("exchangeId"), "{error}");
        assert!(matches!(error, DomainError::Invalid { .. }), "{error}");
    }
}

#[tokio::test]
async fn request_for_an_unknown_strategy_is_not_found() {
    TestFramework::<Backtest>::with(with_exchange(FakeLookup::new()).services())
        .given_no_previous_events()
        .when_async(request())
        .await
        .then_expect_error(DomainError::not_found("strategyId", "no such strategy"));
}

#[tokio::test]
async fn request_for_an_unknown_exchange_is_not_found() {
    let lookup = FakeLookup::new().with_strategy(strategy_id(), "RSI cross", 1, "RsiCross");
    TestFramework::<Backtest>::with(lookup.services())
        .given_no_previous_events()
        .when_async(request())
        .await
        .then_expect_error(DomainError::not_found("exchangeId", "no such exchange"));
}

#[tokio::test]
async fn request_with_bad_input_is_invalid() {
    type Change = Box<dyn FnOnce(&mut BacktestCommand)>;
    let cases: Vec<(Change, DomainError)> = vec![
        (
            Box::new(|c| {
                if let BacktestCommand::RequestBacktest { input, .. } = c {
                    input.start_date = "2024-13-01".into();
                }
            }),
            DomainError::invalid("startDate", "\"2024-13-01\" is not a calendar date"),
        ),
        (
            Box::new(|c| {
                if let BacktestCommand::RequestBacktest { input, .. } = c {
                    input.end_date = "2023-12-31".into();
                }
            }),
            DomainError::invalid(
                "endDate",
                "must be after startDate (2024-01-01), got 2023-12-31",
            ),
        ),
        (
            Box::new(|c| {
                if let BacktestCommand::RequestBacktest { input, .. } = c {
                    input.timeframe = "7m".into();
                }
            }),
            DomainError::invalid(
                "timeframe",
                "unknown timeframe \"7m\"; expected one of: 1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M",
            ),
        ),
        (
            Box::new(|c| {
                if let BacktestCommand::RequestBacktest { input, .. } = c {
                    input.stake_amount = -5.0;
                }
            }),
            DomainError::invalid(
                "stakeAmount",
                "must be a finite number greater than 0, got -5",
            ),
        ),
        (
            Box::new(|c| {
                if let BacktestCommand::RequestBacktest { input, .. } = c {
                    input.stake_amount = f64::NAN;
                }
            }),
            DomainError::invalid(
                "stakeAmount",
                "must be a finite number greater than 0, got NaN",
            ),
        ),
        (
            Box::new(|c| {
                if let BacktestCommand::RequestBacktest { input, .. } = c {
                    input.stake_currency = "usdt".into();
                }
            }),
            DomainError::invalid("stakeCurrency", "\"usdt\" must be uppercase, like USDT"),
        ),
        (
            Box::new(|c| {
                if let BacktestCommand::RequestBacktest { input, .. } = c {
                    input.pairs = vec!["BTC/USDT".into(), "ETH/USDT".into(), "eth/btc".into()];
                }
            }),
            DomainError::invalid("pairs[2]", "\"eth/btc\" must be uppercase, like BTC/USDT"),
        ),
        (
            Box::new(|c| {
                if let BacktestCommand::RequestBacktest { input, .. } = c {
                    input.pairs.clear();
                }
            }),
            DomainError::invalid("pairs", "at least one pair is required"),
        ),
        (
            Box::new(|c| {
                if let BacktestCommand::RequestBacktest { input, .. } = c {
                    input.config = Some(json!(3));
                }
            }),
            DomainError::invalid("config", "must be a JSON object, got a number"),
        ),
        (
            Box::new(|c| {
                if let BacktestCommand::RequestBacktest { input, .. } = c {
                    input.config = Some(json!({"exchange": {"key": "k"}}));
                }
            }),
            DomainError::invalid(
                "config.exchange.key",
                "credentials go in exchange secrets, not in config",
            ),
        ),
    ];
    for (change, error) in cases {
        fixture()
            .given_no_previous_events()
            .when_async(request_with(change))
            .await
            .then_expect_error(error);
    }
}

#[tokio::test]
async fn request_on_an_existing_backtest_is_a_conflict() {
    fixture()
        .given(pending())
        .when_async(request())
        .await
        .then_expect_error(DomainError::conflict("id", "the backtest already exists"));
}

#[tokio::test]
async fn commands_on_a_never_requested_backtest_are_not_found() {
    for command in [
        start(),
        complete(),
        fail(),
        BacktestCommand::CancelBacktest,
        BacktestCommand::DeleteBacktest,
    ] {
        fixture()
            .given_no_previous_events()
            .when_async(command)
            .await
            .then_expect_error(DomainError::not_found("id", "no such backtest"));
    }
}

#[tokio::test]
async fn every_command_on_a_deleted_backtest_is_not_found() {
    for command in [
        request(),
        start(),
        complete(),
        fail(),
        BacktestCommand::CancelBacktest,
        BacktestCommand::DeleteBacktest,
    ] {
        fixture()
            .given(vec![requested(), BacktestEvent::BacktestDeleted])
            .when_async(command)
            .await
            .then_expect_error(DomainError::not_found("id", "the backtest was deleted"));
    }
}

#[tokio::test]
async fn start_a_pending_backtest() {
    fixture()
        .given(pending())
        .when_async(start())
        .await
        .then_expect_events(vec![started()]);
}

#[tokio::test]
async fn start_with_an_empty_runtime_id_is_invalid() {
    fixture()
        .given(pending())
        .when_async(BacktestCommand::StartBacktest {
            runtime_id: String::new(),
        })
        .await
        .then_expect_error(DomainError::invalid(
            "runtimeId",
            "must be 1 to 256 characters without whitespace",
        ));
}

#[tokio::test]
async fn start_twice_is_a_conflict() {
    fixture()
        .given(running())
        .when_async(start())
        .await
        .then_expect_error(conflict("cannot start a backtest that is running"));
}

#[tokio::test]
async fn complete_a_running_backtest() {
    fixture()
        .given(running())
        .when_async(complete())
        .await
        .then_expect_events(vec![BacktestEvent::BacktestCompleted {
            results: results(),
        }]);
}

#[tokio::test]
async fn complete_with_results_that_are_not_an_object_is_invalid() {
    fixture()
        .given(running())
        .when_async(BacktestCommand::CompleteBacktest {
            results: json!("ok"),
        })
        .await
        .then_expect_error(DomainError::invalid("results", "must be a JSON object"));
}

#[tokio::test]
async fn complete_a_pending_backtest_is_a_conflict() {
    fixture()
        .given(pending())
        .when_async(complete())
        .await
        .then_expect_error(conflict("cannot complete a backtest that is pending"));
}

#[tokio::test]
async fn fail_a_pending_or_running_backtest() {
    for given in [pending(), running()] {
        fixture()
            .given(given)
            .when_async(fail())
            .await
            .then_expect_events(vec![BacktestEvent::BacktestFailed {
                error: "boom".into(),
            }]);
    }
    fixture()
        .given(running())
        .when_async(BacktestCommand::FailBacktest { error: "  ".into() })
        .await
        .then_expect_events(vec![BacktestEvent::BacktestFailed {
            error: "failed without an error message".into(),
        }]);
}

#[tokio::test]
async fn cancel_a_pending_or_running_backtest() {
    for given in [pending(), running()] {
        fixture()
            .given(given)
            .when_async(BacktestCommand::CancelBacktest)
            .await
            .then_expect_events(vec![BacktestEvent::BacktestCancelled]);
    }
}

#[tokio::test]
async fn a_finished_backtest_cannot_change_status() {
    for (status, given) in finished() {
        for (command, verb) in [
            (start(), "start"),
            (complete(), "complete"),
            (fail(), "fail"),
            (BacktestCommand::CancelBacktest, "cancel"),
        ] {
            fixture()
                .given(given.clone())
                .when_async(command)
                .await
                .then_expect_error(conflict(&format!(
                    "cannot {verb} a backtest that is {status}"
                )));
        }
    }
}

#[tokio::test]
async fn delete_a_running_backtest_cancels_it_first() {
    fixture()
        .given(running())
        .when_async(BacktestCommand::DeleteBacktest)
        .await
        .then_expect_events(vec![
            BacktestEvent::BacktestCancelled,
            BacktestEvent::BacktestDeleted,
        ]);
}

#[tokio::test]
async fn delete_a_backtest_that_is_not_running() {
    let mut givens = vec![pending()];
    givens.extend(finished().into_iter().map(|(_, events)| events));
    for given in givens {
        fixture()
            .given(given)
            .when_async(BacktestCommand::DeleteBacktest)
            .await
            .then_expect_events(vec![BacktestEvent::BacktestDeleted]);
    }
}

#[test]
fn state_follows_the_events() {
    let mut backtest = Backtest::default();
    assert!(backtest.state().is_none());
    for event in running() {
        backtest.apply(event);
    }
    let state = backtest.state().expect("requested");
    assert_eq!(state.status, JobStatus::Running);
    assert_eq!(
        state.runtime_id.as_ref().map(|r| r.as_str()),
        Some("container-1")
    );
    backtest.apply(BacktestEvent::BacktestCompleted { results: results() });
    assert_eq!(
        backtest.state().map(|s| s.status),
        Some(JobStatus::Completed)
    );
    let json = serde_json::to_string(&backtest).expect("serialize");
    assert_eq!(
        serde_json::from_str::<Backtest>(&json).expect("deserialize"),
        backtest
    );
}

#[test]
fn events_are_named_versioned_and_round_trip() {
    use cqrs_es::DomainEvent;
    assert_eq!(requested().event_type(), "BacktestRequested");
    assert_eq!(
        BacktestEvent::BacktestCancelled.event_type(),
        "BacktestCancelled"
    );
    assert_eq!(started().event_version(), "1.0");
    let json = serde_json::to_value(requested()).expect("serialize");
    assert_eq!(
        json["BacktestRequested"]["spec"]["pairs"],
        json!(["BTC/USDT", "ETH/USDT"])
    );
    assert_eq!(json["BacktestRequested"]["spec"]["timeframe"], json!("5m"));
    let back: BacktestEvent = serde_json::from_value(json).expect("deserialize");
    assert_eq!(back, requested());
}
