//! The audit tooling over a large log: rebuilding every read model, verifying every
//! hash chain, and an aggregate's state at a version, each next to a plain read of the
//! same events in the same run.
//!
//! The log is a fleet's mix: bots started, trades opened and closed (most of the log),
//! backtests with results, and one hyperopt with 10,000 progress reports (the aggregate
//! `audit at` is measured on). Payloads are the golden log's, with ids varied, written
//! through the real `events` table (the trigger computes every hash).
//!
//! Run with `scripts/bench audit`. Settings: `BENCH_EVENTS` (default 1,000,000),
//! `BENCH_AT_SAMPLES` (default 200), `BENCH_DATABASE_URL` (a database to keep the log
//! in between runs instead of a fresh one). Under `cargo test` (no `--bench` argument) the
//! defaults are a smoke run: 20,000 events, 5 samples.

use std::time::{Duration, Instant};

mod common;

use anytrade::audit::chain;
use anytrade::audit::history::{self, AggregateRef, Point};
use anytrade_aggregates::trade_aggregate_id;
use anytrade_aggregates::values::BotId;
use anytrade_projections::log::{EventLog, LogFilter, read_aggregate, read_typed};
use anytrade_projections::{AggregateKind, LogPosition};
use common::{drop_database, env, fresh_database_url};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

const GOLDEN: &str = include_str!("../tests/fixtures/events/golden.ndjson");
const BOTS: usize = 1_000;
const BACKTESTS: usize = 1_000;
const PROGRESS_REPORTS: usize = 10_000;
/// Trades a bot keeps open before closing the oldest.
const OPEN_TRADES: usize = 3;

/// The golden log's payload and metadata of `event_type`.
struct Templates(Vec<Value>);

impl Templates {
    fn load() -> Self {
        Self(
            GOLDEN
                .lines()
                .map(|l| serde_json::from_str(l).expect("golden line"))
                .collect(),
        )
    }

    fn get(&self, event_type: &str) -> &Value {
        self.0
            .iter()
            .find(|e| e["event_type"] == event_type)
            .unwrap_or_else(|| panic!("no {event_type} in the golden log"))
    }
}

/// `value` with every id field set as given (and runtime ids after the owner's id).
fn with_ids(value: &Value, ids: &[(&str, Value)]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| {
                    let new = match ids.iter().find(|(k, _)| k == key) {
                        Some((_, v)) => v.clone(),
                        None => with_ids(item, ids),
                    };
                    (key.clone(), new)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|i| with_ids(i, ids)).collect()),
        other => other.clone(),
    }
}

/// Events waiting to be written, in log order.
#[derive(Default)]
struct Batch {
    kinds: Vec<&'static str>,
    ids: Vec<String>,
    sequences: Vec<i64>,
    types: Vec<String>,
    payloads: Vec<Value>,
    metadata: Vec<Value>,
}

impl Batch {
    fn len(&self) -> usize {
        self.ids.len()
    }

    async fn flush(&mut self, pool: &PgPool) {
        if self.ids.is_empty() {
            return;
        }
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                 event_version, payload, metadata)
             SELECT k, i, s, t, '1.0', p, m
               FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::jsonb[],
                           $6::jsonb[]) WITH ORDINALITY AS u(k, i, s, t, p, m, n)
              ORDER BY n",
        )
        .bind(&self.kinds)
        .bind(&self.ids)
        .bind(&self.sequences)
        .bind(&self.types)
        .bind(&self.payloads)
        .bind(&self.metadata)
        .execute(pool)
        .await
        .expect("insert events");
        *self = Batch::default();
    }
}

/// Appends events in batches of 5,000 statements' worth.
struct Writer<'a> {
    pool: &'a PgPool,
    templates: Templates,
    batch: Batch,
    written: usize,
}

impl Writer<'_> {
    async fn push(
        &mut self,
        kind: &'static str,
        id: Uuid,
        sequence: i64,
        event_type: &str,
        ids: &[(&str, Value)],
    ) {
        let template = self.templates.get(event_type);
        let (payload, metadata) = (
            with_ids(&template["payload"], ids),
            template["metadata"].clone(),
        );
        let batch = &mut self.batch;
        batch.kinds.push(kind);
        batch.ids.push(id.to_string());
        batch.sequences.push(sequence);
        batch.types.push(event_type.to_owned());
        batch.payloads.push(payload);
        batch.metadata.push(metadata);
        self.written += 1;
        if batch.len() == 5_000 {
            batch.flush(self.pool).await;
        }
    }
}

/// Writes the log; returns the hyperopt with 10,000 progress reports.
async fn write_log(pool: &PgPool, total: usize) -> Uuid {
    let mut w = Writer {
        pool,
        templates: Templates::load(),
        batch: Batch::default(),
        written: 0,
    };
    let (exchange, strategy) = (Uuid::now_v7(), Uuid::now_v7());
    let owner = |key: &'static str, id: Uuid| vec![(key, Value::from(id.to_string()))];
    w.push(
        "exchange",
        exchange,
        1,
        "ExchangeCreated",
        &owner("exchange_id", exchange),
    )
    .await;
    w.push(
        "strategy",
        strategy,
        1,
        "StrategyCreated",
        &owner("strategy_id", strategy),
    )
    .await;
    w.push("strategy", strategy, 2, "StrategyVersionAdded", &[])
        .await;
    let refs = |extra: Vec<(&'static str, Value)>| {
        let mut ids = vec![
            ("exchange_id", Value::from(exchange.to_string())),
            ("strategy_id", Value::from(strategy.to_string())),
        ];
        ids.extend(extra);
        ids
    };
    let bots: Vec<Uuid> = (0..BOTS).map(|_| Uuid::now_v7()).collect();
    for bot in &bots {
        let ids = refs(vec![
            ("bot_id", Value::from(bot.to_string())),
            ("runtime_id", Value::from(format!("bot-{bot}"))),
        ]);
        for (sequence, event_type) in [
            "BotCreated",
            "BotStartRequested",
            "BotProvisioned",
            "BotStarted",
        ]
        .iter()
        .enumerate()
        {
            w.push("bot", *bot, sequence as i64 + 1, event_type, &ids)
                .await;
        }
    }
    let hyperopt = Uuid::now_v7();
    let ids = refs(vec![
        ("hyperopt_id", Value::from(hyperopt.to_string())),
        (
            "runtime_id",
            Value::from(format!("anytrade-job-{hyperopt}")),
        ),
    ]);
    w.push("hyperopt", hyperopt, 1, "HyperoptRequested", &ids)
        .await;
    w.push("hyperopt", hyperopt, 2, "HyperoptStarted", &ids)
        .await;
    for n in 0..PROGRESS_REPORTS {
        let mut report = ids.clone();
        report.push(("epoch", Value::from(n as u64 + 1)));
        w.push(
            "hyperopt",
            hyperopt,
            n as i64 + 3,
            "HyperoptProgressReported",
            &report,
        )
        .await;
    }
    for _ in 0..BACKTESTS {
        let job = Uuid::now_v7();
        let ids = refs(vec![
            ("backtest_id", Value::from(job.to_string())),
            ("runtime_id", Value::from(format!("anytrade-job-{job}"))),
        ]);
        for (sequence, event_type) in ["BacktestRequested", "BacktestStarted", "BacktestCompleted"]
            .iter()
            .enumerate()
        {
            w.push("backtest", job, sequence as i64 + 1, event_type, &ids)
                .await;
        }
    }
    // Trades fill the rest: each bot opens trades in turn and closes its oldest.
    let mut trade_ids = vec![0_i64; BOTS];
    let mut turn = 0;
    while w.written < total {
        let bot = turn % BOTS;
        turn += 1;
        trade_ids[bot] += 1;
        let opened = trade_ids[bot];
        let trade = |trade_id: i64| {
            let ids = vec![
                ("bot_id", Value::from(bots[bot].to_string())),
                ("trade_id", Value::from(trade_id)),
            ];
            (trade_aggregate_id(BotId::from(bots[bot]), trade_id), ids)
        };
        let (id, ids) = trade(opened);
        w.push("trade", id, 1, "TradeOpened", &ids).await;
        let closing = opened - OPEN_TRADES as i64;
        if closing >= 1 {
            let (id, ids) = trade(closing);
            w.push("trade", id, 2, "TradeClosed", &ids).await;
        }
    }
    w.batch.flush(pool).await;
    hyperopt
}

/// Reads every event in log order and decodes it, as a rebuild's reader does (the same
/// read, in batches of the same size) but applying nothing: the ceiling.
async fn scan(pool: &PgPool) -> (u64, Duration) {
    let start = Instant::now();
    let head = EventLog::new(pool.clone()).head().await.expect("head");
    let kinds = AggregateKind::ALL;
    let mut at = LogPosition::START;
    let mut read = 0;
    loop {
        let batch = read_typed(pool, at, head, &LogFilter::default(), 5_000, &kinds)
            .await
            .expect("scan");
        let Some(last) = batch.last else { break };
        at = last;
        read += batch.read;
    }
    (read, start.elapsed())
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (use scripts/bench)");
    // `cargo test` runs this too (without `--bench`): then a short smoke run.
    let full = std::env::args().any(|arg| arg == "--bench");
    let total: usize = env("BENCH_EVENTS", if full { 1_000_000 } else { 20_000 });
    let samples: usize = env("BENCH_AT_SAMPLES", if full { 200 } else { 5 });
    // `BENCH_DATABASE_URL` keeps the log between runs: written when that database is
    // empty, reused (and kept) otherwise.
    let kept = std::env::var("BENCH_DATABASE_URL").ok();
    let (database_url, database) = match &kept {
        Some(kept) => (kept.clone(), String::new()),
        None => fresh_database_url(&url).await,
    };
    let pool = anytrade::db::connect(database_url.parse().expect("url"), 8)
        .await
        .expect("connect");
    anytrade::db::migrate(&pool).await.expect("migrate");

    let start = Instant::now();
    let written: Option<Uuid> = sqlx::query_scalar(
        "SELECT aggregate_id::uuid FROM events WHERE aggregate_type = 'hyperopt' LIMIT 1",
    )
    .fetch_optional(&pool)
    .await
    .expect("find the hyperopt");
    let hyperopt = match written {
        Some(hyperopt) => hyperopt,
        None => write_log(&pool, total).await,
    };
    sqlx::query("VACUUM ANALYZE events")
        .execute(&pool)
        .await
        .expect("vacuum");
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .expect("count");
    match written {
        Some(_) => println!("log: {events} events, kept from an earlier run\n"),
        None => println!(
            "log: {events} events written in {:.1} s (hash trigger included)\n",
            start.elapsed().as_secs_f64()
        ),
    }

    let (read, scanned) = scan(&pool).await;
    let scan_rate = read as f64 / scanned.as_secs_f64();
    let all = anytrade_projections::all();
    let all: Vec<_> = all.iter().map(|p| p.as_ref()).collect();
    // First into empty read models (every row written), then over current ones (only
    // what differs written): a new read model, and a rebuild after a projector change.
    let tables: Vec<&str> = all.iter().flat_map(|p| p.tables()).copied().collect();
    sqlx::query(&format!("TRUNCATE {} CASCADE", tables.join(", ")))
        .execute(&pool)
        .await
        .expect("empty the read models");
    let mut rebuilds = Vec::new();
    for name in [
        "rebuild of every read model, from empty",
        "rebuild of every read model, over current ones",
    ] {
        let start = Instant::now();
        let rebuilt = anytrade_projections::rebuild::rebuild(&pool, &all)
            .await
            .expect("rebuild");
        rebuilds.push((name, rebuilt, start.elapsed()));
    }
    let start = Instant::now();
    let report = chain::verify(&pool, 100_000, |_, _| {})
        .await
        .expect("verify");
    let verify = start.elapsed();
    assert!(report.is_intact(), "the generated log verifies");

    println!("| operation | events | seconds | events/s | ratio to the scan |");
    println!("|---|---|---|---|---|");
    println!(
        "| ordered scan (baseline) | {read} | {:.2} | {scan_rate:.0} | 1.00 |",
        scanned.as_secs_f64()
    );
    rebuilds.push(("audit verify", report.events, verify));
    for (name, count, took) in rebuilds {
        let rate = count as f64 / took.as_secs_f64();
        println!(
            "| {name} | {count} | {:.2} | {rate:.0} | {:.2} |",
            took.as_secs_f64(),
            rate / scan_rate
        );
    }

    let aggregate = AggregateRef {
        kind: AggregateKind::Hyperopt,
        id: hyperopt,
    };
    let length = (PROGRESS_REPORTS + 2) as i64;
    let versions: Vec<i64> = (0..samples)
        .map(|n| 1 + (n as i64 * 7919) % length)
        .chain([length])
        .collect();
    let (mut reads, mut ats) = (Vec::new(), Vec::new());
    for version in &versions {
        let start = Instant::now();
        read_aggregate(&pool, aggregate.kind, aggregate.id, Some(*version), None)
            .await
            .expect("read");
        reads.push(start.elapsed());
        let start = Instant::now();
        history::at(&pool, aggregate, Point::Version(*version))
            .await
            .expect("at");
        ats.push(start.elapsed());
    }
    println!(
        "\n`audit at --version N` on a hyperopt of {length} events, {} versions spread over it:",
        versions.len()
    );
    println!("| operation | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|");
    for (name, run) in [
        ("read the events up to N (baseline)", &mut reads),
        ("state at version N", &mut ats),
    ] {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} |",
            percentile(run, 0.5),
            percentile(run, 0.99),
            percentile(run, 1.0)
        );
    }
    pool.close().await;
    if kept.is_none() {
        drop_database(&url, &database).await;
    }
}
