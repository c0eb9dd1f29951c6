//! The audit trail through the API: one aggregate's history with field-level changes,
//! its state at a version or a time (what `anytrade audit history | at` print), and,
//! for admins, when the log's hash chains were last verified and what was found.
//! Secrets appear only as set, rotated or removed, and states show key ids only.

use anytrade_projections::AggregateKind;
use async_graphql::{Context, Enum, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::context::ContextExt;
use super::errors;
use super::pagination::page_size;
use crate::audit::chain;
use crate::audit::diff::Change;
use crate::audit::history::{self, AggregateRef, AuditError, HistoryEntry, Point, Snapshot};
use crate::auth::{AuthError, Role};

/// The aggregate types of the log.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AggregateType {
    Exchange,
    Strategy,
    Bot,
    Backtest,
    Hyperopt,
    Trade,
}

impl From<AggregateType> for AggregateKind {
    fn from(kind: AggregateType) -> Self {
        match kind {
            AggregateType::Exchange => Self::Exchange,
            AggregateType::Strategy => Self::Strategy,
            AggregateType::Bot => Self::Bot,
            AggregateType::Backtest => Self::Backtest,
            AggregateType::Hyperopt => Self::Hyperopt,
            AggregateType::Trade => Self::Trade,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
    SecretSet,
    SecretRotated,
    SecretRemoved,
}

/// One field an event changed. `from` and `to` are null for secrets.
#[derive(SimpleObject)]
pub struct FieldChange {
    /// The field's path in the aggregate's state: `config.stake_amount`, `versions[1].code`.
    path: String,
    change: ChangeKind,
    from: Option<Json<Value>>,
    to: Option<Json<Value>>,
}

impl From<Change> for FieldChange {
    fn from(change: Change) -> Self {
        let (path, change, from, to) = match change {
            Change::Added { path, value } => (path, ChangeKind::Added, None, Some(value)),
            Change::Removed { path, value } => (path, ChangeKind::Removed, Some(value), None),
            Change::Changed { path, from, to } => (path, ChangeKind::Changed, Some(from), Some(to)),
            Change::SecretSet { path } => (path, ChangeKind::SecretSet, None, None),
            Change::SecretRotated { path } => (path, ChangeKind::SecretRotated, None, None),
            Change::SecretRemoved { path } => (path, ChangeKind::SecretRemoved, None, None),
        };
        Self {
            path,
            change,
            from: from.map(Json),
            to: to.map(Json),
        }
    }
}

/// One event of an aggregate's history: who, when, why, and what it changed.
#[derive(SimpleObject)]
pub struct AuditEntry {
    /// The aggregate's version after this event; pass it as `after` for the next page.
    version: i64,
    /// The event's global position in the log.
    position: i64,
    committed_at: DateTime<Utc>,
    event_type: String,
    actor: Option<String>,
    correlation_id: Option<Uuid>,
    causation_id: Option<String>,
    changes: Vec<FieldChange>,
}

impl From<HistoryEntry> for AuditEntry {
    fn from(entry: HistoryEntry) -> Self {
        Self {
            version: entry.version,
            position: entry.position,
            committed_at: entry.committed_at,
            event_type: entry.event_type,
            actor: entry.actor,
            correlation_id: entry.correlation_id,
            causation_id: entry.causation_id,
            changes: entry.changes.into_iter().map(Into::into).collect(),
        }
    }
}

/// An aggregate as it stood at a version.
#[derive(SimpleObject)]
pub struct AggregateSnapshot {
    aggregate_type: AggregateType,
    aggregate_id: Uuid,
    version: i64,
    committed_at: DateTime<Utc>,
    /// The last event folded in.
    event_type: String,
    /// The aggregate's state, sealed secrets shown by key id only.
    state: Json<Value>,
}

impl AggregateSnapshot {
    fn new(kind: AggregateType, snapshot: Snapshot) -> Self {
        Self {
            aggregate_type: kind,
            aggregate_id: snapshot.aggregate_id,
            version: snapshot.version,
            committed_at: snapshot.committed_at,
            event_type: snapshot.event_type,
            state: Json(snapshot.state),
        }
    }
}

/// The last run of `anytrade audit verify`.
#[derive(SimpleObject)]
pub struct AuditVerification {
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
    events: i64,
    chains: i64,
    /// Whether every chain was intact.
    intact: bool,
    /// The first broken link of each broken chain, described.
    broken: Vec<String>,
}

fn audit_error(e: AuditError, point_field: &str) -> async_graphql::Error {
    match e {
        AuditError::NotFound(_) => errors::not_found("id", e),
        AuditError::VersionPastEnd { .. } | AuditError::VersionBeforeStart(_) => {
            errors::validation(point_field, e)
        }
        AuditError::BeforeFirstEvent { .. } => errors::validation("at", e),
        AuditError::MissingVersion { .. } | AuditError::Decode(_) | AuditError::Replay(_) => {
            errors::internal("replaying an aggregate", e)
        }
        AuditError::Database(e) => errors::database(e),
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Each event of one aggregate after version `after` (0: from its creation), at most
    /// `first` (default 20, max 100), with who issued it, when, its correlation, and the
    /// fields it changed.
    async fn aggregate_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type")] kind: AggregateType,
        id: Uuid,
        first: Option<i32>,
        after: Option<i64>,
    ) -> Result<Vec<AuditEntry>> {
        let after = after.unwrap_or(0);
        if after < 0 {
            return Err(errors::validation("after", "must not be negative"));
        }
        let first = page_size(first)?;
        let aggregate = AggregateRef {
            kind: kind.into(),
            id,
        };
        let entries = history::history(&ctx.api().pool, aggregate, after, Some(first))
            .await
            .map_err(|e| audit_error(e, "after"))?;
        Ok(entries.into_iter().map(AuditEntry::from).collect())
    }

    /// The aggregate's state after its first `version` events, or as it stood at time
    /// `at`: exactly one of the two.
    async fn aggregate_at(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type")] kind: AggregateType,
        id: Uuid,
        version: Option<i64>,
        at: Option<DateTime<Utc>>,
    ) -> Result<AggregateSnapshot> {
        let point = match (version, at) {
            (Some(version), None) => Point::Version(version),
            (None, Some(at)) => Point::Time(at),
            _ => {
                return Err(errors::validation(
                    "version",
                    "give exactly one of version and at",
                ));
            }
        };
        let aggregate = AggregateRef {
            kind: kind.into(),
            id,
        };
        let snapshot = history::at(&ctx.api().pool, aggregate, point)
            .await
            .map_err(|e| audit_error(e, "version"))?;
        Ok(AggregateSnapshot::new(kind, snapshot))
    }

    /// When the log's hash chains were last verified (`anytrade audit verify`) and what
    /// was found; null if never. Admins only.
    async fn audit_verify(&self, ctx: &Context<'_>) -> Result<Option<AuditVerification>> {
        if ctx.principal()?.role != Role::Admin {
            return Err(errors::auth(&AuthError::Forbidden));
        }
        let last = chain::last_verification(&ctx.api().pool)
            .await
            .map_err(errors::database)?;
        Ok(last.map(|v| AuditVerification {
            started_at: v.started_at,
            finished_at: v.finished_at,
            events: v.events,
            chains: v.chains,
            intact: v.broken.is_empty(),
            broken: v.broken.iter().map(ToString::to_string).collect(),
        }))
    }
}
