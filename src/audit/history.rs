//! One aggregate's audit trail, read from the log: each event with who, when and what
//! it changed; the state at a version or a time; the difference between two versions.
//! Everything shown has sealed secrets reduced to their key id.

use anytrade_projections::log::{read_aggregate, read_aggregate_payloads};
use anytrade_projections::{AggregateKind, DecodeError, LoggedEvent};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::diff::{Change, diff};
use super::state::{Replay, WrongKind};
use crate::redact;

/// Which aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AggregateRef {
    pub kind: AggregateKind,
    pub id: Uuid,
}

impl std::fmt::Display for AggregateRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.as_str(), self.id)
    }
}

/// A point in an aggregate's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// After its first `n` events (versions start at 1).
    Version(i64),
    /// After every event committed at or before this time.
    Time(DateTime<Utc>),
}

/// Why a question about an aggregate's past has no answer.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("no {0} in the log")]
    NotFound(AggregateRef),
    #[error("{aggregate} has {events} event(s); there is no version {version}")]
    VersionPastEnd {
        aggregate: AggregateRef,
        events: i64,
        version: i64,
    },
    #[error("versions start at 1, not {0}")]
    VersionBeforeStart(i64),
    /// The log skips a sequence number: it was edited (`anytrade audit verify` says where).
    #[error("the log holds no version {version} of {aggregate}; run `anytrade audit verify`")]
    MissingVersion {
        aggregate: AggregateRef,
        version: i64,
    },
    #[error("{aggregate} did not exist yet at {time}: its first event was committed at {first}")]
    BeforeFirstEvent {
        aggregate: AggregateRef,
        time: DateTime<Utc>,
        first: DateTime<Utc>,
    },
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Replay(#[from] WrongKind),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// One event of an aggregate's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// The aggregate's version after this event: its sequence number.
    pub version: i64,
    /// The event's global position in the log.
    pub position: i64,
    pub committed_at: DateTime<Utc>,
    pub event_type: String,
    pub actor: Option<String>,
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<String>,
    /// What the event changed in the aggregate's state.
    pub changes: Vec<Change>,
}

/// The aggregate as it stood at a point of its history.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub aggregate_type: &'static str,
    pub aggregate_id: Uuid,
    pub version: i64,
    pub committed_at: DateTime<Utc>,
    /// The type of the last event folded in.
    pub event_type: String,
    /// Sealed secrets reduced to their key id.
    pub state: Value,
}

/// The difference between two versions of an aggregate.
#[derive(Debug, Clone, Serialize)]
pub struct VersionDiff {
    pub from: Snapshot,
    pub to: Snapshot,
    pub changes: Vec<Change>,
    /// For a strategy: a unified diff of its newest code at each version; `None` when
    /// the code is the same or the aggregate is not a strategy.
    pub code_diff: Option<String>,
}

/// Events `after + 1 ..= after + first` of the aggregate (all after `after` when `first`
/// is `None`), each with what it changed.
pub async fn history(
    pool: &PgPool,
    aggregate: AggregateRef,
    after: i64,
    first: Option<i64>,
) -> Result<Vec<HistoryEntry>, AuditError> {
    let last = first.map(|n| after.saturating_add(n));
    let events = read_aggregate(pool, aggregate.kind, aggregate.id, last, None).await?;
    if events.is_empty() {
        return Err(AuditError::NotFound(aggregate));
    }
    let mut replay = Replay::new(aggregate.kind);
    let mut before = Value::Null;
    let mut entries = Vec::new();
    for logged in events {
        let typed = logged.decode()?;
        replay.apply(typed.event)?;
        if logged.sequence < after {
            continue;
        }
        let now = replay.to_json();
        if logged.sequence > after {
            entries.push(HistoryEntry {
                version: logged.sequence,
                position: logged.position,
                committed_at: logged.committed_at,
                event_type: logged.event_type,
                actor: typed.metadata.actor,
                correlation_id: typed.metadata.correlation_id,
                causation_id: typed.metadata.causation_id,
                changes: diff(&before, &now),
            });
        }
        before = now;
    }
    Ok(entries)
}

/// The aggregate at `point`.
pub async fn at(
    pool: &PgPool,
    aggregate: AggregateRef,
    point: Point,
) -> Result<Snapshot, AuditError> {
    let (upto, by) = match point {
        Point::Version(n) => (Some(check_version(n)?), None),
        Point::Time(t) => (None, Some(t)),
    };
    let events = read_aggregate_payloads(pool, aggregate.kind, aggregate.id, upto, by).await?;
    let (replay, last) = fold(aggregate, events)?;
    match (last, point) {
        (Some(last), Point::Version(n)) if last.sequence < n => Err(AuditError::VersionPastEnd {
            aggregate,
            events: last.sequence,
            version: n,
        }),
        (Some(last), _) => Ok(snapshot(aggregate, &replay, &last)),
        (None, Point::Time(time)) => Err(before_first_or_missing(pool, aggregate, time).await),
        (None, Point::Version(_)) => Err(AuditError::NotFound(aggregate)),
    }
}

/// The difference between versions `from` and `to` (either order).
pub async fn between(
    pool: &PgPool,
    aggregate: AggregateRef,
    from: i64,
    to: i64,
) -> Result<VersionDiff, AuditError> {
    check_version(from)?;
    check_version(to)?;
    let last = from.max(to);
    let events =
        read_aggregate_payloads(pool, aggregate.kind, aggregate.id, Some(last), None).await?;
    let count = events.last().map_or(0, |e| e.sequence);
    if count == 0 {
        return Err(AuditError::NotFound(aggregate));
    }
    if let Some(version) = [from, to].into_iter().find(|v| *v > count) {
        return Err(AuditError::VersionPastEnd {
            aggregate,
            events: count,
            version,
        });
    }
    let mut replay = Replay::new(aggregate.kind);
    let mut taken = Vec::new();
    for logged in events {
        replay.apply(logged.decode()?.event)?;
        if logged.sequence == from || logged.sequence == to {
            let code = replay.strategy_code().map(|(v, c)| (v, c.to_owned()));
            let state = snapshot_of(aggregate, replay.to_json(), &logged);
            taken.push((state, code));
        }
    }
    let take = |version: i64| {
        taken
            .iter()
            .find(|(state, _)| state.version == version)
            .cloned()
            .ok_or(AuditError::MissingVersion { aggregate, version })
    };
    let (a, b) = (take(from)?, take(to)?);
    let changes = diff(&a.0.state, &b.0.state);
    let code_diff = code_diff(&a.1, &b.1, aggregate.kind);
    Ok(VersionDiff {
        from: redacted(a.0),
        to: redacted(b.0),
        changes,
        code_diff,
    })
}

/// A unified diff of a strategy's newest code at two versions (from nothing, before its
/// first code); `None` for other aggregates and for unchanged code.
fn code_diff(
    from: &Option<(u32, String)>,
    to: &Option<(u32, String)>,
    kind: AggregateKind,
) -> Option<String> {
    if kind != AggregateKind::Strategy || from == to {
        return None;
    }
    let side = |code: &Option<(u32, String)>| match code {
        Some((version, code)) => (format!("code version {version}"), code.clone()),
        None => ("no code".to_owned(), String::new()),
    };
    let ((from_name, from_code), (to_name, to_code)) = (side(from), side(to));
    Some(
        similar::TextDiff::from_lines(&from_code, &to_code)
            .unified_diff()
            .header(&from_name, &to_name)
            .to_string(),
    )
}

fn check_version(version: i64) -> Result<i64, AuditError> {
    if version < 1 {
        return Err(AuditError::VersionBeforeStart(version));
    }
    Ok(version)
}

fn fold(
    aggregate: AggregateRef,
    events: Vec<LoggedEvent>,
) -> Result<(Replay, Option<LoggedEvent>), AuditError> {
    let mut replay = Replay::new(aggregate.kind);
    let mut last = None;
    for logged in events {
        replay.apply(logged.decode()?.event)?;
        last = Some(logged);
    }
    Ok((replay, last))
}

fn snapshot_of(aggregate: AggregateRef, state: Value, last: &LoggedEvent) -> Snapshot {
    Snapshot {
        aggregate_type: aggregate.kind.as_str(),
        aggregate_id: aggregate.id,
        version: last.sequence,
        committed_at: last.committed_at,
        event_type: last.event_type.clone(),
        state,
    }
}

fn snapshot(aggregate: AggregateRef, replay: &Replay, last: &LoggedEvent) -> Snapshot {
    redacted(snapshot_of(aggregate, replay.to_json(), last))
}

fn redacted(mut snapshot: Snapshot) -> Snapshot {
    redact::sealed_values(&mut snapshot.state);
    snapshot
}

async fn before_first_or_missing(
    pool: &PgPool,
    aggregate: AggregateRef,
    time: DateTime<Utc>,
) -> AuditError {
    match read_aggregate(pool, aggregate.kind, aggregate.id, Some(1), None).await {
        Ok(first) => match first.first() {
            Some(first) => AuditError::BeforeFirstEvent {
                aggregate,
                time,
                first: first.committed_at,
            },
            None => AuditError::NotFound(aggregate),
        },
        Err(e) => e.into(),
    }
}
