use cqrs_es::test::TestFramework;
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::testing::FakeLookup;

type Fixture = TestFramework<Exchange>;

fn id() -> Uuid {
    Uuid::from_u128(0xE1)
}

fn sealed(tag: &str) -> SealedSecret {
    SealedSecret::new("key-1", format!("nonce-{tag}"), format!("cipher-{tag}"))
}

fn name(text: &str) -> SecretName {
    SecretName::parse(text).expect("valid secret name")
}

fn fixture() -> Fixture {
    TestFramework::with(FakeLookup::new().services())
}

fn created() -> ExchangeEvent {
    ExchangeEvent::ExchangeCreated {
        exchange_id: id(),
        name: ExchangeName::Okx,
        test_mode: true,
        config: ConfigObject::parse("config", json!({"rateLimit": 50})).expect("valid"),
    }
}

fn secret_added(text: &str) -> ExchangeEvent {
    ExchangeEvent::ExchangeSecretAdded {
        name: name(text),
        value: sealed(text),
    }
}

fn create(name: &str, config: serde_json::Value) -> ExchangeCommand {
    ExchangeCommand::CreateExchange {
        exchange_id: id(),
        name: name.to_owned(),
        test_mode: true,
        config,
        secrets: Vec::new(),
    }
}

/// One of each command other than create, for the "every command" rules.
fn every_other_command() -> Vec<ExchangeCommand> {
    vec![
        ExchangeCommand::UpdateExchange {
            test_mode: Some(false),
            config: None,
        },
        ExchangeCommand::AddExchangeSecret {
            name: "api_key".into(),
            value: sealed("k"),
        },
        ExchangeCommand::RotateExchangeSecret {
            name: "api_key".into(),
            value: sealed("k2"),
        },
        ExchangeCommand::ResealExchangeSecret {
            name: "api_key".into(),
            value: sealed("k3"),
        },
        ExchangeCommand::RemoveExchangeSecret {
            name: "api_key".into(),
        },
        ExchangeCommand::DeleteExchange,
    ]
}

#[tokio::test]
async fn create_exchange() {
    fixture()
        .given_no_previous_events()
        .when_async(create("okx", json!({"rateLimit": 50})))
        .await
        .then_expect_events(vec![created()]);
}

#[tokio::test]
async fn create_with_an_unknown_exchange_is_invalid() {
    fixture()
        .given_no_previous_events()
        .when_async(create("mtgox", json!({})))
        .await
        .then_expect_error(DomainError::invalid(
            "name",
            "unknown exchange \"mtgox\"; expected one of: binance, binanceus, coinbase, kraken, kucoin, bybit, okx, bitfinex, sandbox",
        ));
}

#[tokio::test]
async fn create_with_config_that_is_not_an_object_is_invalid() {
    fixture()
        .given_no_previous_events()
        .when_async(create("okx", json!([1, 2])))
        .await
        .then_expect_error(DomainError::invalid(
            "config",
            "must be a JSON object, got an array",
        ));
}

#[tokio::test]
async fn create_with_credentials_in_config_is_invalid_at_any_depth() {
    let cases = [
        (json!({"key": "abc"}), "config.key"),
        (json!({"secret": "abc"}), "config.secret"),
        (json!({"password": "abc"}), "config.password"),
        (json!({"uid": "abc"}), "config.uid"),
        (
            json!({"ccxt_config": {"apiKey": "abc"}}),
            "config.ccxt_config.apiKey",
        ),
        (
            json!({"a": [{"b": {"privateKey": "x"}}]}),
            "config.a[0].b.privateKey",
        ),
        (json!({"walletAddress": "0x"}), "config.walletAddress"),
        (json!({"API_KEY": "abc"}), "config.API_KEY"),
    ];
    for (config, field) in cases {
        fixture()
            .given_no_previous_events()
            .when_async(create("okx", config))
            .await
            .then_expect_error(DomainError::invalid(
                field,
                "credentials go in exchange secrets, not in config",
            ));
    }
}

#[tokio::test]
async fn config_keys_that_only_contain_credential_words_are_fine() {
    let config = json!({"ccxt_config": {"sort_key": "x", "secretive": false}, "keys": []});
    fixture()
        .given_no_previous_events()
        .when_async(create("binance", config.clone()))
        .await
        .then_expect_events(vec![ExchangeEvent::ExchangeCreated {
            exchange_id: id(),
            name: ExchangeName::Binance,
            test_mode: true,
            config: ConfigObject::parse("config", config).expect("valid"),
        }]);
}

#[tokio::test]
async fn create_on_an_existing_exchange_is_a_conflict() {
    fixture()
        .given(vec![created()])
        .when_async(create("okx", json!({})))
        .await
        .then_expect_error(DomainError::conflict("id", "the exchange already exists"));
}

#[tokio::test]
async fn commands_on_a_never_created_exchange_are_not_found() {
    for command in every_other_command() {
        fixture()
            .given_no_previous_events()
            .when_async(command)
            .await
            .then_expect_error(DomainError::not_found("id", "no such exchange"));
    }
}

#[tokio::test]
async fn every_command_on_a_deleted_exchange_is_not_found() {
    let mut commands = every_other_command();
    commands.push(create("okx", json!({})));
    for command in commands {
        fixture()
            .given(vec![created(), ExchangeEvent::ExchangeDeleted])
            .when_async(command)
            .await
            .then_expect_error(DomainError::not_found("id", "the exchange was deleted"));
    }
}

#[tokio::test]
async fn update_records_only_what_changes() {
    fixture()
        .given(vec![created()])
        .when_async(ExchangeCommand::UpdateExchange {
            test_mode: Some(false),
            config: Some(json!({"rateLimit": 50})),
        })
        .await
        .then_expect_events(vec![ExchangeEvent::ExchangeUpdated {
            test_mode: Some(false),
            config: None,
        }]);

    fixture()
        .given(vec![created()])
        .when_async(ExchangeCommand::UpdateExchange {
            test_mode: None,
            config: Some(json!({"rateLimit": 100})),
        })
        .await
        .then_expect_events(vec![ExchangeEvent::ExchangeUpdated {
            test_mode: None,
            config: Some(ConfigObject::parse("config", json!({"rateLimit": 100})).expect("valid")),
        }]);
}

#[tokio::test]
async fn update_without_changes_records_nothing() {
    fixture()
        .given(vec![created()])
        .when_async(ExchangeCommand::UpdateExchange {
            test_mode: Some(true),
            config: None,
        })
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn update_with_bad_config_is_invalid() {
    fixture()
        .given(vec![created()])
        .when_async(ExchangeCommand::UpdateExchange {
            test_mode: Some(false),
            config: Some(json!({"options": {"secret": "x"}})),
        })
        .await
        .then_expect_error(DomainError::invalid(
            "config.options.secret",
            "credentials go in exchange secrets, not in config",
        ));
    fixture()
        .given(vec![created()])
        .when_async(ExchangeCommand::UpdateExchange {
            test_mode: None,
            config: Some(json!("text")),
        })
        .await
        .then_expect_error(DomainError::invalid(
            "config",
            "must be a JSON object, got a string",
        ));
}

#[tokio::test]
async fn add_secret() {
    fixture()
        .given(vec![created()])
        .when_async(ExchangeCommand::AddExchangeSecret {
            name: "api_key".into(),
            value: sealed("api_key"),
        })
        .await
        .then_expect_events(vec![secret_added("api_key")]);
}

#[tokio::test]
async fn add_secret_with_a_taken_name_is_a_conflict() {
    fixture()
        .given(vec![created(), secret_added("api_key")])
        .when_async(ExchangeCommand::AddExchangeSecret {
            name: "api_key".into(),
            value: sealed("other"),
        })
        .await
        .then_expect_error(DomainError::conflict(
            "name",
            "the exchange already has a secret named api_key; rotate it instead",
        ));
}

#[tokio::test]
async fn add_secret_with_a_bad_name_is_invalid() {
    fixture()
        .given(vec![created()])
        .when_async(ExchangeCommand::AddExchangeSecret {
            name: "API-KEY".into(),
            value: sealed("x"),
        })
        .await
        .then_expect_error(DomainError::invalid(
            "name",
            "secret name \"API-KEY\" must be 1 to 64 characters of a-z, 0-9 and _, starting with a letter",
        ));
}

#[tokio::test]
async fn add_secret_with_an_empty_sealed_value_is_invalid() {
    fixture()
        .given(vec![created()])
        .when_async(ExchangeCommand::AddExchangeSecret {
            name: "api_key".into(),
            value: SealedSecret::new("key-1", "", ""),
        })
        .await
        .then_expect_error(DomainError::invalid(
            "value",
            "sealed secret is missing its key id, nonce or ciphertext",
        ));
}

#[tokio::test]
async fn rotate_secret() {
    fixture()
        .given(vec![created(), secret_added("api_key")])
        .when_async(ExchangeCommand::RotateExchangeSecret {
            name: "api_key".into(),
            value: sealed("new"),
        })
        .await
        .then_expect_events(vec![ExchangeEvent::ExchangeSecretRotated {
            name: name("api_key"),
            value: sealed("new"),
        }]);
}

#[tokio::test]
async fn rotate_an_absent_secret_is_not_found() {
    fixture()
        .given(vec![created()])
        .when_async(ExchangeCommand::RotateExchangeSecret {
            name: "api_key".into(),
            value: sealed("new"),
        })
        .await
        .then_expect_error(DomainError::not_found(
            "name",
            "the exchange has no secret named api_key",
        ));
}

#[tokio::test]
async fn reseal_a_secret_under_another_key() {
    let resealed = SealedSecret::new("key-2", "nonce-r", "cipher-r");
    fixture()
        .given(vec![created(), secret_added("api_key")])
        .when_async(ExchangeCommand::ResealExchangeSecret {
            name: "api_key".into(),
            value: resealed.clone(),
        })
        .await
        .then_expect_events(vec![ExchangeEvent::ExchangeSecretResealed {
            name: name("api_key"),
            value: resealed,
        }]);
}

#[tokio::test]
async fn resealing_under_the_same_key_changes_nothing() {
    fixture()
        .given(vec![created(), secret_added("api_key")])
        .when_async(ExchangeCommand::ResealExchangeSecret {
            name: "api_key".into(),
            value: sealed("again"),
        })
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn reseal_an_absent_secret_is_not_found() {
    fixture()
        .given(vec![created()])
        .when_async(ExchangeCommand::ResealExchangeSecret {
            name: "api_key".into(),
            value: sealed("new"),
        })
        .await
        .then_expect_error(DomainError::not_found(
            "name",
            "the exchange has no secret named api_key",
        ));
}

#[tokio::test]
async fn remove_secret() {
    fixture()
        .given(vec![created(), secret_added("api_key")])
        .when_async(ExchangeCommand::RemoveExchangeSecret {
            name: "api_key".into(),
        })
        .await
        .then_expect_events(vec![ExchangeEvent::ExchangeSecretRemoved {
            name: name("api_key"),
        }]);
}

#[tokio::test]
async fn remove_an_absent_secret_is_not_found() {
    fixture()
        .given(vec![
            created(),
            secret_added("api_key"),
            ExchangeEvent::ExchangeSecretRemoved {
                name: name("api_key"),
            },
        ])
        .when_async(ExchangeCommand::RemoveExchangeSecret {
            name: "api_key".into(),
        })
        .await
        .then_expect_error(DomainError::not_found(
            "name",
            "the exchange has no secret named api_key",
        ));
}

#[tokio::test]
async fn delete_exchange() {
    fixture()
        .given(vec![created()])
        .when_async(ExchangeCommand::DeleteExchange)
        .await
        .then_expect_events(vec![ExchangeEvent::ExchangeDeleted]);
}

#[tokio::test]
async fn delete_while_bots_use_the_exchange_is_a_conflict() {
    TestFramework::<Exchange>::with(
        FakeLookup::new()
            .with_bots_using_exchange(id(), 2)
            .services(),
    )
    .given(vec![created()])
    .when_async(ExchangeCommand::DeleteExchange)
    .await
    .then_expect_error(DomainError::conflict(
        "id",
        "2 bot(s) still use this exchange; delete them first",
    ));
}

#[tokio::test]
async fn delete_when_the_lookup_fails_is_unavailable() {
    TestFramework::<Exchange>::with(FakeLookup::new().unavailable("read model down").services())
        .given(vec![created()])
        .when_async(ExchangeCommand::DeleteExchange)
        .await
        .then_expect_error(DomainError::unavailable("read model down"));
}

#[test]
fn missing_secrets_follow_the_exchange_requirements() {
    let mut exchange = Exchange::default();
    assert_eq!(exchange.missing_secrets(), Vec::<&str>::new());
    exchange.apply(created());
    assert_eq!(
        exchange.missing_secrets(),
        vec!["api_key", "api_secret", "passphrase"]
    );
    exchange.apply(secret_added("api_secret"));
    exchange.apply(secret_added("other"));
    assert_eq!(exchange.missing_secrets(), vec!["api_key", "passphrase"]);
    exchange.apply(secret_added("api_key"));
    exchange.apply(secret_added("passphrase"));
    assert_eq!(exchange.missing_secrets(), Vec::<&str>::new());
}

#[test]
fn state_round_trips_through_json_without_exposing_secrets_in_debug() {
    let mut exchange = Exchange::default();
    exchange.apply(created());
    exchange.apply(secret_added("api_key"));
    let json = serde_json::to_string(&exchange).expect("serialize");
    let back: Exchange = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, exchange);
    assert!(!format!("{exchange:?}").contains("cipher-api_key"));
}

#[test]
fn events_are_named_and_versioned() {
    use cqrs_es::DomainEvent;
    assert_eq!(created().event_type(), "ExchangeCreated");
    assert_eq!(
        ExchangeEvent::ExchangeDeleted.event_type(),
        "ExchangeDeleted"
    );
    assert_eq!(created().event_version(), "1.0");
    let json = serde_json::to_value(created()).expect("serialize");
    let back: ExchangeEvent = serde_json::from_value(json).expect("deserialize");
    assert_eq!(back, created());
}

#[tokio::test]
async fn create_with_secrets_writes_them_in_the_same_command() {
    let command = ExchangeCommand::CreateExchange {
        exchange_id: id(),
        name: "okx".into(),
        test_mode: true,
        config: json!({"rateLimit": 50}),
        secrets: vec![
            ("api_key".into(), sealed("api_key")),
            ("api_secret".into(), sealed("api_secret")),
        ],
    };
    fixture()
        .given_no_previous_events()
        .when_async(command)
        .await
        .then_expect_events(vec![
            created(),
            secret_added("api_key"),
            secret_added("api_secret"),
        ]);
}

#[tokio::test]
async fn create_with_a_secret_twice_or_a_bad_one_writes_nothing() {
    let with = |secrets: Vec<(String, SealedSecret)>| ExchangeCommand::CreateExchange {
        exchange_id: id(),
        name: "okx".into(),
        test_mode: true,
        config: json!({}),
        secrets,
    };
    let cases = [
        (
            vec![
                ("api_key".into(), sealed("a")),
                ("api_key".into(), sealed("b")),
            ],
            "secrets[1].name",
        ),
        (vec![("API KEY".into(), sealed("a"))], "secrets[0].name"),
        (
            vec![("api_key".into(), SealedSecret::new("", "n", "c"))],
            "secrets[0].value",
        ),
    ];
    for (secrets, field) in cases {
        let error = fixture()
            .given_no_previous_events()
            .when_async(with(secrets))
            .await
            .inspect_result()
            .expect_err("refused");
        assert_eq!(error.field(), Some(field), "{error}");
    }
}

#[tokio::test]
async fn the_sandbox_is_always_in_test_mode() {
    let live_sandbox = ExchangeCommand::CreateExchange {
        exchange_id: id(),
        name: "sandbox".to_owned(),
        test_mode: false,
        config: json!({}),
        secrets: Vec::new(),
    };
    let refusal = DomainError::invalid(
        "testMode",
        "the sandbox exchange has no real market: it is always in test mode",
    );
    fixture()
        .given_no_previous_events()
        .when_async(live_sandbox)
        .await
        .then_expect_error(refusal.clone());

    let sandbox = ExchangeEvent::ExchangeCreated {
        exchange_id: id(),
        name: ExchangeName::Sandbox,
        test_mode: true,
        config: ConfigObject::parse("config", json!({})).expect("valid"),
    };
    fixture()
        .given(vec![sandbox])
        .when_async(ExchangeCommand::UpdateExchange {
            test_mode: Some(false),
            config: None,
        })
        .await
        .then_expect_error(refusal);
}
