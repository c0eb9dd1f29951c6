use cqrs_es::test::TestFramework;
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::testing::FakeLookup;
use crate::values::{
    ConfigObject, DateRange, ExchangeName, Pairs, StakeAmount, StakeCurrency, Timeframe,
};

fn id() -> Uuid {
    Uuid::from_u128(0x40)
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

fn fixture() -> TestFramework<Hyperopt> {
    TestFramework::with(
        with_exchange(FakeLookup::new())
            .with_strategy(strategy_id(), "RSI cross", 2, "RsiCross")
            .services(),
    )
}

fn request() -> HyperoptCommand {
    HyperoptCommand::RequestHyperopt {
        hyperopt_id: id(),
        input: JobInput {
            strategy_id: strategy_id(),
            exchange_id: Some(exchange_id()),
            start_date: "2024-01-01".into(),
            end_date: "2024-02-01".into(),
            timeframe: "1h".into(),
            stake_amount: 50.0,
            stake_currency: "USDT".into(),
            pairs: vec!["BTC/USDT".into()],
            config: None,
        },
        epochs: 100,
        spaces: vec!["buy".into(), "sell".into(), "buy".into()],
        optimization_metric: "sharpe".into(),
    }
}

fn request_with(change: impl FnOnce(&mut HyperoptCommand)) -> HyperoptCommand {
    let mut command = request();
    change(&mut command);
    command
}

fn requested() -> HyperoptEvent {
    HyperoptEvent::HyperoptRequested {
        hyperopt_id: id(),
        spec: JobSpec {
            strategy_id: strategy_id(),
            exchange_id: Some(exchange_id()),
            strategy_version: 2,
            strategy_class: "RsiCross".into(),
            dates: DateRange::parse("2024-01-01", "2024-02-01").expect("valid"),
            timeframe: Timeframe::H1,
            stake_amount: StakeAmount::parse_amount(50.0).expect("valid"),
            stake_currency: StakeCurrency::parse("USDT").expect("valid"),
            pairs: Pairs::parse(&["BTC/USDT"]).expect("valid"),
            config: ConfigObject::default(),
        },
        epochs: Epochs::parse(100).expect("valid"),
        spaces: HyperoptSpaces::parse(&["buy", "sell"]).expect("valid"),
        optimization_metric: OptimizationMetric::Sharpe,
    }
}

fn started() -> HyperoptEvent {
    HyperoptEvent::HyperoptStarted {
        runtime_id: RuntimeId::parse("job-7").expect("valid"),
    }
}

fn progressed(progress: f64, epoch: Option<u32>) -> HyperoptEvent {
    HyperoptEvent::HyperoptProgressReported {
        progress: Progress::parse(progress).expect("valid"),
        epoch,
    }
}

fn report(progress: f64, epoch: Option<u32>) -> HyperoptCommand {
    HyperoptCommand::ReportHyperoptProgress { progress, epoch }
}

fn results() -> Map<String, Value> {
    match json!({"best_epoch": 87, "parameters": {"buy_rsi": 28}}) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn pending() -> Vec<HyperoptEvent> {
    vec![requested()]
}

fn running() -> Vec<HyperoptEvent> {
    vec![requested(), started()]
}

fn finished() -> Vec<(&'static str, Vec<HyperoptEvent>)> {
    vec![
        (
            "completed",
            vec![
                requested(),
                started(),
                HyperoptEvent::HyperoptCompleted { results: results() },
            ],
        ),
        (
            "failed",
            vec![
                requested(),
                started(),
                HyperoptEvent::HyperoptFailed {
                    error: "oom".into(),
                },
            ],
        ),
        (
            "cancelled",
            vec![requested(), HyperoptEvent::HyperoptCancelled],
        ),
    ]
}

fn all_commands_but_request() -> Vec<HyperoptCommand> {
    vec![
        HyperoptCommand::StartHyperopt {
            runtime_id: "job-7".into(),
        },
        report(10.0, None),
        HyperoptCommand::CompleteHyperopt {
            results: Value::Object(results()),
        },
        HyperoptCommand::FailHyperopt {
            error: "oom".into(),
        },
        HyperoptCommand::CancelHyperopt,
        HyperoptCommand::DeleteHyperopt,
    ]
}

#[tokio::test]
async fn request_pins_the_strategy_and_dedupes_spaces() {
    fixture()
        .given_no_previous_events()
        .when_async(request())
        .await
        .then_expect_events(vec![requested()]);
}

#[tokio::test]
async fn request_with_bad_search_input_is_invalid() {
    type Change = Box<dyn FnOnce(&mut HyperoptCommand)>;
    let cases: Vec<(Change, DomainError)> = vec![
        (
            Box::new(|c| {
                if let HyperoptCommand::RequestHyperopt { epochs, .. } = c {
                    *epochs = 0;
                }
            }),
            DomainError::invalid("epochs", "must be between 1 and 10000, got 0"),
        ),
        (
            Box::new(|c| {
                if let HyperoptCommand::RequestHyperopt { epochs, .. } = c {
                    *epochs = 10_001;
                }
            }),
            DomainError::invalid("epochs", "must be between 1 and 10000, got 10001"),
        ),
        (
            Box::new(|c| {
                if let HyperoptCommand::RequestHyperopt { spaces, .. } = c {
                    spaces.clear();
                }
            }),
            DomainError::invalid("spaces", "at least one hyperopt space is required"),
        ),
        (
            Box::new(|c| {
                if let HyperoptCommand::RequestHyperopt { spaces, .. } = c {
                    *spaces = vec!["buy".into(), "magic".into()];
                }
            }),
            DomainError::invalid(
                "spaces[1]",
                "unknown hyperopt space \"magic\"; expected one of: buy, sell, roi, stoploss, trailing, protection, trades, default, all",
            ),
        ),
        (
            Box::new(|c| {
                if let HyperoptCommand::RequestHyperopt {
                    optimization_metric,
                    ..
                } = c
                {
                    *optimization_metric = "luck".into();
                }
            }),
            DomainError::invalid(
                "optimizationMetric",
                "unknown optimization metric \"luck\"; expected one of: sharpe, profit, trades, drawdown",
            ),
        ),
        (
            Box::new(|c| {
                if let HyperoptCommand::RequestHyperopt { input, .. } = c {
                    input.pairs = vec!["BTCUSDT".into()];
                }
            }),
            DomainError::invalid(
                "pairs[0]",
                "\"BTCUSDT\" must look like BASE/QUOTE or BASE/QUOTE:SETTLE, each part 1 to 20 characters of A-Z and 0-9",
            ),
        ),
        (
            Box::new(|c| {
                if let HyperoptCommand::RequestHyperopt { input, .. } = c {
                    input.start_date = "01/01/2024".into();
                }
            }),
            DomainError::invalid(
                "startDate",
                "\"01/01/2024\" must be a date like 2024-01-31 (YYYY-MM-DD)",
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
async fn request_for_an_unknown_strategy_is_not_found() {
    TestFramework::<Hyperopt>::with(with_exchange(FakeLookup::new()).services())
        .given_no_previous_events()
        .when_async(request())
        .await
        .then_expect_error(DomainError::not_found("strategyId", "no such strategy"));
}

#[tokio::test]
async fn request_for_an_unknown_exchange_is_not_found() {
    let lookup = FakeLookup::new().with_strategy(strategy_id(), "RSI cross", 1, "RsiCross");
    TestFramework::<Hyperopt>::with(lookup.services())
        .given_no_previous_events()
        .when_async(request())
        .await
        .then_expect_error(DomainError::not_found("exchangeId", "no such exchange"));
}

#[tokio::test]
async fn request_on_an_existing_hyperopt_is_a_conflict() {
    fixture()
        .given(pending())
        .when_async(request())
        .await
        .then_expect_error(DomainError::conflict("id", "the hyperopt already exists"));
}

#[tokio::test]
async fn commands_on_a_never_requested_hyperopt_are_not_found() {
    for command in all_commands_but_request() {
        fixture()
            .given_no_previous_events()
            .when_async(command)
            .await
            .then_expect_error(DomainError::not_found("id", "no such hyperopt"));
    }
}

#[tokio::test]
async fn every_command_on_a_deleted_hyperopt_is_not_found() {
    let mut commands = all_commands_but_request();
    commands.push(request());
    for command in commands {
        fixture()
            .given(vec![requested(), HyperoptEvent::HyperoptDeleted])
            .when_async(command)
            .await
            .then_expect_error(DomainError::not_found("id", "the hyperopt was deleted"));
    }
}

#[tokio::test]
async fn start_complete_fail_cancel() {
    fixture()
        .given(pending())
        .when_async(HyperoptCommand::StartHyperopt {
            runtime_id: "job-7".into(),
        })
        .await
        .then_expect_events(vec![started()]);
    fixture()
        .given(running())
        .when_async(HyperoptCommand::CompleteHyperopt {
            results: Value::Object(results()),
        })
        .await
        .then_expect_events(vec![HyperoptEvent::HyperoptCompleted {
            results: results(),
        }]);
    fixture()
        .given(running())
        .when_async(HyperoptCommand::FailHyperopt {
            error: "oom".into(),
        })
        .await
        .then_expect_events(vec![HyperoptEvent::HyperoptFailed {
            error: "oom".into(),
        }]);
    for given in [pending(), running()] {
        fixture()
            .given(given)
            .when_async(HyperoptCommand::CancelHyperopt)
            .await
            .then_expect_events(vec![HyperoptEvent::HyperoptCancelled]);
    }
}

#[tokio::test]
async fn complete_with_results_that_are_not_an_object_is_invalid() {
    fixture()
        .given(running())
        .when_async(HyperoptCommand::CompleteHyperopt {
            results: json!(null),
        })
        .await
        .then_expect_error(DomainError::invalid("results", "must be a JSON object"));
}

#[tokio::test]
async fn illegal_transitions_are_conflicts() {
    fixture()
        .given(pending())
        .when_async(HyperoptCommand::CompleteHyperopt {
            results: Value::Object(results()),
        })
        .await
        .then_expect_error(DomainError::conflict(
            "status",
            "cannot complete a hyperopt that is pending",
        ));
    for (status, given) in finished() {
        fixture()
            .given(given.clone())
            .when_async(HyperoptCommand::CancelHyperopt)
            .await
            .then_expect_error(DomainError::conflict(
                "status",
                format!("cannot cancel a hyperopt that is {status}"),
            ));
        fixture()
            .given(given)
            .when_async(HyperoptCommand::StartHyperopt {
                runtime_id: "job-8".into(),
            })
            .await
            .then_expect_error(DomainError::conflict(
                "status",
                format!("cannot start a hyperopt that is {status}"),
            ));
    }
}

#[tokio::test]
async fn progress_while_running() {
    fixture()
        .given(running())
        .when_async(report(12.5, Some(12)))
        .await
        .then_expect_events(vec![progressed(12.5, Some(12))]);
    let mut given = running();
    given.push(progressed(12.5, Some(12)));
    fixture()
        .given(given)
        .when_async(report(100.0, Some(100)))
        .await
        .then_expect_events(vec![progressed(100.0, Some(100))]);
}

#[tokio::test]
async fn progress_that_repeats_records_nothing() {
    let mut given = running();
    given.push(progressed(40.0, Some(40)));
    fixture()
        .given(given)
        .when_async(report(40.0, Some(40)))
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn progress_that_goes_back_is_invalid() {
    let mut given = running();
    given.push(progressed(40.0, None));
    fixture()
        .given(given)
        .when_async(report(30.0, None))
        .await
        .then_expect_error(DomainError::invalid(
            "progress",
            "must not go back: was 40, got 30",
        ));
}

#[tokio::test]
async fn progress_out_of_range_is_invalid() {
    for bad in [-1.0, 100.5, f64::NAN] {
        fixture()
            .given(running())
            .when_async(report(bad, None))
            .await
            .then_expect_error(DomainError::invalid(
                "progress",
                format!("must be a percentage between 0 and 100, got {bad}"),
            ));
    }
}

#[tokio::test]
async fn progress_past_the_last_epoch_is_invalid() {
    fixture()
        .given(running())
        .when_async(report(50.0, Some(101)))
        .await
        .then_expect_error(DomainError::invalid(
            "epoch",
            "must be at most the 100 epochs requested, got 101",
        ));
}

#[tokio::test]
async fn progress_when_not_running_is_a_conflict() {
    fixture()
        .given(pending())
        .when_async(report(10.0, None))
        .await
        .then_expect_error(DomainError::conflict(
            "status",
            "cannot report progress of a hyperopt that is pending",
        ));
    for (status, given) in finished() {
        fixture()
            .given(given)
            .when_async(report(10.0, None))
            .await
            .then_expect_error(DomainError::conflict(
                "status",
                format!("cannot report progress of a hyperopt that is {status}"),
            ));
    }
}

#[tokio::test]
async fn delete_a_running_hyperopt_cancels_it_first() {
    fixture()
        .given(running())
        .when_async(HyperoptCommand::DeleteHyperopt)
        .await
        .then_expect_events(vec![
            HyperoptEvent::HyperoptCancelled,
            HyperoptEvent::HyperoptDeleted,
        ]);
    fixture()
        .given(pending())
        .when_async(HyperoptCommand::DeleteHyperopt)
        .await
        .then_expect_events(vec![HyperoptEvent::HyperoptDeleted]);
    for (_, given) in finished() {
        fixture()
            .given(given)
            .when_async(HyperoptCommand::DeleteHyperopt)
            .await
            .then_expect_events(vec![HyperoptEvent::HyperoptDeleted]);
    }
}

#[test]
fn state_follows_the_events() {
    let mut hyperopt = Hyperopt::default();
    for event in running() {
        hyperopt.apply(event);
    }
    hyperopt.apply(progressed(25.0, Some(25)));
    hyperopt.apply(progressed(30.0, None));
    let state = hyperopt.state().expect("requested");
    assert_eq!(state.status, JobStatus::Running);
    assert_eq!(state.progress.get(), 30.0);
    assert_eq!(state.epoch, Some(25));
    assert_eq!(state.spaces.to_strings(), ["buy", "sell"]);
    let json = serde_json::to_string(&hyperopt).expect("serialize");
    assert_eq!(
        serde_json::from_str::<Hyperopt>(&json).expect("deserialize"),
        hyperopt
    );
}

#[test]
fn events_are_named_and_versioned() {
    use cqrs_es::DomainEvent;
    assert_eq!(requested().event_type(), "HyperoptRequested");
    assert_eq!(
        progressed(1.0, None).event_type(),
        "HyperoptProgressReported"
    );
    assert_eq!(HyperoptEvent::HyperoptDeleted.event_version(), "1.0");
}
