//! Tamper evidence: each stored event carries a SHA-256 over the hash of its predecessor
//! in the same aggregate and its own content (`store::event_hash` says which bytes; the
//! `events_chain_hash` trigger computes it on insert). Verifying recomputes every hash
//! here, from the same bytes, so an edited, deleted or reordered event is found and named.

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::store::event_hash::Content;

pub use crate::store::event_hash::Hash;

/// What the hash of one event covers, as stored. `payload` and `metadata` are in
/// jsonb's canonical text form (what `payload::text` returns).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Link {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: String,
    pub metadata: String,
    /// The hash stored with the event.
    pub hash: Vec<u8>,
}

impl Link {
    /// The hash this event must have after `previous` (empty for an aggregate's first).
    pub fn expected_hash(&self, previous: &[u8]) -> Hash {
        Content {
            aggregate_type: &self.aggregate_type,
            aggregate_id: &self.aggregate_id,
            sequence: self.sequence,
            event_type: &self.event_type,
            event_version: &self.event_version,
            payload: &self.payload,
            metadata: &self.metadata,
        }
        .hash(previous)
    }
}

/// Why a chain is broken at an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// The stored hash does not match the event's content after its predecessor's hash:
    /// the event was edited, or moved to another place in the chain.
    Altered,
    /// Sequence `expected` is not stored; this event comes next.
    Missing { expected: i64 },
}

/// The first broken link of one aggregate's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenLink {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub position: i64,
    #[serde(flatten)]
    pub problem: Problem,
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            aggregate_type: kind,
            aggregate_id: id,
            sequence,
            position,
            ..
        } = self;
        match self.problem {
            Problem::Altered => write!(
                f,
                "{kind} {id}: event {sequence} (position {position}) does not match its hash: \
                 edited, or moved from another place"
            ),
            Problem::Missing { expected } => write!(
                f,
                "{kind} {id}: event {expected} is missing (the next stored is event {sequence}, \
                 position {position})"
            ),
        }
    }
}

/// What a verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub events: u64,
    pub chains: u64,
    /// The first broken link of each broken chain, in aggregate order.
    pub broken: Vec<BrokenLink>,
}

impl Report {
    pub fn is_intact(&self) -> bool {
        self.broken.is_empty()
    }
}

/// Checks links given in chain order (by aggregate, then sequence), one at a time, so
/// a log of any size is verified in constant memory.
#[derive(Debug, Default)]
pub struct Verifier {
    report: Report,
    chain: Option<(String, String)>,
    last_sequence: i64,
    last_hash: Vec<u8>,
    /// The current chain is already reported broken; the rest of it is not checked.
    broken: bool,
}

impl Verifier {
    pub fn check(&mut self, link: Link) {
        self.report.events += 1;
        let same_chain = self
            .chain
            .as_ref()
            .is_some_and(|(kind, id)| *kind == link.aggregate_type && *id == link.aggregate_id);
        if !same_chain {
            self.report.chains += 1;
            self.chain = Some((link.aggregate_type.clone(), link.aggregate_id.clone()));
            self.last_sequence = 0;
            self.last_hash.clear();
            self.broken = false;
        }
        if self.broken {
            return;
        }
        let problem = if link.sequence != self.last_sequence + 1 {
            Some(Problem::Missing {
                expected: self.last_sequence + 1,
            })
        } else if link.expected_hash(&self.last_hash)[..] != link.hash[..] {
            Some(Problem::Altered)
        } else {
            None
        };
        match problem {
            Some(problem) => {
                self.broken = true;
                self.report.broken.push(BrokenLink {
                    aggregate_type: link.aggregate_type,
                    aggregate_id: link.aggregate_id,
                    sequence: link.sequence,
                    position: link.position,
                    problem,
                });
            }
            None => {
                self.last_sequence = link.sequence;
                self.last_hash = link.hash;
            }
        }
    }

    pub fn finish(self) -> Report {
        self.report
    }
}

const CHAIN_ORDER: &str = "
SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version,
       payload::text AS payload, metadata::text AS metadata, hash
  FROM events
 ORDER BY aggregate_type, aggregate_id, sequence";

/// Verifies every chain in the store, streaming; `progress(done, total)` is called every
/// `every` events and once at the end.
pub async fn verify(
    pool: &PgPool,
    every: u64,
    mut progress: impl FnMut(u64, u64),
) -> Result<Report, sqlx::Error> {
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?;
    let total = total as u64;
    let mut verifier = Verifier::default();
    let mut links = sqlx::query_as::<_, Link>(CHAIN_ORDER).fetch(pool);
    while let Some(link) = links.try_next().await? {
        verifier.check(link);
        if verifier.report.events % every.max(1) == 0 {
            progress(verifier.report.events, total);
        }
    }
    let report = verifier.finish();
    progress(report.events, total.max(report.events));
    Ok(report)
}

/// Records a verification's outcome, so the API can show when the log was last verified
/// and what was found.
pub async fn record(
    pool: &PgPool,
    started_at: chrono::DateTime<chrono::Utc>,
    report: &Report,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_verifications (started_at, events, chains, broken)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(started_at)
    .bind(report.events as i64)
    .bind(report.chains as i64)
    .bind(sqlx::types::Json(&report.broken))
    .execute(pool)
    .await?;
    Ok(())
}

/// One recorded run of `anytrade audit verify`.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: chrono::DateTime<chrono::Utc>,
    pub events: i64,
    pub chains: i64,
    pub broken: Vec<BrokenLink>,
}

/// The most recent verification, if the log was ever verified.
pub async fn last_verification(pool: &PgPool) -> Result<Option<Verification>, sqlx::Error> {
    let row: Option<(_, _, i64, i64, sqlx::types::Json<Vec<BrokenLink>>)> = sqlx::query_as(
        "SELECT started_at, finished_at, events, chains, broken FROM audit_verifications
          ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(
        |(started_at, finished_at, events, chains, broken)| Verification {
            started_at,
            finished_at,
            events,
            chains,
            broken: broken.0,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(id: &str, length: i64) -> Vec<Link> {
        let mut previous = Vec::new();
        (1..=length)
            .map(|sequence| {
                let mut link = Link {
                    position: sequence * 10,
                    aggregate_type: "bot".into(),
                    aggregate_id: id.into(),
                    sequence,
                    event_type: "BotStarted".into(),
                    event_version: "1.0".into(),
                    payload: format!("{{\"n\": {sequence}}}"),
                    metadata: "{}".into(),
                    hash: Vec::new(),
                };
                link.hash = link.expected_hash(&previous).to_vec();
                previous = link.hash.clone();
                link
            })
            .collect()
    }

    fn verify(links: Vec<Link>) -> Report {
        let mut verifier = Verifier::default();
        links.into_iter().for_each(|link| verifier.check(link));
        verifier.finish()
    }

    #[test]
    fn intact_chains_verify() {
        let report = verify([chain("a", 3), chain("b", 2)].concat());
        assert_eq!((report.events, report.chains), (5, 2));
        assert!(report.is_intact(), "{:?}", report.broken);
    }

    #[test]
    fn an_edit_names_the_edited_event_only() {
        let mut links = [chain("a", 3), chain("b", 3)].concat();
        links[1].payload = "{\"n\": 99}".into();
        let report = verify(links);
        assert_eq!(report.broken.len(), 1, "{:?}", report.broken);
        assert_eq!(report.broken[0].aggregate_id, "a");
        assert_eq!(report.broken[0].sequence, 2);
        assert_eq!(report.broken[0].problem, Problem::Altered);
    }

    #[test]
    fn a_gap_names_the_missing_sequence() {
        let mut links = chain("a", 4);
        links.remove(1);
        let report = verify(links);
        assert_eq!(report.broken[0].problem, Problem::Missing { expected: 2 });
        assert_eq!(report.broken[0].sequence, 3);
    }

    #[test]
    fn a_chain_that_does_not_start_at_one_is_broken() {
        let mut links = chain("a", 2);
        links.remove(0);
        let report = verify(links);
        assert_eq!(report.broken[0].problem, Problem::Missing { expected: 1 });
    }

    #[test]
    fn swapped_sequences_break_the_chain_at_the_first_of_them() {
        let mut links = chain("a", 4);
        links.swap(1, 2);
        links[1].sequence = 2;
        links[2].sequence = 3;
        let report = verify(links);
        assert_eq!(report.broken[0].sequence, 2);
        assert_eq!(report.broken[0].problem, Problem::Altered);
    }

    #[test]
    fn a_hash_binds_the_aggregate_and_the_sequence() {
        let link = chain("a", 1).remove(0);
        let moved = Link {
            aggregate_id: "b".into(),
            ..link.clone()
        };
        let renumbered = Link {
            sequence: 2,
            ..link.clone()
        };
        assert_ne!(link.expected_hash(&[]), moved.expected_hash(&[]));
        assert_ne!(link.expected_hash(&[]), renumbered.expected_hash(&[]));
    }
}
