//! The whole log as NDJSON, one event per line with its hash, and back. An export
//! streams in position order from one snapshot; an import restores it into an empty
//! log in one transaction, keeping positions and commit times, and refuses (writing
//! nothing) a file whose lines do not parse, skip a sequence number, or whose hashes do
//! not match what the store computes from the content: a broken chain.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use anytrade_projections::AggregateKind;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgPool;

/// One exported event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct ArchivedEvent {
    pub position: i64,
    pub committed_at: DateTime<Utc>,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    /// SHA-256 of the event chained over its predecessor's, hex.
    pub hash: String,
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not a valid export: names the line and the reason.
    #[error("line {line}: {reason}")]
    Invalid { line: u64, reason: String },
    #[error("the event log already holds {0} event(s); import restores into an empty log")]
    NotEmpty(i64),
    #[error("reading the file: {0}")]
    Read(#[from] std::io::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("writing: {0}")]
    Write(#[from] std::io::Error),
}

/// Writes every event, in position order, to `out`; returns how many.
pub async fn export(pool: &PgPool, out: &mut impl Write) -> Result<u64, ExportError> {
    let mut rows = sqlx::query_as::<_, ArchivedEvent>(concat!(
        "SELECT position, ",
        anytrade_projections::committed_at!(),
        " AS committed_at, ",
        "aggregate_type, aggregate_id, sequence, event_type, event_version, payload, \
         metadata, encode(hash, 'hex') AS hash FROM events ORDER BY position"
    ))
    .fetch(pool);
    let mut written = 0;
    while let Some(event) = rows.try_next().await? {
        serde_json::to_writer(&mut *out, &event).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
        written += 1;
    }
    out.flush()?;
    Ok(written)
}

/// Events inserted per statement.
const BATCH: usize = 1_000;

/// Restores an export into an empty log; returns how many events it holds.
pub async fn import(pool: &PgPool, input: impl BufRead) -> Result<u64, ImportError> {
    let mut tx = pool.begin().await?;
    // No one appends while we restore, and the log is empty when we start.
    sqlx::query("LOCK TABLE events IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let present: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut *tx)
        .await?;
    if present > 0 {
        return Err(ImportError::NotEmpty(present));
    }
    let mut checks = Checks::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut imported = 0;
    for (index, line) in input.lines().enumerate() {
        let number = index as u64 + 1;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let event: ArchivedEvent = serde_json::from_str(&line).map_err(|e| invalid(number, e))?;
        checks
            .admit(&event)
            .map_err(|reason| invalid(number, reason))?;
        batch.push((number, event));
        if batch.len() == BATCH {
            imported += insert(&mut tx, &mut batch).await?;
        }
    }
    imported += insert(&mut tx, &mut batch).await?;
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('events', 'position'),
                       GREATEST((SELECT max(position) FROM events), 1))",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(imported)
}

fn invalid(line: u64, reason: impl std::fmt::Display) -> ImportError {
    ImportError::Invalid {
        line,
        reason: reason.to_string(),
    }
}

/// What a line must agree with before it is written: positions rising, known
/// aggregate types, each aggregate's sequence numbers without a gap.
#[derive(Default)]
struct Checks {
    position: i64,
    sequences: HashMap<(String, String), i64>,
}

impl Checks {
    fn admit(&mut self, event: &ArchivedEvent) -> Result<(), String> {
        if event.position <= self.position {
            return Err(format!(
                "position {} does not follow position {}",
                event.position, self.position
            ));
        }
        if AggregateKind::parse(&event.aggregate_type).is_none() {
            return Err(format!("unknown aggregate type {:?}", event.aggregate_type));
        }
        let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let last = self.sequences.get(&key).copied().unwrap_or(0);
        if event.sequence != last + 1 {
            return Err(format!(
                "{} {} event {} follows event {last}: the chain is broken",
                event.aggregate_type, event.aggregate_id, event.sequence
            ));
        }
        self.sequences.insert(key, event.sequence);
        self.position = event.position;
        Ok(())
    }
}

/// Inserts `batch` in order (the store computes each hash from the content and the
/// predecessor's hash) and compares every computed hash with the exported one.
async fn insert(
    tx: &mut sqlx::PgConnection,
    batch: &mut Vec<(u64, ArchivedEvent)>,
) -> Result<u64, ImportError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let column = |f: fn(&ArchivedEvent) -> String| -> Vec<String> {
        batch.iter().map(|(_, e)| f(e)).collect()
    };
    let positions: Vec<i64> = batch.iter().map(|(_, e)| e.position).collect();
    let sequences: Vec<i64> = batch.iter().map(|(_, e)| e.sequence).collect();
    let times: Vec<DateTime<Utc>> = batch.iter().map(|(_, e)| e.committed_at).collect();
    let payloads: Vec<Value> = batch.iter().map(|(_, e)| e.payload.clone()).collect();
    let metadata: Vec<Value> = batch.iter().map(|(_, e)| e.metadata.clone()).collect();
    let stored: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO events (position, aggregate_type, aggregate_id, sequence, event_type,
                             event_version, payload, metadata, recorded_at,
                             original_committed_at)
         OVERRIDING SYSTEM VALUE
         SELECT p, t, i, s, e, v, d, m, c, c
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[],
                       $6::text[], $7::jsonb[], $8::jsonb[], $9::timestamptz[])
                WITH ORDINALITY AS u(p, t, i, s, e, v, d, m, c, n)
          ORDER BY n
         RETURNING position, encode(hash, 'hex')",
    )
    .bind(&positions)
    .bind(column(|e| e.aggregate_type.clone()))
    .bind(column(|e| e.aggregate_id.clone()))
    .bind(&sequences)
    .bind(column(|e| e.event_type.clone()))
    .bind(column(|e| e.event_version.clone()))
    .bind(&payloads)
    .bind(&metadata)
    .bind(&times)
    .fetch_all(&mut *tx)
    .await?;
    let computed: HashMap<i64, String> = stored.into_iter().collect();
    for (line, event) in batch.iter() {
        if computed.get(&event.position) != Some(&event.hash) {
            return Err(invalid(
                *line,
                format!(
                    "the hash of {} {} event {} does not match its content and its \
                     predecessor: the chain is broken",
                    event.aggregate_type, event.aggregate_id, event.sequence
                ),
            ));
        }
    }
    let inserted = batch.len() as u64;
    batch.clear();
    Ok(inserted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(position: i64, id: &str, sequence: i64) -> ArchivedEvent {
        ArchivedEvent {
            position,
            committed_at: Utc::now(),
            aggregate_type: "bot".into(),
            aggregate_id: id.into(),
            sequence,
            event_type: "BotStarted".into(),
            event_version: "1.0".into(),
            payload: json!({}),
            metadata: json!({}),
            hash: String::new(),
        }
    }

    #[test]
    fn lines_must_keep_positions_rising_and_sequences_whole() {
        let mut checks = Checks::default();
        checks.admit(&event(1, "a", 1)).unwrap();
        checks.admit(&event(2, "b", 1)).unwrap();
        checks.admit(&event(5, "a", 2)).unwrap();
        let gap = checks.admit(&event(6, "a", 4)).unwrap_err();
        assert_eq!(gap, "bot a event 4 follows event 2: the chain is broken");
        let back = checks.admit(&event(5, "b", 2)).unwrap_err();
        assert_eq!(back, "position 5 does not follow position 5");
        let mut unknown = event(7, "c", 1);
        unknown.aggregate_type = "robot".into();
        assert!(checks.admit(&unknown).unwrap_err().contains("robot"));
    }

    #[test]
    fn an_export_line_round_trips() {
        let line = serde_json::to_string(&event(3, "a", 1)).unwrap();
        let back: ArchivedEvent = serde_json::from_str(&line).unwrap();
        assert_eq!(back, event_with_time(3, back.committed_at));
        assert!(serde_json::from_str::<ArchivedEvent>(r#"{"position": 1}"#).is_err());
    }

    fn event_with_time(position: i64, time: DateTime<Utc>) -> ArchivedEvent {
        ArchivedEvent {
            committed_at: time,
            ..event(position, "a", 1)
        }
    }
}
