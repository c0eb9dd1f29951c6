//! Rebuilding read models without stopping them. A rebuild replays the log into empty
//! copies of a projector's tables in a scratch schema, while the live tables keep
//! serving queries and the live projector keeps applying new events to them. Once the
//! copy has caught up, one short transaction takes the projector's lock, applies the
//! last few events to the copy, replaces the live rows with the copy's and moves the
//! checkpoint; the live projector then finds its checkpoint moved and carries on from
//! there. Replaying in short transactions matters: one long writing transaction would
//! hold back every log reader in the system (see [`crate::log`]).
//!
//! The same scratch tables answer "what did the fleet look like at time T": replay
//! the events committed by then, read the copies, drop them.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::log::{self, EventLog, LogFilter, LogPosition, LoggedEvent};
use crate::projector::{ProjectionError, Projector};
use crate::runner::{decoded, lock};
use crate::typed::{AggregateKind, TypedEvent};

/// Events per replayed batch (applied in [`PARTS`] transactions): large enough to
/// amortize a commit, small enough to release the log's horizon often.
const BATCH: i64 = 5_000;

/// A scratch schema holding empty copies of some projectors' tables. Statements run
/// with [`Scratch::enter`] find the copies first under the tables' own names, so the
/// projectors' unchanged SQL writes into them.
pub struct Scratch {
    schema: String,
}

impl Scratch {
    /// Creates `schema` (dropping a leftover of a crashed run) with a copy of every
    /// table of `projectors`: columns, defaults, checks, unique keys and the foreign
    /// keys between those tables.
    pub async fn create(
        pool: &PgPool,
        schema: &str,
        projectors: &[&dyn Projector],
    ) -> Result<Self, sqlx::Error> {
        let scratch = Self {
            schema: schema.to_owned(),
        };
        let mut tx = pool.begin().await?;
        sqlx::query(&format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            scratch.quoted()
        ))
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!("CREATE SCHEMA {}", scratch.quoted()))
            .execute(&mut *tx)
            .await?;
        let tables: Vec<&str> = projectors
            .iter()
            .flat_map(|p| p.tables())
            .copied()
            .collect();
        // Unlogged: the copies are thrown away after the swap, and a crash loses
        // nothing that a new rebuild would not redo, so writing them to the WAL would
        // only cost time. Half-filled pages: a replay updates most rows soon after
        // inserting them (a trade opens, then closes), and a page with room takes the
        // new version in place, without a new entry in every index (a HOT update).
        // Without the indexes that serve only queries: every write of the projectors
        // goes by a primary key, and the swap reads the copies whole.
        for table in &tables {
            sqlx::query(&format!(
                "CREATE UNLOGGED TABLE {}.{table}
                   (LIKE public.{table} INCLUDING ALL EXCLUDING INDEXES)
                   WITH (fillfactor = 50, autovacuum_enabled = false)",
                scratch.quoted()
            ))
            .execute(&mut *tx)
            .await?;
        }
        // Keys are not copied without the indexes. Upserts and updates need the
        // primary keys, and the projectors rely on the cascades of the foreign keys
        // between the tables (and on the unique keys those reference). Other unique keys
        // are left to the live tables, which check them when the rows arrive: keeping
        // them here would cost an index entry per row for no lookup.
        let keys: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
               FROM pg_constraint c
              WHERE c.conrelid::regclass::text = ANY($1)
                AND (c.contype = 'p'
                     OR (c.contype = 'u' AND EXISTS
                          (SELECT 1 FROM pg_constraint f
                            WHERE f.contype = 'f' AND f.conindid = c.conindid
                              AND f.conrelid::regclass::text = ANY($1)))
                     OR (c.contype = 'f' AND c.confrelid::regclass::text = ANY($1)))
              ORDER BY c.contype = 'f'",
        )
        .bind(&tables)
        .fetch_all(&mut *tx)
        .await?;
        scratch.enter(&mut tx).await?;
        for (table, name, definition) in keys {
            sqlx::query(&format!(
                "ALTER TABLE {}.{table} ADD CONSTRAINT {name} {definition}",
                scratch.quoted()
            ))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(scratch)
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The schema name, quoted for SQL.
    pub fn quoted(&self) -> String {
        format!("\"{}\"", self.schema.replace('"', "\"\""))
    }

    /// Points unqualified table names at the copies for the rest of the transaction.
    pub async fn enter(&self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::query(&format!(
            "SET LOCAL search_path TO {}, public",
            self.quoted()
        ))
        .execute(tx)
        .await?;
        Ok(())
    }

    /// Applies `batch` to the copies of `projectors`' tables, inside `tx`.
    async fn apply(
        &self,
        tx: &mut PgConnection,
        projectors: &[&dyn Projector],
        batch: &[LoggedEvent],
    ) -> Result<(), ProjectionError> {
        let kinds: Vec<AggregateKind> = projectors.iter().map(|p| p.aggregate()).collect();
        self.apply_decoded(tx, projectors, decode_for(&kinds, batch)?)
            .await
    }

    /// Applies each projector's share of a batch, decoded, inside `tx`.
    async fn apply_decoded(
        &self,
        tx: &mut PgConnection,
        projectors: &[&dyn Projector],
        shares: Vec<Vec<TypedEvent>>,
    ) -> Result<(), ProjectionError> {
        self.enter(tx).await?;
        for (projector, events) in projectors.iter().zip(shares) {
            projector.apply_all(tx, events).await?;
        }
        Ok(())
    }

    /// Replays the log after `at` into the copies, a batch at a time in short
    /// transactions (one per part of the batch), up to the head as it is now; only
    /// events committed before `until`, when given.
    /// Returns where it stopped and how many events it read.
    pub async fn replay(
        &self,
        pool: &PgPool,
        projectors: &[&dyn Projector],
        at: LogPosition,
        until: Option<DateTime<Utc>>,
    ) -> Result<(LogPosition, u64), ProjectionError> {
        let head = EventLog::new(pool.clone()).head().await?;
        let filter = LogFilter {
            until,
            ..LogFilter::default()
        };
        // Reading and decoding run ahead on a task of their own (another thread,
        // another connection), and each part of a batch goes to an applier of its own,
        // so the database applies while the next batch is read, and one part does not
        // wait for the other: parts hold different aggregates.
        let (senders, parts): (Vec<_>, Vec<_>) =
            (0..PARTS).map(|_| tokio::sync::mpsc::channel(2)).unzip();
        let kinds: Vec<AggregateKind> = projectors.iter().map(|p| p.aggregate()).collect();
        let reader = tokio::spawn(read_ahead(pool.clone(), at, head, filter, kinds, senders));
        let appliers = parts.into_iter().map(|mut part| async move {
            while let Some(shares) = part.recv().await {
                let mut tx = pool.begin().await?;
                self.apply_decoded(&mut tx, projectors, shares).await?;
                tx.commit().await?;
            }
            Ok::<_, ProjectionError>(())
        });
        // An applier that fails drops its queue, which stops the reader.
        let applied = futures::future::try_join_all(appliers).await;
        // Nothing cancels the reader; if it panicked, the panic goes on rather than a
        // read model left incomplete.
        let read = reader
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        applied?;
        let (at, read) = read?;
        Ok((at.max(head), read))
    }

    pub async fn drop(self, pool: &PgPool) -> Result<(), sqlx::Error> {
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.quoted()))
            .execute(pool)
            .await?;
        Ok(())
    }
}

/// Rebuilds the read models of `projectors` from the start of the log, in one pass over
/// it, while the live ones keep serving and following the log; returns how many events
/// were replayed.
pub async fn rebuild(pool: &PgPool, projectors: &[&dyn Projector]) -> Result<u64, ProjectionError> {
    // One rebuild of a read model at a time, across processes; released if we die.
    // Taken in name order, so two rebuilds of overlapping sets cannot deadlock.
    let mut names: Vec<&str> = projectors.iter().map(|p| p.name()).collect();
    names.sort_unstable();
    let mut guard = pool.acquire().await?;
    for name in &names {
        sqlx::query("SELECT pg_advisory_lock(hashtext('anytrade.rebuild.' || $1))")
            .bind(name)
            .execute(&mut *guard)
            .await?;
    }
    let result = rebuild_locked(pool, projectors).await;
    sqlx::query("SELECT pg_advisory_unlock_all()")
        .execute(&mut *guard)
        .await?;
    result
}

async fn rebuild_locked(
    pool: &PgPool,
    projectors: &[&dyn Projector],
) -> Result<u64, ProjectionError> {
    let names: Vec<&str> = projectors.iter().map(|p| p.name()).collect();
    // PostgreSQL names are at most 63 bytes: a long set of names goes by its digest.
    let mut schema = format!("anytrade_rebuild_{}", names.join("_"));
    if schema.len() > 63 {
        let digest = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, schema.as_bytes());
        schema = format!("anytrade_rebuild_{}", digest.simple());
    }
    let scratch = Scratch::create(pool, &schema, projectors).await?;
    let (mut at, mut read) = scratch
        .replay(pool, projectors, LogPosition::START, None)
        .await?;

    let mut tx = pool.begin().await?;
    let mut sorted = names.clone();
    sorted.sort_unstable();
    for name in sorted {
        lock(&mut tx, name).await?;
    }
    // Catch up with what committed during the replay; the live projectors wait on
    // their locks meanwhile, so this is the last stretch.
    loop {
        let batch = log::read_after(&mut *tx, at, BATCH).await?;
        let Some(last) = batch.last() else { break };
        scratch.apply(&mut tx, projectors, &batch).await?;
        at = last.log_position();
        read += batch.len() as u64;
    }
    // The swap hash-joins each live table with its copy: memory for the hash tables
    // (at 490k trades the default 4 MB spilled them to disk in 16 batches).
    sqlx::raw_sql("SET LOCAL search_path TO public; SET LOCAL work_mem = '256MB'")
        .execute(&mut *tx)
        .await?;
    for projector in projectors {
        swap(&mut tx, &scratch, projector.tables()).await?;
        EventLog::save_checkpoint(&mut tx, projector.name(), at).await?;
    }
    tx.commit().await?;
    scratch.drop(pool).await?;
    Ok(read)
}

/// Makes the live `tables` hold what their copies hold, writing only the rows that
/// differ: a rebuild mostly confirms what the live tables say, and rewriting every row
/// (and its index entries) would cost more than the replay and bloat the tables.
async fn swap(
    tx: &mut PgConnection,
    scratch: &Scratch,
    tables: &[&str],
) -> Result<(), sqlx::Error> {
    let copy = scratch.quoted();
    let mut keyed = Vec::with_capacity(tables.len());
    for table in tables {
        keyed.push((table, same_key(tx, table).await?));
    }
    // Children before parents to remove; parents before children to add. A changed
    // parent removed here may take unchanged children with it (a cascade): they are
    // then missing from the live table, so they are added back below.
    for (table, same_key) in &keyed {
        sqlx::query(&format!(
            "DELETE FROM public.{table} live WHERE NOT EXISTS
               (SELECT 1 FROM {copy}.{table} fresh
                 WHERE {same_key} AND fresh IS NOT DISTINCT FROM live)"
        ))
        .execute(&mut *tx)
        .await?;
    }
    for (table, same_key) in keyed.iter().rev() {
        let empty: bool =
            sqlx::query_scalar(&format!("SELECT NOT EXISTS (SELECT FROM public.{table})"))
                .fetch_one(&mut *tx)
                .await?;
        if empty {
            fill(tx, &copy, table).await?;
            continue;
        }
        sqlx::query(&format!(
            "INSERT INTO public.{table} OVERRIDING SYSTEM VALUE
             SELECT * FROM {copy}.{table} fresh WHERE NOT EXISTS
               (SELECT 1 FROM public.{table} live WHERE {same_key})"
        ))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Fills the empty live `table` with its copy's rows, its indexes dropped before and
/// built after: building an index sorts the rows once, where inserting them one by one
/// walks every index for every row, several times slower on a large table (a new read
/// model, or one whose every row differed). Readers of the table wait until the swap
/// commits; they had no rows to see meanwhile. Indexes that foreign keys of other
/// tables rely on stay.
async fn fill(tx: &mut PgConnection, copy: &str, table: &str) -> Result<(), sqlx::Error> {
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT CASE WHEN c.oid IS NULL THEN format('DROP INDEX %s', i.indexrelid::regclass)
                     ELSE format('ALTER TABLE %s DROP CONSTRAINT %I',
                                 i.indrelid::regclass, c.conname) END,
                CASE WHEN c.oid IS NULL THEN pg_get_indexdef(i.indexrelid)
                     ELSE format('ALTER TABLE %s ADD CONSTRAINT %I %s', i.indrelid::regclass,
                                 c.conname, pg_get_constraintdef(c.oid)) END
           FROM pg_index i
           LEFT JOIN pg_constraint c
             ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
          WHERE i.indrelid = to_regclass('public.' || quote_ident($1))
            AND NOT EXISTS (SELECT FROM pg_constraint f
                             WHERE f.contype = 'f' AND f.conindid = i.indexrelid)",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await?;
    for (drop, _) in &indexes {
        sqlx::query(drop).execute(&mut *tx).await?;
    }
    sqlx::query(&format!(
        "INSERT INTO public.{table} OVERRIDING SYSTEM VALUE SELECT * FROM {copy}.{table}"
    ))
    .execute(&mut *tx)
    .await?;
    for (_, create) in &indexes {
        sqlx::query(create).execute(&mut *tx).await?;
    }
    Ok(())
}

/// SQL that holds when rows `live` and `fresh` of `table` have the same primary key
/// (every read model has one); the whole row when it has none.
async fn same_key(tx: &mut PgConnection, table: &str) -> Result<String, sqlx::Error> {
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(a.attname)
           FROM pg_constraint c
           CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
          WHERE c.conrelid = to_regclass('public.' || quote_ident($1)) AND c.contype = 'p'
          ORDER BY k.n",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await?;
    if columns.is_empty() {
        return Ok("fresh IS NOT DISTINCT FROM live".to_owned());
    }
    Ok(columns
        .iter()
        .map(|c| format!("fresh.{c} = live.{c}"))
        .collect::<Vec<_>>()
        .join(" AND "))
}

/// Into how many parts a replayed batch is split, each applied on its own connection:
/// one per core here. Events of different [`TypedEvent::partition`]s write different
/// rows, so they can be applied apart; each partition stays in one part, in order.
const PARTS: usize = 2;

/// `shares` (per projector) split by partition into [`PARTS`] parts.
fn split(shares: Vec<Vec<TypedEvent>>) -> Vec<Vec<Vec<TypedEvent>>> {
    let mut parts: Vec<Vec<Vec<TypedEvent>>> = vec![Vec::new(); PARTS];
    for share in shares {
        let mut split = vec![Vec::new(); PARTS];
        for event in share {
            let part = usize::from(event.partition().as_bytes()[15]) % PARTS;
            split[part].push(event);
        }
        for (part, events) in parts.iter_mut().zip(split) {
            part.push(events);
        }
    }
    parts
}

/// The events of `batch` that each of `kinds` reads, decoded.
fn decode_for(
    kinds: &[AggregateKind],
    batch: &[LoggedEvent],
) -> Result<Vec<Vec<TypedEvent>>, ProjectionError> {
    kinds.iter().map(|kind| decoded(batch, *kind)).collect()
}

/// Reads the log after `at` up to `head` in batches and sends each part of each batch,
/// decoded, to its applier, until the end or the first error; returns where it stopped
/// and how many events it read.
async fn read_ahead(
    pool: PgPool,
    mut at: LogPosition,
    head: LogPosition,
    filter: LogFilter,
    kinds: Vec<AggregateKind>,
    appliers: Vec<tokio::sync::mpsc::Sender<Vec<Vec<TypedEvent>>>>,
) -> Result<(LogPosition, u64), ProjectionError> {
    let mut read = 0;
    loop {
        let batch = log::read_typed(&pool, at, head, &filter, BATCH, &kinds).await?;
        let Some(last) = batch.last else {
            return Ok((at, read));
        };
        for (applier, part) in appliers.iter().zip(split(shares(&kinds, batch.events))) {
            if applier.send(part).await.is_err() {
                // That applier failed, and says why.
                return Ok((at, read));
            }
        }
        at = last;
        read += batch.read;
    }
}

/// `events` divided among the projectors that read them, given by their aggregates.
fn shares(kinds: &[AggregateKind], events: Vec<TypedEvent>) -> Vec<Vec<TypedEvent>> {
    let mut shares = vec![Vec::new(); kinds.len()];
    for event in events {
        let kind = event.event.kind();
        let mut readers = (0..kinds.len()).filter(|&i| kinds[i] == kind);
        let Some(first) = readers.next() else {
            continue;
        };
        for other in readers {
            shares[other].push(event.clone());
        }
        shares[first].push(event);
    }
    shares
}
