//! The ordered log never skips or repeats a committed event, whatever order
//! transactions commit in, and resumes from any checkpoint.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use anytrade::store::{EventLog, LogPosition, LoggedEvent};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;

use crate::helpers::fresh_database;

/// The same statement postgres-es uses to append, so these writers are real appends.
const APPEND: &str = "INSERT INTO events
    (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
    VALUES ('Test', $1, $2, 'Wrote', '1.0', $3, '{}') RETURNING position";

async fn append(
    tx: &mut sqlx::PgConnection,
    aggregate: &str,
    sequence: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(APPEND)
        .bind(aggregate)
        .bind(sequence)
        .bind(serde_json::json!({ "aggregate": aggregate, "sequence": sequence }))
        .fetch_one(tx)
        .await
}

/// Commits a few hundred events from 8 writers that hold transactions open for
/// random times and roll some back; returns the (aggregate, sequence) pairs committed.
async fn writer(pool: PgPool, writer: u64, transactions: usize) -> Vec<(String, i64)> {
    let mut rng = StdRng::seed_from_u64(writer);
    let mut next_sequence: BTreeMap<String, i64> = BTreeMap::new();
    let mut committed = Vec::new();
    for i in 0..transactions {
        let aggregate = format!("w{writer}-a{}", i % 3);
        let first = *next_sequence.get(&aggregate).unwrap_or(&1);
        let count = rng.random_range(1..=3);
        let mut tx = pool.begin().await.expect("begin");
        for s in first..first + count {
            append(&mut tx, &aggregate, s).await.expect("append");
        }
        let hold = if rng.random_ratio(1, 10) {
            250
        } else {
            rng.random_range(0..30)
        };
        tokio::time::sleep(Duration::from_millis(hold)).await;
        if rng.random_ratio(1, 5) {
            tx.rollback().await.expect("rollback");
        } else {
            tx.commit().await.expect("commit");
            next_sequence.insert(aggregate.clone(), first + count);
            committed.extend((first..first + count).map(|s| (aggregate.clone(), s)));
        }
    }
    committed
}

/// Reads from `after` until at least `count` events came back. Other tests' open
/// transactions (anywhere in the cluster) may hold the log back for a while.
async fn read_at_least(log: &EventLog, after: LogPosition, count: usize) -> Vec<LoggedEvent> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let events = log.read_after(after, 1000).await.expect("read");
        if events.len() >= count || tokio::time::Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Tails the log like a projector: small batches, a checkpoint saved after each batch,
/// and a restart from the saved checkpoint every third batch. Stops once it has seen
/// as many events as `expected` announces, or 20 s after the announcement.
async fn tail_with_restarts(
    log: EventLog,
    pool: PgPool,
    expected: tokio::sync::watch::Receiver<Option<usize>>,
) -> Vec<LoggedEvent> {
    const READER: &str = "ordering-test";
    let mut seen = Vec::new();
    let mut at = log.checkpoint(READER).await.expect("checkpoint");
    let mut batches = 0;
    let mut deadline = None;
    loop {
        if let Some(n) = *expected.borrow() {
            let deadline = *deadline
                .get_or_insert_with(|| tokio::time::Instant::now() + Duration::from_secs(20));
            if seen.len() >= n || tokio::time::Instant::now() > deadline {
                return seen;
            }
        }
        let batch = log.read_after(at, 7).await.expect("read");
        if batch.is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        let last = batch.last().expect("non-empty").log_position();
        let mut tx = pool.begin().await.expect("begin");
        EventLog::save_checkpoint(&mut tx, READER, last)
            .await
            .expect("save");
        tx.commit().await.expect("commit checkpoint");
        seen.extend(batch);
        batches += 1;
        at = if batches % 3 == 0 {
            log.checkpoint(READER).await.expect("reload checkpoint")
        } else {
            last
        };
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_out_of_order_commits_and_rollbacks_lose_nothing() {
    let pool = fresh_database().await;
    let log = EventLog::new(pool.clone());
    let (expected_tx, expected_rx) = tokio::sync::watch::channel(None);
    let reader = tokio::spawn(tail_with_restarts(log.clone(), pool.clone(), expected_rx));

    // One transaction takes an early position and commits only after many later
    // positions have committed: a reader that followed positions would skip it.
    let holder_pool = pool.clone();
    let holder = tokio::spawn(async move {
        let mut tx = holder_pool.begin().await.expect("begin");
        let position = append(&mut tx, "held", 1).await.expect("append");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let later: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE position > $1")
            .bind(position)
            .fetch_one(&holder_pool)
            .await
            .expect("count");
        tx.commit().await.expect("commit");
        later
    });

    let writers: Vec<_> = (0..8)
        .map(|w| tokio::spawn(writer(pool.clone(), w, 40)))
        .collect();
    let mut committed: HashSet<(String, i64)> = HashSet::new();
    for w in writers {
        committed.extend(w.await.expect("writer"));
    }
    let later_committed_first = holder.await.expect("holder");
    committed.insert(("held".into(), 1));
    expected_tx.send(Some(committed.len())).expect("announce");
    let seen = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("reader finishes")
        .expect("reader task");

    assert!(
        later_committed_first > 0,
        "the held transaction must commit after later positions did"
    );
    let delivered: Vec<(String, i64)> = seen
        .iter()
        .map(|e| (e.aggregate_id.clone(), e.sequence))
        .collect();
    let unique: HashSet<_> = delivered.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        delivered.len(),
        "an event was delivered twice"
    );
    assert_eq!(
        unique, committed,
        "delivered events differ from committed ones"
    );

    let mut per_aggregate: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for e in &seen {
        per_aggregate
            .entry(&e.aggregate_id)
            .or_default()
            .push(e.sequence);
    }
    for (aggregate, sequences) in per_aggregate {
        let expected: Vec<i64> = (1..=sequences.len() as i64).collect();
        assert_eq!(sequences, expected, "{aggregate} out of sequence order");
    }
    assert!(
        seen.windows(2)
            .all(|w| w[0].log_position() < w[1].log_position())
    );
}

#[tokio::test]
async fn an_open_transaction_holds_back_later_commits_until_it_ends() {
    let pool = fresh_database().await;
    let log = EventLog::new(pool.clone());

    let mut early = pool.begin().await.expect("begin");
    let early_position = append(&mut early, "early", 1).await.expect("append");
    let mut late = pool.begin().await.expect("begin");
    let late_position = append(&mut late, "late", 1).await.expect("append");
    late.commit().await.expect("commit late");
    assert!(early_position < late_position);

    assert!(
        log.read_after(LogPosition::START, 100)
            .await
            .expect("read")
            .is_empty(),
        "the late event must wait for the open earlier transaction"
    );
    early.commit().await.expect("commit early");
    let events = read_at_least(&log, LogPosition::START, 2).await;
    let order: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
    assert_eq!(order, ["early", "late"]);
    assert!(events.iter().all(|e| e.committed_at <= chrono::Utc::now()));
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_no_gap_that_blocks_the_reader() {
    let pool = fresh_database().await;
    let log = EventLog::new(pool.clone());
    let mut doomed = pool.begin().await.expect("begin");
    append(&mut doomed, "doomed", 1).await.expect("append");
    let mut tx = pool.begin().await.expect("begin");
    append(&mut tx, "kept", 1).await.expect("append");
    tx.commit().await.expect("commit");
    doomed.rollback().await.expect("rollback");
    let events = read_at_least(&log, LogPosition::START, 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].aggregate_id, "kept");
}

#[tokio::test]
async fn a_reader_resumes_after_a_bare_global_position() {
    let pool = fresh_database().await;
    let log = EventLog::new(pool.clone());
    for s in 1..=10 {
        let mut tx = pool.begin().await.expect("begin");
        append(&mut tx, "resume", s).await.expect("append");
        tx.commit().await.expect("commit");
    }
    let all = read_at_least(&log, LogPosition::START, 10).await;
    assert_eq!(all.len(), 10);
    let resume_from = log
        .locate(all[3].position)
        .await
        .expect("locate")
        .expect("position exists");
    let rest = read_at_least(&log, resume_from, 6).await;
    assert_eq!(rest, all[4..].to_vec());
    assert_eq!(
        log.locate(0).await.expect("locate"),
        Some(LogPosition::START)
    );
    assert_eq!(log.locate(999_999).await.expect("locate"), None);
}

#[tokio::test]
async fn next_batch_wakes_when_an_event_arrives() {
    let pool = fresh_database().await;
    // A poll interval far longer than the test: only the append signal wakes the
    // reader. The signal repeats because another test's open transaction may hold
    // the log back at the moment of one wake-up.
    let log = EventLog::new(pool.clone()).with_poll_interval(Duration::from_secs(600));
    let waiting = tokio::spawn({
        let log = log.clone();
        async move { log.next_batch(LogPosition::START, 10).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut tx = pool.begin().await.expect("begin");
    append(&mut tx, "wake", 1).await.expect("append");
    tx.commit().await.expect("commit");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !waiting.is_finished() && tokio::time::Instant::now() < deadline {
        log.signal_append();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        waiting.is_finished(),
        "the append signal did not wake the reader"
    );
    let batch = waiting.await.expect("task").expect("read");
    assert_eq!(batch.len(), 1);
}

/// Each read after a checkpoint walks the `(transaction_id, position)` index from the
/// checkpoint; a sort in the plan means every read sorts the rest of the log (once
/// the case: an output column named `transaction_id` was what `ORDER BY` sorted by).
#[tokio::test]
async fn reading_after_a_checkpoint_walks_the_index_without_sorting() {
    let pool = fresh_database().await;
    let mut conn = pool.acquire().await.expect("connection");
    // An empty table makes any plan cheap: rule out the others, so only a sort that
    // the query cannot do without remains.
    for setting in ["enable_seqscan", "enable_bitmapscan", "enable_sort"] {
        sqlx::query(&format!("SET {setting} = off"))
            .execute(&mut *conn)
            .await
            .expect("set");
    }
    let explain = format!(
        "EXPLAIN (FORMAT JSON) {}",
        anytrade_projections::log::READ_AFTER
    );
    let plan: serde_json::Value = sqlx::query_scalar(&explain)
        .bind("0")
        .bind(0_i64)
        .bind(100_i64)
        .fetch_one(&mut *conn)
        .await
        .expect("explain");
    let text = plan.to_string();
    assert!(text.contains("events_log_order"), "{text}");
    assert!(!text.contains("\"Sort\""), "{text}");
}
