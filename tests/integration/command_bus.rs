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
    bus.execute("t1", TallyCommand::Add(5), &metadata)
        .await
        .expect("command succeeds");

    let events = log.next_batch(LogPosition::START, 10).await.expect("read");
    assert_eq!(events.len(), 1);
    let event = &events[0];
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
                        Ok(()) => outcomes.0 += 1,
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
