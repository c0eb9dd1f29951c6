//! Append throughput and latency of single-event commands, next to a raw single-row
//! INSERT into the same table (same shape, same durability) measured in the same run;
//! and the cost of the hash chain (the insert trigger) next to the same commands
//! without it.
//!
//! Run with `scripts/bench event_store` (it starts PostgreSQL when DATABASE_URL does not
//! answer). Settings: `BENCH_SECONDS` per phase (default 10; 1 under `cargo test`, which
//! runs it without `--bench` as a smoke run).

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::{drop_database, env, fresh_database_url};

use anytrade::db;
use anytrade::store::event_hash;
use anytrade::store::{CommandBus, CommandMetadata, EventLog};
use anytrade_aggregates::exchange::{Exchange, ExchangeCommand};
use anytrade_aggregates::{DomainError, ExchangeFacts, Lookup, StrategyFacts};
use cqrs_es::persist::SerializedEvent;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use uuid::Uuid;

/// Seconds the service spends rendering one create's hashed bytes (jsonb text of its
/// payload and metadata, framed), as `store::repository` does on every append.
fn render_cost() -> f64 {
    let (id, _) = create_exchange();
    let event = SerializedEvent {
        aggregate_id: id.to_string(),
        sequence: 1,
        aggregate_type: "Exchange".into(),
        event_type: "ExchangeCreated".into(),
        event_version: "1.0".into(),
        payload: serde_json::json!({ "ExchangeCreated": { "exchange_id": id,
            "name": "binance", "test_mode": true,
            "config": { "ccxt_config": { "enableRateLimit": true } } } }),
        metadata: serde_json::to_value(CommandMetadata::issued_by("bench").to_map())
            .expect("metadata serializes"),
    };
    let rounds = 100_000;
    let start = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(event_hash::appended(&event));
    }
    start.elapsed().as_secs_f64() / rounds as f64
}

/// The bench creates exchanges only, so nothing else exists to look up.
struct EmptyFleet;

#[async_trait::async_trait]
impl Lookup for EmptyFleet {
    async fn exchange(&self, _: Uuid) -> Result<Option<ExchangeFacts>, DomainError> {
        Ok(None)
    }
    async fn only_exchange(&self) -> Result<Option<Uuid>, DomainError> {
        Ok(None)
    }
    async fn strategy(&self, _: Uuid) -> Result<Option<StrategyFacts>, DomainError> {
        Ok(None)
    }
    async fn strategy_named(&self, _: &str) -> Result<Option<Uuid>, DomainError> {
        Ok(None)
    }
    async fn bots_using_exchange(&self, _: Uuid) -> Result<u64, DomainError> {
        Ok(0)
    }
    async fn bots_using_strategy(&self, _: Uuid) -> Result<u64, DomainError> {
        Ok(0)
    }
}

fn create_exchange() -> (Uuid, ExchangeCommand) {
    let id = Uuid::now_v7();
    let command = ExchangeCommand::CreateExchange {
        exchange_id: id,
        name: "binance".into(),
        test_mode: true,
        config: serde_json::json!({ "ccxt_config": { "enableRateLimit": true } }),
        secrets: Vec::new(),
    };
    (id, command)
}

const RAW_INSERT: &str = "INSERT INTO events
    (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
    VALUES ('Exchange', $1, 1, 'ExchangeCreated', '1.0', $2, $3)";

/// One append the way a hand-written store would do it: a single autocommit INSERT.
async fn raw_append(pool: &PgPool) {
    let id = Uuid::now_v7();
    let payload = serde_json::json!({ "ExchangeCreated": { "exchange_id": id, "name": "binance",
        "test_mode": true, "config": { "ccxt_config": { "enableRateLimit": true } } } });
    let metadata = serde_json::to_value(CommandMetadata::issued_by("bench").to_map())
        .expect("metadata serializes");
    sqlx::query(RAW_INSERT)
        .bind(id.to_string())
        .bind(payload)
        .bind(metadata)
        .execute(pool)
        .await
        .expect("raw insert");
}

async fn command_append(bus: &CommandBus<Exchange>) {
    let (id, command) = create_exchange();
    bus.execute(&id, command, &CommandMetadata::issued_by("bench"))
        .await
        .expect("command");
}

/// A single-event command on an existing exchange: a new config revision.
async fn command_update(bus: &CommandBus<Exchange>, id: &Uuid, revision: usize) {
    let command = ExchangeCommand::UpdateExchange {
        test_mode: None,
        config: Some(serde_json::json!({ "revision": revision })),
    };
    bus.execute(id, command, &CommandMetadata::issued_by("bench"))
        .await
        .expect("command");
}

struct Run {
    per_second: f64,
    latencies: Vec<Duration>,
}

/// Runs `op(writer, iteration)` in `writers` closed loops for `seconds`.
async fn closed_loop<F, Fut>(writers: usize, seconds: u64, op: F) -> Run
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < end {
                    let t = Instant::now();
                    op(writer, latencies.len()).await;
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("writer"));
    }
    let elapsed = start.elapsed().as_secs_f64();
    Run {
        per_second: latencies.len() as f64 / elapsed,
        latencies,
    }
}

/// Issues `rate` operations per second for `seconds` from `writers` tasks; latency is
/// measured from each operation's scheduled start, so queueing counts.
async fn open_loop<F, Fut>(writers: usize, rate: f64, seconds: u64, op: F) -> Run
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let interval = Duration::from_secs_f64(writers as f64 / rate);
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut due = start + interval.mul_f64(w as f64 / writers as f64);
                while due < end {
                    tokio::time::sleep_until(due.into()).await;
                    op().await;
                    latencies.push(due.elapsed());
                    due += interval;
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("writer"));
    }
    Run {
        per_second: latencies.len() as f64 / start.elapsed().as_secs_f64(),
        latencies,
    }
}

fn percentile(latencies: &mut [Duration], p: f64) -> f64 {
    latencies.sort();
    let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
    latencies
        .get(index)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(f64::NAN)
}

/// A migrated scratch database, and its name (to drop it after).
async fn fresh_database(url: &str) -> (PgPool, String) {
    let (database_url, name) = fresh_database_url(url).await;
    let options = PgConnectOptions::from_str(&database_url).expect("scratch URL parses");
    let pool = db::connect(options, 16)
        .await
        .expect("connect bench database");
    db::migrate(&pool).await.expect("migrate");
    (pool, name)
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (use scripts/bench)");
    // `cargo test` runs this too (without `--bench`): then a short smoke run.
    let full = std::env::args().any(|arg| arg == "--bench");
    let seconds: u64 = env("BENCH_SECONDS", if full { 10 } else { 1 });
    let (pool, database) = fresh_database(&url).await;
    let settings: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, setting FROM pg_settings WHERE name IN
         ('fsync', 'synchronous_commit', 'wal_sync_method', 'server_version')",
    )
    .fetch_all(&pool)
    .await
    .expect("settings");
    let lookup: Arc<dyn Lookup> = Arc::new(EmptyFleet);
    let bus = Arc::new(CommandBus::<Exchange>::new(
        pool.clone(),
        EventLog::new(pool.clone()),
        lookup,
    ));

    println!("PostgreSQL: {settings:?}; {seconds} s per phase\n");
    println!("| writers | operation | per second | ratio to raw INSERT | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");
    let mut max_rate = 0.0;
    for writers in [1, 8] {
        let raw_pool = pool.clone();
        let mut raw = closed_loop(writers, seconds, move |_, _| {
            let pool = raw_pool.clone();
            async move { raw_append(&pool).await }
        })
        .await;
        let command_bus = bus.clone();
        let mut creates = closed_loop(writers, seconds, move |_, _| {
            let bus = command_bus.clone();
            async move { command_append(&bus).await }
        })
        .await;
        max_rate = f64::max(max_rate, creates.per_second);
        // Each writer updates one exchange of its own, over and over.
        let mut ids = Vec::new();
        for _ in 0..writers {
            let (id, command) = create_exchange();
            bus.execute(&id, command, &CommandMetadata::issued_by("bench"))
                .await
                .expect("create");
            ids.push(id);
        }
        let command_bus = bus.clone();
        let ids = Arc::new(ids);
        let mut updates = closed_loop(writers, seconds, move |writer, revision| {
            let bus = command_bus.clone();
            let ids = ids.clone();
            async move { command_update(&bus, &ids[writer], revision + 1).await }
        })
        .await;
        let baseline = raw.per_second;
        for (name, run) in [
            ("raw INSERT (baseline)", &mut raw),
            ("command: create exchange", &mut creates),
            ("command: update exchange", &mut updates),
        ] {
            println!(
                "| {writers} | {name} | {:.0} | {:.2} | {:.2} | {:.2} |",
                run.per_second,
                run.per_second / baseline,
                percentile(&mut run.latencies, 0.50),
                percentile(&mut run.latencies, 0.99),
            );
        }
    }

    let rate = max_rate / 2.0;
    let command_bus = bus.clone();
    let mut paced = open_loop(8, rate, seconds, move || {
        let bus = command_bus.clone();
        async move { command_append(&bus).await }
    })
    .await;
    println!(
        "\nAt half the maximum command rate ({rate:.0}/s offered, {:.0}/s done, 8 writers): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        paced.per_second,
        percentile(&mut paced.latencies, 0.50),
        percentile(&mut paced.latencies, 0.99),
        percentile(&mut paced.latencies, 1.0),
    );

    // What the hash chain costs an append: the same commands (a) with the hash dropped
    // by a trigger instead (the service still renders the hashed bytes; that cost is
    // measured on its own below), (b) chained as the service appends: the trigger
    // adds the predecessor's hash to the bytes the service rendered, and (c) chained
    // with the database rendering the bytes itself, as it does for imports and
    // hand-written SQL. Rates drift down as the table grows, so the order is
    // a b c c b a, twice: each variant sits at the same mean place.
    sqlx::raw_sql(
        "ALTER TABLE events ALTER COLUMN hash DROP NOT NULL;
         CREATE FUNCTION bench_drop_hash() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN NEW.hash := NULL; RETURN NEW; END $$;
         -- Triggers fire by name: this one runs before events_chain_hash.
         CREATE TRIGGER bench_drop_hash BEFORE INSERT ON events
             FOR EACH ROW EXECUTE FUNCTION bench_drop_hash();",
    )
    .execute(&pool)
    .await
    .expect("a trigger that drops the hash");
    const VARIANTS: [(&str, &str); 3] = [
        (
            "without the chain",
            "ENABLE TRIGGER bench_drop_hash, DISABLE TRIGGER events_chain_hash",
        ),
        (
            "chained, bytes rendered by the service",
            "DISABLE TRIGGER bench_drop_hash, ENABLE TRIGGER events_chain_hash",
        ),
        (
            "chained, bytes rendered by the database",
            "ENABLE TRIGGER bench_drop_hash, ENABLE TRIGGER events_chain_hash",
        ),
    ];
    let mut rates = [Vec::new(), Vec::new(), Vec::new()];
    for variant in [0, 1, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0] {
        sqlx::query(&format!("ALTER TABLE events {}", VARIANTS[variant].1))
            .execute(&pool)
            .await
            .expect("switch the hash chain");
        let command_bus = bus.clone();
        let run = closed_loop(8, seconds, move |_, _| {
            let bus = command_bus.clone();
            async move { command_append(&bus).await }
        })
        .await;
        rates[variant].push(run.per_second);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let without = mean(&rates[0]);
    println!("\nHash chain, 8 writers, create exchange:\n");
    println!("| variant | per second | ratio to without | runs |");
    println!("|---|---|---|---|");
    for ((name, _), runs) in VARIANTS.iter().zip(&rates) {
        println!(
            "| {name} | {:.0} | {:.2} | {:?} |",
            mean(runs),
            mean(runs) / without,
            runs.iter().map(|r| r.round()).collect::<Vec<_>>(),
        );
    }
    // Counted as CPU taken from the cores the whole path shares, the rendering leaves
    // this much of the rate without the chain.
    let render = render_cost();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let budget = cores / without;
    println!(
        "\nRendering the hashed bytes in the service: {:.2} µs an event, {:.1}% of a \
         command's CPU at that rate; ratio with it counted: {:.2}",
        render * 1e6,
        100.0 * render / budget,
        mean(&rates[1]) / without * (budget - render) / budget,
    );
    pool.close().await;
    drop_database(&url, &database).await;
}
