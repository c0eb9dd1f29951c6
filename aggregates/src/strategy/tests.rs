use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::fixtures::{OTHER_STRATEGY, SAMPLE_STRATEGY};
use crate::strategy_code::sha256_hex;
use crate::testing::FakeLookup;

fn id() -> Uuid {
    Uuid::from_u128(0x51)
}

fn other_id() -> Uuid {
    Uuid::from_u128(0x52)
}

fn fixture() -> TestFramework<Strategy> {
    TestFramework::with(FakeLookup::new().services())
}

/// A lookup where another strategy already uses `name`.
fn name_taken_by_other(name: &str) -> TestFramework<Strategy> {
    TestFramework::with(
        FakeLookup::new()
            .with_strategy(other_id(), name, 1, "Other")
            .services(),
    )
}

fn entity_name(text: &str) -> EntityName {
    EntityName::parse(text).expect("valid name")
}

fn created() -> StrategyEvent {
    StrategyEvent::StrategyCreated {
        strategy_id: id(),
        name: entity_name("RSI cross"),
        description: "buys dips".into(),
    }
}

fn version(number: u32, code: &str, class_name: &str) -> StrategyEvent {
    StrategyEvent::StrategyVersionAdded {
        version: number,
        code: code.into(),
        sha256: sha256_hex(code),
        class_name: class_name.into(),
    }
}

fn existing() -> Vec<StrategyEvent> {
    vec![created(), version(1, SAMPLE_STRATEGY, "RsiCross")]
}

fn create(name: &str, code: &str) -> StrategyCommand {
    StrategyCommand::CreateStrategy {
        strategy_id: id(),
        name: name.into(),
        description: "buys dips".into(),
        code: code.into(),
    }
}

fn update(name: Option<&str>, description: Option<&str>, code: Option<&str>) -> StrategyCommand {
    StrategyCommand::UpdateStrategy {
        name: name.map(Into::into),
        description: description.map(Into::into),
        code: code.map(Into::into),
    }
}

#[tokio::test]
async fn create_emits_the_strategy_and_version_1() {
    fixture()
        .given_no_previous_events()
        .when_async(create("RSI cross", SAMPLE_STRATEGY))
        .await
        .then_expect_events(existing());
}

#[tokio::test]
async fn create_with_a_bad_name_is_invalid() {
    for (name, reason) in [
        ("", "must not be empty"),
        (
            "rsi/cross",
            "\"rsi/cross\" contains '/'; use letters, digits, space, _, - and .",
        ),
        (" rsi", "\" rsi\" must not start or end with a space"),
    ] {
        fixture()
            .given_no_previous_events()
            .when_async(create(name, SAMPLE_STRATEGY))
            .await
            .then_expect_error(DomainError::invalid("name", reason));
    }
    fixture()
        .given_no_previous_events()
        .when_async(create(&"a".repeat(65), SAMPLE_STRATEGY))
        .await
        .then_expect_error(DomainError::invalid(
            "name",
            "must be at most 64 characters, got 65",
        ));
}

#[tokio::test]
async fn create_with_a_taken_name_is_a_conflict() {
    name_taken_by_other("RSI cross")
        .given_no_previous_events()
        .when_async(create("RSI cross", SAMPLE_STRATEGY))
        .await
        .then_expect_error(DomainError::conflict(
            "name",
            "a strategy named RSI cross already exists",
        ));
}

#[tokio::test]
async fn create_with_bad_code_is_invalid_with_line_and_column() {
    fixture()
        .given_no_previous_events()
        .when_async(create(
            "x",
            "from freqtrade.strategy import IStrategy\nclass A(IStrategy):\n    x = eval('1')\n",
        ))
        .await
        .then_expect_error(DomainError::invalid(
            "code",
            "line 3, column 9: call to eval() is not allowed",
        ));
    fixture()
        .given_no_previous_events()
        .when_async(create("x", ""))
        .await
        .then_expect_error(DomainError::invalid(
            "code",
            "line 1, column 1: code is empty",
        ));
}

#[tokio::test]
async fn create_with_a_too_long_description_is_invalid() {
    fixture()
        .given_no_previous_events()
        .when_async(StrategyCommand::CreateStrategy {
            strategy_id: id(),
            name: "x".into(),
            description: "d".repeat(MAX_DESCRIPTION_CHARS + 1),
            code: SAMPLE_STRATEGY.into(),
        })
        .await
        .then_expect_error(DomainError::invalid(
            "description",
            "must be at most 4096 characters, got 4097",
        ));
}

#[tokio::test]
async fn create_on_an_existing_strategy_is_a_conflict() {
    fixture()
        .given(existing())
        .when_async(create("RSI cross", SAMPLE_STRATEGY))
        .await
        .then_expect_error(DomainError::conflict("id", "the strategy already exists"));
}

#[tokio::test]
async fn create_when_the_lookup_fails_is_unavailable() {
    TestFramework::<Strategy>::with(FakeLookup::new().unavailable("down").services())
        .given_no_previous_events()
        .when_async(create("RSI cross", SAMPLE_STRATEGY))
        .await
        .then_expect_error(DomainError::unavailable("down"));
}

#[tokio::test]
async fn commands_on_a_never_created_strategy_are_not_found() {
    for command in [
        update(Some("x"), None, None),
        StrategyCommand::DeleteStrategy,
    ] {
        fixture()
            .given_no_previous_events()
            .when_async(command)
            .await
            .then_expect_error(DomainError::not_found("id", "no such strategy"));
    }
}

#[tokio::test]
async fn every_command_on_a_deleted_strategy_is_not_found() {
    let mut events = existing();
    events.push(StrategyEvent::StrategyDeleted);
    for command in [
        create("RSI cross", SAMPLE_STRATEGY),
        update(Some("x"), None, None),
        StrategyCommand::DeleteStrategy,
    ] {
        fixture()
            .given(events.clone())
            .when_async(command)
            .await
            .then_expect_error(DomainError::not_found("id", "the strategy was deleted"));
    }
}

#[tokio::test]
async fn update_with_new_code_adds_the_next_version() {
    fixture()
        .given(existing())
        .when_async(update(None, None, Some(OTHER_STRATEGY)))
        .await
        .then_expect_events(vec![version(2, OTHER_STRATEGY, "EmaCross")]);

    let mut events = existing();
    events.push(version(2, OTHER_STRATEGY, "EmaCross"));
    fixture()
        .given(events)
        .when_async(update(None, None, Some(SAMPLE_STRATEGY)))
        .await
        .then_expect_events(vec![version(3, SAMPLE_STRATEGY, "RsiCross")]);
}

#[tokio::test]
async fn update_with_the_same_code_adds_no_version() {
    fixture()
        .given(existing())
        .when_async(update(None, None, Some(SAMPLE_STRATEGY)))
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn update_renames_and_describes() {
    fixture()
        .given(existing())
        .when_async(update(
            Some("RSI cross v2"),
            Some("sells rips"),
            Some(OTHER_STRATEGY),
        ))
        .await
        .then_expect_events(vec![
            StrategyEvent::StrategyRenamed {
                name: entity_name("RSI cross v2"),
            },
            StrategyEvent::StrategyDescriptionChanged {
                description: "sells rips".into(),
            },
            version(2, OTHER_STRATEGY, "EmaCross"),
        ]);
}

#[tokio::test]
async fn update_with_unchanged_values_records_nothing() {
    fixture()
        .given(existing())
        .when_async(update(Some("RSI cross"), Some("buys dips"), None))
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn rename_to_a_name_another_strategy_has_is_a_conflict() {
    name_taken_by_other("Taken")
        .given(existing())
        .when_async(update(Some("Taken"), None, None))
        .await
        .then_expect_error(DomainError::conflict(
            "name",
            "a strategy named Taken already exists",
        ));
}

#[tokio::test]
async fn rename_is_not_a_conflict_with_itself() {
    // The read model may already know this strategy under the new name (case of a retry).
    TestFramework::<Strategy>::with(
        FakeLookup::new()
            .with_strategy(id(), "Renamed", 1, "RsiCross")
            .services(),
    )
    .given(existing())
    .when_async(update(Some("Renamed"), None, None))
    .await
    .then_expect_events(vec![StrategyEvent::StrategyRenamed {
        name: entity_name("Renamed"),
    }]);
}

#[tokio::test]
async fn update_with_any_bad_input_records_nothing() {
    fixture()
        .given(existing())
        .when_async(update(
            Some("ok name"),
            Some("fine"),
            Some("class A:\n    pass\n"),
        ))
        .await
        .then_expect_error(DomainError::invalid(
            "code",
            "line 1, column 1: no class deriving from IStrategy; freqtrade needs exactly one",
        ));
    fixture()
        .given(existing())
        .when_async(update(Some("bad/name"), None, Some(OTHER_STRATEGY)))
        .await
        .then_expect_error(DomainError::invalid(
            "name",
            "\"bad/name\" contains '/'; use letters, digits, space, _, - and .",
        ));
}

#[tokio::test]
async fn delete_strategy() {
    fixture()
        .given(existing())
        .when_async(StrategyCommand::DeleteStrategy)
        .await
        .then_expect_events(vec![StrategyEvent::StrategyDeleted]);
}

#[tokio::test]
async fn delete_while_bots_run_the_strategy_is_a_conflict() {
    TestFramework::<Strategy>::with(
        FakeLookup::new()
            .with_bots_using_strategy(id(), 1)
            .services(),
    )
    .given(existing())
    .when_async(StrategyCommand::DeleteStrategy)
    .await
    .then_expect_error(DomainError::conflict(
        "id",
        "1 bot(s) still run this strategy; delete them first",
    ));
}

#[test]
fn the_aggregate_keeps_the_version_history() {
    let mut strategy = Strategy::default();
    assert!(strategy.current_version().is_none());
    for event in existing() {
        strategy.apply(event);
    }
    strategy.apply(version(2, OTHER_STRATEGY, "EmaCross"));
    let state = strategy.state().expect("created");
    let numbers: Vec<u32> = state.versions.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [1, 2]);
    let current = strategy.current_version().expect("has versions");
    assert_eq!(current.class_name, "EmaCross");
    assert_eq!(current.sha256, sha256_hex(OTHER_STRATEGY));
    let json = serde_json::to_string(&strategy).expect("serialize");
    assert_eq!(
        serde_json::from_str::<Strategy>(&json).expect("deserialize"),
        strategy
    );
}

#[test]
fn events_are_named_and_versioned() {
    use cqrs_es::DomainEvent;
    assert_eq!(created().event_type(), "StrategyCreated");
    assert_eq!(version(1, "x", "X").event_type(), "StrategyVersionAdded");
    assert_eq!(StrategyEvent::StrategyDeleted.event_version(), "1.0");
}
