use cqrs_es::test::TestFramework;
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::testing::FakeLookup;
use crate::values::{
    BotId, ConfigObject, CpuLimit, ExchangeName, MaxOpenTrades, MemoryLimit, Pairs, StakeAmount,
    Timeframe,
};

fn id() -> BotId {
    BotId::from(Uuid::from_u128(0xB0))
}

fn exchange_id() -> Uuid {
    Uuid::from_u128(0xE1)
}

fn live_exchange_id() -> Uuid {
    Uuid::from_u128(0xE2)
}

fn strategy_id() -> Uuid {
    Uuid::from_u128(0x51)
}

/// A test-mode Binance exchange, a real OKX one with all its secrets, and a strategy at
/// version 4.
fn lookup() -> FakeLookup {
    FakeLookup::new()
        .with_exchange(exchange_id(), ExchangeName::Binance, true, &[])
        .with_exchange(
            live_exchange_id(),
            ExchangeName::Okx,
            false,
            &["api_key", "api_secret", "passphrase"],
        )
        .with_strategy(strategy_id(), "RSI cross", 4, "RsiCross")
}

fn fixture() -> TestFramework<Bot> {
    TestFramework::with(lookup().services())
}

fn with(lookup: FakeLookup) -> TestFramework<Bot> {
    TestFramework::with(lookup.services())
}

fn create() -> BotCommand {
    BotCommand::CreateBot {
        bot_id: id(),
        name: "alpha".into(),
        exchange_id: exchange_id(),
        strategy_id: strategy_id(),
        mode: "dry_run".into(),
        runtime: None,
        config: BotConfigInput::default(),
        resources: ResourcesInput::default(),
        freqtrade_version: None,
    }
}

/// `create()` with some inputs changed.
fn create_with(change: impl FnOnce(&mut BotCommand)) -> BotCommand {
    let mut command = create();
    change(&mut command);
    command
}

fn create_with_config(config: BotConfigInput) -> BotCommand {
    create_with(|c| {
        if let BotCommand::CreateBot { config: slot, .. } = c {
            *slot = config;
        }
    })
}

fn create_live_on(exchange: Uuid) -> BotCommand {
    create_with(|c| {
        if let BotCommand::CreateBot {
            mode, exchange_id, ..
        } = c
        {
            *mode = "live".into();
            *exchange_id = exchange;
        }
    })
}

fn created_with(mode: BotMode, exchange: Uuid) -> BotEvent {
    BotEvent::BotCreated {
        bot_id: id(),
        name: EntityName::parse("alpha").expect("valid"),
        exchange_id: exchange,
        strategy_id: strategy_id(),
        strategy_version: 4,
        mode,
        runtime: None,
        config: BotConfig::default(),
        resources: ResourceLimits::default(),
        freqtrade_version: FreqtradeVersion::default(),
    }
}

fn created() -> BotEvent {
    created_with(BotMode::DryRun, exchange_id())
}

fn provisioned() -> BotEvent {
    BotEvent::BotProvisioned {
        runtime_id: RuntimeId::parse("ctr-1").expect("valid"),
    }
}

fn started() -> BotEvent {
    BotEvent::BotStarted {
        runtime_id: RuntimeId::parse("ctr-1").expect("valid"),
        api_url: ApiUrl::parse("http://10.0.0.7:8080").expect("valid"),
    }
}

fn failed(reason: &str) -> BotEvent {
    BotEvent::BotFailed {
        reason: reason.into(),
    }
}

/// Events that leave a dry-run bot in `status`.
fn history(status: BotStatus) -> Vec<BotEvent> {
    history_from(created(), status)
}

fn history_from(created: BotEvent, status: BotStatus) -> Vec<BotEvent> {
    use BotStatus::*;
    let mut events = vec![created];
    let tail: &[BotEvent] = match status {
        Creating => &[],
        Stopped => &[provisioned()],
        Starting => &[provisioned(), BotEvent::BotStartRequested],
        Running => &[provisioned(), BotEvent::BotStartRequested, started()],
        Stopping => &[
            provisioned(),
            BotEvent::BotStartRequested,
            started(),
            BotEvent::BotStopRequested,
        ],
        Error => &[provisioned(), failed("crashed")],
        Deleting => &[provisioned(), BotEvent::BotDeletionRequested],
        Deleted => &[
            provisioned(),
            BotEvent::BotDeletionRequested,
            BotEvent::BotDeleted,
        ],
    };
    events.extend_from_slice(tail);
    events
}

fn update() -> BotCommand {
    BotCommand::UpdateBot {
        name: None,
        config: None,
        resources: None,
        runtime: None,
        freqtrade_version: None,
        strategy_version: None,
    }
}

fn update_with(change: impl FnOnce(&mut BotCommand)) -> BotCommand {
    let mut command = update();
    change(&mut command);
    command
}

fn confirm_started() -> BotCommand {
    BotCommand::ConfirmBotStarted {
        runtime_id: "ctr-1".into(),
        api_url: "http://10.0.0.7:8080".into(),
    }
}

/// One of each command other than create.
fn every_other_command() -> Vec<BotCommand> {
    vec![
        BotCommand::ConfirmBotProvisioned {
            runtime_id: "ctr-1".into(),
        },
        update_with(|c| {
            if let BotCommand::UpdateBot { name, .. } = c {
                *name = Some("beta".into());
            }
        }),
        BotCommand::StartBot,
        confirm_started(),
        BotCommand::StopBot,
        BotCommand::ConfirmBotStopped,
        BotCommand::RestartBot,
        BotCommand::ReportBotFailure {
            reason: "boom".into(),
        },
        BotCommand::ReportBotLost {
            reason: "gone".into(),
        },
        BotCommand::DeleteBot,
        BotCommand::ConfirmBotDeleted,
        BotCommand::RequestTradeSync,
        BotCommand::RequestTradeClose { trade_id: 3 },
    ]
}

fn conflict(reason: &str) -> DomainError {
    DomainError::conflict("status", reason)
}

// ---- create ----

#[tokio::test]
async fn create_a_dry_run_bot_with_defaults() {
    fixture()
        .given_no_previous_events()
        .when_async(create())
        .await
        .then_expect_events(vec![created()]);
}

#[tokio::test]
async fn create_with_every_setting() {
    let command = BotCommand::CreateBot {
        bot_id: id(),
        name: "alpha".into(),
        exchange_id: exchange_id(),
        strategy_id: strategy_id(),
        mode: "dry_run".into(),
        runtime: Some("kubernetes".into()),
        config: BotConfigInput {
            max_open_trades: Some(-1),
            stake_amount: Some("unlimited".into()),
            pairs: Some(vec!["BTC/USDT".into(), "ETH/USDT:USDT".into()]),
            timeframe: Some("15m".into()),
            dry_run: Some(true),
            extra: Some(json!({"tradable_balance_ratio": 0.9})),
        },
        resources: ResourcesInput {
            cpu: Some("500m".into()),
            memory: Some("1Gi".into()),
        },
        freqtrade_version: Some("2025.10".into()),
    };
    let expected = BotEvent::BotCreated {
        bot_id: id(),
        name: EntityName::parse("alpha").expect("valid"),
        exchange_id: exchange_id(),
        strategy_id: strategy_id(),
        strategy_version: 4,
        mode: BotMode::DryRun,
        runtime: Some(RuntimeKind::Kubernetes),
        config: BotConfig {
            max_open_trades: Some(MaxOpenTrades::parse(-1).expect("valid")),
            stake_amount: Some(StakeAmount::parse("unlimited").expect("valid")),
            pairs: Some(Pairs::parse(&["BTC/USDT", "ETH/USDT:USDT"]).expect("valid")),
            timeframe: Some(Timeframe::M15),
            extra: ConfigObject::parse("config.extra", json!({"tradable_balance_ratio": 0.9}))
                .expect("valid"),
        },
        resources: ResourceLimits {
            cpu: Some(CpuLimit::parse("500m").expect("valid")),
            memory: Some(MemoryLimit::parse("1Gi").expect("valid")),
        },
        freqtrade_version: FreqtradeVersion::parse("2025.10").expect("valid"),
    };
    fixture()
        .given_no_previous_events()
        .when_async(command)
        .await
        .then_expect_events(vec![expected]);
}

#[tokio::test]
async fn create_with_a_bad_top_level_input_is_invalid() {
    type Change = Box<dyn FnOnce(&mut BotCommand)>;
    let cases: Vec<(Change, DomainError)> = vec![
        (
            Box::new(|c| {
                if let BotCommand::CreateBot { name, .. } = c {
                    *name = String::new();
                }
            }),
            DomainError::invalid("name", "must not be empty"),
        ),
        (
            Box::new(|c| {
                if let BotCommand::CreateBot { mode, .. } = c {
                    *mode = "paper".into();
                }
            }),
            DomainError::invalid(
                "mode",
                "unknown bot mode \"paper\"; expected one of: dry_run, live",
            ),
        ),
        (
            Box::new(|c| {
                if let BotCommand::CreateBot { runtime, .. } = c {
                    *runtime = Some("podman".into());
                }
            }),
            DomainError::invalid(
                "runtime",
                "unknown runtime \"podman\"; expected one of: docker, kubernetes, local",
            ),
        ),
        (
            Box::new(|c| {
                if let BotCommand::CreateBot { resources, .. } = c {
                    resources.memory = Some("32Mi".into());
                }
            }),
            DomainError::invalid(
                "resources.memory",
                "\"32Mi\" is out of range: must be between 64Mi and 1Ti",
            ),
        ),
        (
            Box::new(|c| {
                if let BotCommand::CreateBot { resources, .. } = c {
                    resources.cpu = Some("2 cores".into());
                }
            }),
            DomainError::invalid(
                "resources.cpu",
                "unknown unit \" cores\" in \"2 cores\": use cores (0.5, 2) or millicores (500m)",
            ),
        ),
        (
            Box::new(|c| {
                if let BotCommand::CreateBot {
                    freqtrade_version, ..
                } = c
                {
                    *freqtrade_version = Some("latest".into());
                }
            }),
            DomainError::invalid(
                "freqtradeVersion",
                "\"latest\" must be a freqtrade release like 2026.9 or 2026.9.1 (YYYY.M or YYYY.M.P)",
            ),
        ),
    ];
    for (change, error) in cases {
        fixture()
            .given_no_previous_events()
            .when_async(create_with(change))
            .await
            .then_expect_error(error);
    }
}

#[tokio::test]
async fn create_with_a_bad_config_is_invalid_on_the_nested_field() {
    let cases = [
        (
            BotConfigInput {
                max_open_trades: Some(0),
                ..Default::default()
            },
            DomainError::invalid(
                "config.maxOpenTrades",
                "must be between 1 and 1000, or -1 for unlimited, got 0",
            ),
        ),
        (
            BotConfigInput {
                stake_amount: Some("-10".into()),
                ..Default::default()
            },
            DomainError::invalid(
                "config.stakeAmount",
                "\"-10\" must be a number greater than 0 (like 100 or 0.05) or \"unlimited\"",
            ),
        ),
        (
            BotConfigInput {
                pairs: Some(vec!["BTC/USDT".into(), "btc/eth".into()]),
                ..Default::default()
            },
            DomainError::invalid(
                "config.pairs[1]",
                "\"btc/eth\" must be uppercase, like BTC/USDT",
            ),
        ),
        (
            BotConfigInput {
                pairs: Some(vec![]),
                ..Default::default()
            },
            DomainError::invalid("config.pairs", "at least one pair is required"),
        ),
        (
            BotConfigInput {
                timeframe: Some("10m".into()),
                ..Default::default()
            },
            DomainError::invalid(
                "config.timeframe",
                "unknown timeframe \"10m\"; expected one of: 1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M",
            ),
        ),
        (
            BotConfigInput {
                dry_run: Some(false),
                ..Default::default()
            },
            DomainError::invalid(
                "config.dryRun",
                "must agree with mode dry_run: dryRun false contradicts it",
            ),
        ),
        (
            BotConfigInput {
                extra: Some(json!([])),
                ..Default::default()
            },
            DomainError::invalid("config.extra", "must be a JSON object, got an array"),
        ),
        (
            BotConfigInput {
                extra: Some(json!({"dry_run": false})),
                ..Default::default()
            },
            DomainError::invalid(
                "config.extra.dry_run",
                "is set by AnyTrade (use the bot's own fields)",
            ),
        ),
        (
            BotConfigInput {
                extra: Some(json!({"api_server": {"enabled": false}})),
                ..Default::default()
            },
            DomainError::invalid(
                "config.extra.api_server",
                "is set by AnyTrade (use the bot's own fields)",
            ),
        ),
        (
            BotConfigInput {
                extra: Some(json!({"exchange": {"name": "kraken"}})),
                ..Default::default()
            },
            DomainError::invalid(
                "config.extra.exchange.name",
                "is set by AnyTrade from the bot's exchange",
            ),
        ),
        (
            BotConfigInput {
                extra: Some(json!({"exchange": {"secret": "s3cr3t"}})),
                ..Default::default()
            },
            DomainError::invalid(
                "config.extra.exchange.secret",
                "credentials go in exchange secrets, not in config",
            ),
        ),
    ];
    for (config, error) in cases {
        fixture()
            .given_no_previous_events()
            .when_async(create_with_config(config))
            .await
            .then_expect_error(error);
    }
}

#[tokio::test]
async fn create_on_a_missing_exchange_or_strategy_is_not_found() {
    with(FakeLookup::new().with_strategy(strategy_id(), "RSI cross", 4, "RsiCross"))
        .given_no_previous_events()
        .when_async(create())
        .await
        .then_expect_error(DomainError::not_found("exchangeId", "no such exchange"));
    with(FakeLookup::new().with_exchange(exchange_id(), ExchangeName::Binance, true, &[]))
        .given_no_previous_events()
        .when_async(create())
        .await
        .then_expect_error(DomainError::not_found("strategyId", "no such strategy"));
}

#[tokio::test]
async fn create_live_needs_an_exchange_out_of_test_mode() {
    fixture()
        .given_no_previous_events()
        .when_async(create_live_on(exchange_id()))
        .await
        .then_expect_error(DomainError::invalid(
            "mode",
            "live trading needs an exchange with testMode off; this exchange is in test mode",
        ));
    fixture()
        .given_no_previous_events()
        .when_async(create_live_on(live_exchange_id()))
        .await
        .then_expect_events(vec![created_with(BotMode::Live, live_exchange_id())]);
}

#[tokio::test]
async fn create_live_with_dry_run_true_is_invalid() {
    let command = create_with(|c| {
        if let BotCommand::CreateBot {
            mode,
            exchange_id,
            config,
            ..
        } = c
        {
            *mode = "live".into();
            *exchange_id = live_exchange_id();
            config.dry_run = Some(true);
        }
    });
    fixture()
        .given_no_previous_events()
        .when_async(command)
        .await
        .then_expect_error(DomainError::invalid(
            "config.dryRun",
            "must agree with mode live: dryRun true contradicts it",
        ));
}

#[tokio::test]
async fn create_when_the_lookup_fails_is_unavailable() {
    with(FakeLookup::new().unavailable("db down"))
        .given_no_previous_events()
        .when_async(create())
        .await
        .then_expect_error(DomainError::unavailable("db down"));
}

#[tokio::test]
async fn create_on_an_existing_bot_is_a_conflict() {
    fixture()
        .given(history(BotStatus::Running))
        .when_async(create())
        .await
        .then_expect_error(DomainError::conflict("id", "the bot already exists"));
}

#[tokio::test]
async fn commands_on_a_never_created_bot_are_not_found() {
    for command in every_other_command() {
        fixture()
            .given_no_previous_events()
            .when_async(command)
            .await
            .then_expect_error(DomainError::not_found("id", "no such bot"));
    }
}

#[tokio::test]
async fn every_command_on_a_deleted_bot_is_not_found() {
    let mut commands = every_other_command();
    commands.push(create());
    for command in commands {
        fixture()
            .given(history(BotStatus::Deleted))
            .when_async(command)
            .await
            .then_expect_error(DomainError::not_found("id", "the bot was deleted"));
    }
}

// ---- provisioning ----

#[tokio::test]
async fn confirm_provisioned() {
    fixture()
        .given(history(BotStatus::Creating))
        .when_async(BotCommand::ConfirmBotProvisioned {
            runtime_id: "ctr-1".into(),
        })
        .await
        .then_expect_events(vec![provisioned()]);
}

#[tokio::test]
async fn confirm_provisioned_twice_is_a_conflict() {
    fixture()
        .given(history(BotStatus::Stopped))
        .when_async(BotCommand::ConfirmBotProvisioned {
            runtime_id: "ctr-1".into(),
        })
        .await
        .then_expect_error(conflict(
            "cannot confirm provisioning of a bot that is stopped",
        ));
}

#[tokio::test]
async fn confirm_provisioned_with_a_bad_runtime_id_is_invalid() {
    fixture()
        .given(history(BotStatus::Creating))
        .when_async(BotCommand::ConfirmBotProvisioned {
            runtime_id: "has space".into(),
        })
        .await
        .then_expect_error(DomainError::invalid(
            "runtimeId",
            "must be 1 to 256 characters without whitespace",
        ));
}

// ---- update ----

#[tokio::test]
async fn update_a_stopped_bot_records_what_changes() {
    let command = BotCommand::UpdateBot {
        name: Some("beta".into()),
        config: Some(BotConfigInput {
            max_open_trades: Some(5),
            ..Default::default()
        }),
        resources: Some(ResourcesInput {
            cpu: Some("1".into()),
            memory: None,
        }),
        runtime: Some("docker".into()),
        freqtrade_version: Some("2026.9".into()),
        strategy_version: Some(2),
    };
    fixture()
        .given(history(BotStatus::Stopped))
        .when_async(command)
        .await
        .then_expect_events(vec![BotEvent::BotUpdated {
            name: Some(EntityName::parse("beta").expect("valid")),
            config: Some(BotConfig {
                max_open_trades: Some(MaxOpenTrades::parse(5).expect("valid")),
                ..Default::default()
            }),
            resources: Some(ResourceLimits {
                cpu: Some(CpuLimit::parse("1").expect("valid")),
                memory: None,
            }),
            runtime: Some(RuntimeKind::Docker),
            // 2026.9 is already the bot's version: unchanged, not recorded.
            freqtrade_version: None,
            strategy_version: Some(2),
        }]);
}

#[tokio::test]
async fn update_a_bot_in_error() {
    fixture()
        .given(history(BotStatus::Error))
        .when_async(update_with(|c| {
            if let BotCommand::UpdateBot { name, .. } = c {
                *name = Some("beta".into());
            }
        }))
        .await
        .then_expect_events(vec![BotEvent::BotUpdated {
            name: Some(EntityName::parse("beta").expect("valid")),
            config: None,
            resources: None,
            runtime: None,
            freqtrade_version: None,
            strategy_version: None,
        }]);
}

#[tokio::test]
async fn update_without_changes_records_nothing() {
    fixture()
        .given(history(BotStatus::Stopped))
        .when_async(BotCommand::UpdateBot {
            name: Some("alpha".into()),
            config: Some(BotConfigInput::default()),
            resources: Some(ResourcesInput::default()),
            runtime: None,
            freqtrade_version: Some("2026.9".into()),
            strategy_version: Some(4),
        })
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn update_while_the_bot_runs_is_a_conflict() {
    for status in [
        BotStatus::Creating,
        BotStatus::Starting,
        BotStatus::Running,
        BotStatus::Stopping,
        BotStatus::Deleting,
    ] {
        fixture()
            .given(history(status))
            .when_async(update_with(|c| {
                if let BotCommand::UpdateBot { name, .. } = c {
                    *name = Some("beta".into());
                }
            }))
            .await
            .then_expect_error(conflict(&format!(
                "stop the bot first: cannot update a bot that is {}",
                status.as_str()
            )));
    }
}

#[tokio::test]
async fn update_to_a_strategy_version_that_does_not_exist_is_invalid() {
    for version in [0, 5] {
        fixture()
            .given(history(BotStatus::Stopped))
            .when_async(update_with(|c| {
                if let BotCommand::UpdateBot {
                    strategy_version, ..
                } = c
                {
                    *strategy_version = Some(version);
                }
            }))
            .await
            .then_expect_error(DomainError::invalid(
                "strategyVersion",
                format!("must be between 1 and 4 (the strategy's current version), got {version}"),
            ));
    }
    with(FakeLookup::new())
        .given(history(BotStatus::Stopped))
        .when_async(update_with(|c| {
            if let BotCommand::UpdateBot {
                strategy_version, ..
            } = c
            {
                *strategy_version = Some(1);
            }
        }))
        .await
        .then_expect_error(DomainError::not_found(
            "strategyId",
            "the bot's strategy no longer exists",
        ));
}

#[tokio::test]
async fn update_with_bad_input_is_invalid() {
    fixture()
        .given(history(BotStatus::Stopped))
        .when_async(update_with(|c| {
            if let BotCommand::UpdateBot { config, name, .. } = c {
                *name = Some("beta".into());
                *config = Some(BotConfigInput {
                    pairs: Some(vec!["BTC/USDT".into(), "BTC/USDT".into()]),
                    ..Default::default()
                });
            }
        }))
        .await
        .then_expect_error(DomainError::invalid(
            "config.pairs[1]",
            "BTC/USDT repeats pairs[0]",
        ));
    fixture()
        .given(history(BotStatus::Stopped))
        .when_async(update_with(|c| {
            if let BotCommand::UpdateBot { config, .. } = c {
                *config = Some(BotConfigInput {
                    dry_run: Some(false),
                    ..Default::default()
                });
            }
        }))
        .await
        .then_expect_error(DomainError::invalid(
            "config.dryRun",
            "must agree with mode dry_run: dryRun false contradicts it",
        ));
    fixture()
        .given(history(BotStatus::Stopped))
        .when_async(update_with(|c| {
            if let BotCommand::UpdateBot { runtime, .. } = c {
                *runtime = Some("vm".into());
            }
        }))
        .await
        .then_expect_error(DomainError::invalid(
            "runtime",
            "unknown runtime \"vm\"; expected one of: docker, kubernetes, local",
        ));
}

// ---- start ----

#[tokio::test]
async fn start_a_stopped_or_failed_dry_run_bot() {
    for status in [BotStatus::Stopped, BotStatus::Error] {
        // A dry-run bot needs nothing from its exchange, even when the lookup is down.
        with(FakeLookup::new().unavailable("db down"))
            .given(history(status))
            .when_async(BotCommand::StartBot)
            .await
            .then_expect_events(vec![BotEvent::BotStartRequested]);
    }
}

#[tokio::test]
async fn start_from_other_statuses_is_a_conflict() {
    for status in [
        BotStatus::Starting,
        BotStatus::Running,
        BotStatus::Stopping,
        BotStatus::Deleting,
    ] {
        fixture()
            .given(history(status))
            .when_async(BotCommand::StartBot)
            .await
            .then_expect_error(conflict(&format!(
                "cannot start a bot that is {}",
                status.as_str()
            )));
    }
}

#[tokio::test]
async fn start_a_live_bot_with_all_secrets() {
    fixture()
        .given(history_from(
            created_with(BotMode::Live, live_exchange_id()),
            BotStatus::Stopped,
        ))
        .when_async(BotCommand::StartBot)
        .await
        .then_expect_events(vec![BotEvent::BotStartRequested]);
}

#[tokio::test]
async fn start_a_live_bot_with_missing_secrets_is_invalid() {
    with(FakeLookup::new().with_exchange(
        live_exchange_id(),
        ExchangeName::Okx,
        false,
        &["api_key"],
    ))
    .given(history_from(
        created_with(BotMode::Live, live_exchange_id()),
        BotStatus::Stopped,
    ))
    .when_async(BotCommand::StartBot)
    .await
    .then_expect_error(DomainError::invalid(
        "mode",
        "live trading on okx needs the exchange secrets api_key, api_secret, passphrase; missing: api_secret, passphrase",
    ));
}

#[tokio::test]
async fn start_a_live_bot_on_an_exchange_back_in_test_mode_is_invalid() {
    with(FakeLookup::new().with_exchange(
        live_exchange_id(),
        ExchangeName::Okx,
        true,
        &["api_key", "api_secret", "passphrase"],
    ))
    .given(history_from(
        created_with(BotMode::Live, live_exchange_id()),
        BotStatus::Error,
    ))
    .when_async(BotCommand::StartBot)
    .await
    .then_expect_error(DomainError::invalid(
        "mode",
        "live trading needs an exchange with testMode off; this exchange is in test mode",
    ));
}

#[tokio::test]
async fn start_a_live_bot_whose_exchange_is_gone_is_not_found() {
    with(FakeLookup::new())
        .given(history_from(
            created_with(BotMode::Live, live_exchange_id()),
            BotStatus::Stopped,
        ))
        .when_async(BotCommand::StartBot)
        .await
        .then_expect_error(DomainError::not_found(
            "exchangeId",
            "the bot's exchange no longer exists",
        ));
}

#[tokio::test]
async fn start_a_live_bot_when_the_lookup_fails_is_unavailable() {
    with(FakeLookup::new().unavailable("db down"))
        .given(history_from(
            created_with(BotMode::Live, live_exchange_id()),
            BotStatus::Stopped,
        ))
        .when_async(BotCommand::StartBot)
        .await
        .then_expect_error(DomainError::unavailable("db down"));
}

#[tokio::test]
async fn confirm_started_from_starting() {
    fixture()
        .given(history(BotStatus::Starting))
        .when_async(confirm_started())
        .await
        .then_expect_events(vec![started()]);
}

#[tokio::test]
async fn confirm_started_with_a_bad_api_url_is_invalid() {
    fixture()
        .given(history(BotStatus::Starting))
        .when_async(BotCommand::ConfirmBotStarted {
            runtime_id: "ctr-1".into(),
            api_url: "10.0.0.7:8080".into(),
        })
        .await
        .then_expect_error(DomainError::invalid(
            "apiUrl",
            "\"10.0.0.7:8080\" must be an http:// or https:// URL with a host",
        ));
}

#[tokio::test]
async fn confirm_started_when_not_starting_is_a_conflict() {
    fixture()
        .given(history(BotStatus::Stopped))
        .when_async(confirm_started())
        .await
        .then_expect_error(conflict(
            "cannot confirm the start of a bot that is stopped",
        ));
}

// ---- stop, restart ----

#[tokio::test]
async fn stop_a_running_or_starting_bot() {
    for status in [BotStatus::Running, BotStatus::Starting] {
        fixture()
            .given(history(status))
            .when_async(BotCommand::StopBot)
            .await
            .then_expect_events(vec![BotEvent::BotStopRequested]);
    }
}

#[tokio::test]
async fn stop_a_bot_that_does_not_run_is_a_conflict() {
    for status in [BotStatus::Stopped, BotStatus::Stopping, BotStatus::Deleting] {
        fixture()
            .given(history(status))
            .when_async(BotCommand::StopBot)
            .await
            .then_expect_error(conflict(&format!(
                "cannot stop a bot that is {}",
                status.as_str()
            )));
    }
}

/// A bot in error may be stopped, so one the reconciler would start again stays down.
#[tokio::test]
async fn stop_a_bot_in_error() {
    let mut bot = Bot::default();
    for event in history(BotStatus::Running) {
        bot.apply(event);
    }
    bot.apply(failed("gone"));
    assert!(bot.state().expect("created").failed_while_running);
    fixture()
        .given(history(BotStatus::Error))
        .when_async(BotCommand::StopBot)
        .await
        .then_expect_events(vec![BotEvent::BotStopRequested]);
    bot.apply(BotEvent::BotStopRequested);
    assert!(!bot.state().expect("created").failed_while_running);
}

#[tokio::test]
async fn the_loss_of_a_process_is_reported_only_while_it_runs() {
    let lost = || BotCommand::ReportBotLost {
        reason: "gone".into(),
    };
    fixture()
        .given(history(BotStatus::Running))
        .when_async(lost())
        .await
        .then_expect_events(vec![failed("gone")]);
    for status in [BotStatus::Stopping, BotStatus::Error, BotStatus::Deleting] {
        fixture()
            .given(history(status))
            .when_async(lost())
            .await
            .then_expect_error(conflict(&format!(
                "cannot report the loss of the process of a bot that is {}",
                status.as_str()
            )));
    }
}

#[tokio::test]
async fn confirm_stopped() {
    fixture()
        .given(history(BotStatus::Stopping))
        .when_async(BotCommand::ConfirmBotStopped)
        .await
        .then_expect_events(vec![BotEvent::BotStopped]);
    fixture()
        .given(history(BotStatus::Running))
        .when_async(BotCommand::ConfirmBotStopped)
        .await
        .then_expect_error(conflict("cannot confirm the stop of a bot that is running"));
}

#[tokio::test]
async fn restart_a_running_bot() {
    fixture()
        .given(history(BotStatus::Running))
        .when_async(BotCommand::RestartBot)
        .await
        .then_expect_events(vec![BotEvent::BotRestartRequested]);
    fixture()
        .given(history(BotStatus::Stopped))
        .when_async(BotCommand::RestartBot)
        .await
        .then_expect_error(conflict("cannot restart a bot that is stopped"));
}

// ---- wanted while creating ----

fn wanted(wanted: WantedState) -> BotEvent {
    BotEvent::BotWantedStateSet { wanted }
}

#[tokio::test]
async fn a_start_or_restart_while_creating_is_wanted_once() {
    for command in [BotCommand::StartBot, BotCommand::RestartBot] {
        fixture()
            .given(history(BotStatus::Creating))
            .when_async(command.clone())
            .await
            .then_expect_events(vec![wanted(WantedState::Running)]);
        let mut given = history(BotStatus::Creating);
        given.push(wanted(WantedState::Running));
        fixture()
            .given(given)
            .when_async(command)
            .await
            .then_expect_events(vec![]);
    }
}

#[tokio::test]
async fn a_stop_while_creating_calls_a_wanted_start_off() {
    fixture()
        .given(history(BotStatus::Creating))
        .when_async(BotCommand::StopBot)
        .await
        .then_expect_events(vec![]);
    let mut given = history(BotStatus::Creating);
    given.push(wanted(WantedState::Running));
    fixture()
        .given(given)
        .when_async(BotCommand::StopBot)
        .await
        .then_expect_events(vec![wanted(WantedState::Stopped)]);
}

#[tokio::test]
async fn a_wanted_start_is_checked_like_a_start() {
    let refused = with(lookup().with_exchange(
        live_exchange_id(),
        ExchangeName::parse("binance").expect("name"),
        false,
        &["api_key"],
    ))
    .given(history_from(
        created_with(BotMode::Live, live_exchange_id()),
        BotStatus::Creating,
    ))
    .when_async(BotCommand::StartBot)
    .await
    .inspect_result()
    .expect_err("refused");
    assert_eq!(refused.field(), Some("mode"), "{refused}");
}

#[tokio::test]
async fn the_wish_is_kept_until_a_request_carries_it_out() {
    let mut bot = Bot::default();
    for event in history(BotStatus::Creating) {
        bot.apply(event);
    }
    bot.apply(wanted(WantedState::Running));
    bot.apply(provisioned());
    let state = bot.state().expect("created");
    assert_eq!(
        (state.status, state.wanted),
        (BotStatus::Stopped, Some(WantedState::Running))
    );
    bot.apply(BotEvent::BotStartRequested);
    assert_eq!(bot.state().expect("created").wanted, None);
}

// ---- failure ----

#[tokio::test]
async fn a_failure_moves_any_live_state_to_error() {
    for status in [
        BotStatus::Creating,
        BotStatus::Stopped,
        BotStatus::Starting,
        BotStatus::Running,
        BotStatus::Stopping,
        BotStatus::Error,
        BotStatus::Deleting,
    ] {
        fixture()
            .given(history(status))
            .when_async(BotCommand::ReportBotFailure {
                reason: " container exited with 137 ".into(),
            })
            .await
            .then_expect_events(vec![failed("container exited with 137")]);
    }
}

#[tokio::test]
async fn only_a_failure_while_running_leaves_the_bot_restartable() {
    let after_failure = |status| {
        let mut bot = Bot::default();
        for event in history(status) {
            bot.apply(event);
        }
        bot.apply(failed("gone"));
        bot.state().expect("created").failed_while_running
    };
    assert!(after_failure(BotStatus::Running));
    for status in [BotStatus::Starting, BotStatus::Stopped, BotStatus::Error] {
        assert!(!after_failure(status), "failed from {status:?}");
    }
}

// ---- delete ----

#[tokio::test]
async fn delete_a_running_or_starting_bot_stops_it_first() {
    for status in [BotStatus::Running, BotStatus::Starting] {
        fixture()
            .given(history(status))
            .when_async(BotCommand::DeleteBot)
            .await
            .then_expect_events(vec![
                BotEvent::BotStopRequested,
                BotEvent::BotDeletionRequested,
            ]);
    }
}

#[tokio::test]
async fn delete_a_bot_that_does_not_run() {
    for status in [
        BotStatus::Creating,
        BotStatus::Stopped,
        BotStatus::Stopping,
        BotStatus::Error,
    ] {
        fixture()
            .given(history(status))
            .when_async(BotCommand::DeleteBot)
            .await
            .then_expect_events(vec![BotEvent::BotDeletionRequested]);
    }
}

#[tokio::test]
async fn delete_twice_is_a_conflict() {
    fixture()
        .given(history(BotStatus::Deleting))
        .when_async(BotCommand::DeleteBot)
        .await
        .then_expect_error(conflict("cannot delete a bot that is deleting"));
}

#[tokio::test]
async fn confirm_deleted() {
    fixture()
        .given(history(BotStatus::Deleting))
        .when_async(BotCommand::ConfirmBotDeleted)
        .await
        .then_expect_events(vec![BotEvent::BotDeleted]);
    fixture()
        .given(history(BotStatus::Stopped))
        .when_async(BotCommand::ConfirmBotDeleted)
        .await
        .then_expect_error(conflict(
            "cannot confirm the deletion of a bot that is stopped",
        ));
}

// ---- state ----

#[test]
fn every_history_leads_to_its_status() {
    for &status in BotStatus::ALL {
        let mut bot = Bot::default();
        for event in history(status) {
            bot.apply(event);
        }
        assert_eq!(bot.status(), Some(status));
    }
}

#[test]
fn state_follows_the_events() {
    let mut bot = Bot::default();
    assert_eq!(bot.status(), None);
    for event in history(BotStatus::Running) {
        bot.apply(event);
    }
    let state = bot.state().expect("created");
    assert_eq!(state.strategy_version, 4);
    assert_eq!(
        state.api_url.as_ref().map(|u| u.as_str()),
        Some("http://10.0.0.7:8080")
    );
    bot.apply(failed("oom"));
    assert_eq!(
        bot.state().and_then(|s| s.last_error.as_deref()),
        Some("oom")
    );
    bot.apply(BotEvent::BotStartRequested);
    bot.apply(started());
    assert_eq!(bot.state().and_then(|s| s.last_error.as_deref()), None);
    bot.apply(BotEvent::BotStopRequested);
    bot.apply(BotEvent::BotStopped);
    assert_eq!(bot.state().and_then(|s| s.api_url.as_ref()), None);
    let json = serde_json::to_string(&bot).expect("serialize");
    assert_eq!(
        serde_json::from_str::<Bot>(&json).expect("deserialize"),
        bot
    );
}

#[test]
fn events_are_named_versioned_and_round_trip() {
    use cqrs_es::DomainEvent;
    assert_eq!(created().event_type(), "BotCreated");
    assert_eq!(
        BotEvent::BotDeletionRequested.event_type(),
        "BotDeletionRequested"
    );
    assert_eq!(started().event_version(), "1.0");
    for event in history(BotStatus::Deleted)
        .into_iter()
        .chain(history(BotStatus::Running))
        .chain([failed("x")])
    {
        let json = serde_json::to_value(&event).expect("serialize");
        let back: BotEvent = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back, event);
    }
}

#[tokio::test]
async fn garbage_input_never_panics() {
    let inputs = crate::garbage::strings(120);
    for (i, input) in inputs.iter().enumerate() {
        let text = || Some(input.clone());
        let command = BotCommand::CreateBot {
            bot_id: id(),
            name: input.clone(),
            exchange_id: exchange_id(),
            strategy_id: strategy_id(),
            mode: if i % 2 == 0 {
                "dry_run".into()
            } else {
                input.clone()
            },
            runtime: text(),
            config: BotConfigInput {
                max_open_trades: Some(i as i64 - 2),
                stake_amount: text(),
                pairs: Some(vec![input.clone()]),
                timeframe: text(),
                dry_run: Some(i % 3 == 0),
                extra: serde_json::from_str(input).ok(),
            },
            resources: ResourcesInput {
                cpu: text(),
                memory: text(),
            },
            freqtrade_version: text(),
        };
        let _ = fixture()
            .given_no_previous_events()
            .when_async(command)
            .await
            .inspect_result();
        let _ = fixture()
            .given(history(BotStatus::Starting))
            .when_async(BotCommand::ConfirmBotStarted {
                runtime_id: input.clone(),
                api_url: input.clone(),
            })
            .await
            .inspect_result();
    }
}

// ---- trade requests ----

#[tokio::test]
async fn a_running_bot_takes_trade_sync_and_close_requests() {
    fixture()
        .given(history(BotStatus::Running))
        .when_async(BotCommand::RequestTradeSync)
        .await
        .then_expect_events(vec![BotEvent::TradeSyncRequested]);
    fixture()
        .given(history(BotStatus::Running))
        .when_async(BotCommand::RequestTradeClose { trade_id: 3 })
        .await
        .then_expect_events(vec![BotEvent::TradeCloseRequested { trade_id: 3 }]);
}

#[tokio::test]
async fn trade_requests_need_a_running_bot_and_a_real_trade_id() {
    fixture()
        .given(history(BotStatus::Stopped))
        .when_async(BotCommand::RequestTradeSync)
        .await
        .then_expect_error(conflict("cannot sync the trades of a bot that is stopped"));
    fixture()
        .given(history(BotStatus::Running))
        .when_async(BotCommand::RequestTradeClose { trade_id: 0 })
        .await
        .then_expect_error(DomainError::invalid("tradeId", "must be positive"));
}

// ---- runtime repairs ----

#[tokio::test]
async fn removed_instances_are_recorded_in_any_state_and_change_nothing() {
    let removed = || BotCommand::RecordInstanceRemoved {
        runtime_id: "bot-1".into(),
        reason: "no bot should run it".into(),
    };
    let event = BotEvent::BotInstanceRemoved {
        runtime_id: RuntimeId::parse("bot-1").unwrap(),
        reason: "no bot should run it".into(),
    };
    for status in [BotStatus::Stopped, BotStatus::Deleted, BotStatus::Running] {
        fixture()
            .given(history(status))
            .when_async(removed())
            .await
            .then_expect_events(vec![event.clone()]);
    }
    // A bot this control plane never knew (its instance outlived a wiped database).
    fixture()
        .given_no_previous_events()
        .when_async(removed())
        .await
        .then_expect_events(vec![event.clone()]);
    let mut bot = Bot::default();
    bot.apply(event);
    assert_eq!(bot, Bot::default());
    fixture()
        .given_no_previous_events()
        .when_async(BotCommand::RecordInstanceRemoved {
            runtime_id: "has space".into(),
            reason: String::new(),
        })
        .await
        .then_expect_error(DomainError::invalid(
            "runtimeId",
            "must be 1 to 256 characters without whitespace",
        ));
}

// ---- health ----

#[tokio::test]
async fn a_bot_in_error_recovers_to_running_and_only_from_error() {
    fixture()
        .given(history(BotStatus::Error))
        .when_async(BotCommand::ConfirmBotRecovered)
        .await
        .then_expect_events(vec![BotEvent::BotRecovered]);
    fixture()
        .given(history(BotStatus::Stopped))
        .when_async(BotCommand::ConfirmBotRecovered)
        .await
        .then_expect_error(conflict(
            "cannot confirm the recovery of a bot that is stopped",
        ));
    let mut bot = Bot::default();
    for event in history(BotStatus::Error) {
        bot.apply(event);
    }
    bot.apply(BotEvent::BotRecovered);
    let state = bot.state().unwrap();
    assert_eq!(state.status, BotStatus::Running);
    assert_eq!(state.last_error, None);
}
