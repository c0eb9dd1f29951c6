//! Commands through postgres-es land in the log with their metadata; refused commands
//! append nothing; concurrent commands on one aggregate keep its sequence intact.

use anytrade::store::{CommandBus, CommandError, CommandMetadata, EventLog, LogPosition};
use anytrade_aggregates::DomainError;

use crate::helpers::{Tally, TallyCommand, fresh_database};

async fn events_in(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_command_appends_its_event_with_who_when_and_why() {
    let pool = fresh_database().await;
    let log = EventLog::new(pool.clone());
    let bus: CommandBus<Tally> = CommandBus::new(pool.clone(), log.clone(), ());
    let metadata = CommandMetadata::issued_by("user:alice");
    let appended_at = bus
        .execute("t1", TallyCommand::Add(5), &metadata)
        .await
        .expect("command succeeds");

    let events = log.next_batch(LogPosition::START, 10).await.expect("read");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(appended_at, Some(event.log_position()));
    assert_eq!(event.aggregate_type, "Tally");
    assert_eq!(event.aggregate_id, "t1");
    assert_eq!(event.sequence, 1);
    assert_eq!(event.event_type, "Added");
    assert_eq!(event.event_version, "1.0");
    assert_eq!(
        event.payload,
        serde_json::json!({ "Added": { "amount": 5 } })
    );
    assert_eq!(event.metadata["actor"], "user:alice");
    assert_eq!(
        event.metadata["correlation_id"],
        metadata.correlation_id.to_string()
    );
    assert_eq!(event.metadata["causation_id"], metadata.causation_id);
    assert!(event.metadata["issued_at"].is_string());
    let age = chrono::Utc::now() - event.committed_at;
    assert!(age < chrono::Duration::seconds(60), "commit time {age} ago");
}

#[tokio::test]
async fn a_refused_command_appends_nothing() {
    let pool = fresh_database().await;
    let bus: CommandBus<Tally> = CommandBus::new(pool.clone(), EventLog::new(pool.clone()), ());
    let err = bus
        .execute(
            "t1",
            TallyCommand::Add(-1),
            &CommandMetadata::issued_by("user:bob"),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        CommandError::Domain(DomainError::Invalid { ref field, .. }) if field == "amount"
    ));
    assert_eq!(events_in(&pool).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_commands_on_one_aggregate_keep_its_sequence_gap_free() {
    let pool = fresh_database().await;
    let bus = std::sync::Arc::new(CommandBus::<Tally>::new(
        pool.clone(),
        EventLog::new(pool.clone()),
        (),
    ));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let bus = bus.clone();
            tokio::spawn(async move {
                let mut outcomes = (0, 0);
                for _ in 0..10 {
                    match bus
                        .execute(
                            "shared",
                            TallyCommand::Add(1),
                            &CommandMetadata::issued_by("t"),
                        )
                        .await
                    {
                        Ok(_) => outcomes.0 += 1,
                        Err(CommandError::Conflict { .. }) => outcomes.1 += 1,
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                }
                outcomes
            })
        })
        .collect();
    let mut succeeded = 0;
    for t in tasks {
        succeeded += t.await.expect("task").0;
    }
    assert!(succeeded > 0);
    let sequences: Vec<i64> = sqlx::query_scalar(
        "SELECT sequence FROM events WHERE aggregate_id = 'shared' ORDER BY sequence",
    )
    .fetch_all(&pool)
    .await
    .expect("sequences");
    assert_eq!(sequences, (1..=succeeded as i64).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_command_with_several_events_appends_them_together_in_sequence() {
    let pool = fresh_database().await;
    let bus: anytrade::store::CommandBus<anytrade_aggregates::Strategy> = CommandBus::new(
        pool.clone(),
        EventLog::new(pool.clone()),
        anytrade_aggregates::testing::FakeLookup::new().services(),
    );
    let id = uuid::Uuid::now_v7();
    let code = "from freqtrade.strategy import IStrategy\n\nclass AlwaysIn(IStrategy):\n    timeframe = '5m'\n";
    bus.execute(
        &id,
        anytrade_aggregates::StrategyCommand::CreateStrategy {
            strategy_id: id,
            name: "always in".into(),
            description: String::new(),
            code: code.into(),
        },
        &CommandMetadata::issued_by("user:alice"),
    )
    .await
    .expect("create strategy");
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT sequence, event_type FROM events WHERE aggregate_id = $1 ORDER BY position",
    )
    .bind(id.to_string())
    .fetch_all(&pool)
    .await
    .expect("events");
    assert_eq!(
        rows,
        [
            (1, "StrategyCreated".to_owned()),
            (2, "StrategyVersionAdded".to_owned())
        ]
    );
}

/// Two buses on one database stand for two processes, each with its own memory of
/// aggregate states; neither may act on a state the other has moved past.
#[tokio::test]
async fn a_state_remembered_by_another_process_is_never_trusted_blindly() {
    let pool = fresh_database().await;
    let first: CommandBus<Tally> = CommandBus::new(pool.clone(), EventLog::new(pool.clone()), ());
    let second: CommandBus<Tally> = CommandBus::new(pool.clone(), EventLog::new(pool.clone()), ());
    let meta = CommandMetadata::issued_by("test");

    first
        .execute("t", TallyCommand::Add(5), &meta)
        .await
        .expect("add");
    second
        .execute("t", TallyCommand::Add(5), &meta)
        .await
        .expect("add");
    // `first` remembers a total of 5; the store holds 10. Refusing on the remembered
    // state would be wrong: the command is decided again on the stored state.
    first
        .execute("t", TallyCommand::Take(8), &meta)
        .await
        .expect("take 8 of 10");
    // `second` remembers 10; the store holds 2. Its append at the remembered sequence
    // collides, so it re-reads and refuses.
    let err = second
        .execute("t", TallyCommand::Take(3), &meta)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CommandError::Domain(DomainError::Conflict { .. })),
        "{err}"
    );

    let events: Vec<(i64, serde_json::Value)> = sqlx::query_as(
        "SELECT sequence, payload FROM events WHERE aggregate_id = 't' ORDER BY sequence",
    )
    .fetch_all(&pool)
    .await
    .expect("events");
    let expected = [
        (1, serde_json::json!({ "Added": { "amount": 5 } })),
        (2, serde_json::json!({ "Added": { "amount": 5 } })),
        (3, serde_json::json!({ "Taken": { "amount": 8 } })),
    ];
    assert_eq!(events, expected);
}
