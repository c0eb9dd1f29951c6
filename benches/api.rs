//! The GraphQL API under load, against the real service started in-process on a
//! loopback port.
//!
//! Queries: `bots(first: 50)` and `trades(botId, first: 100)` over HTTP from 50 client
//! tasks sharing one HTTP client, next to the same SQL statements the resolvers run,
//! executed directly with sqlx from 50 tasks on a pool as large as the service's, in the
//! same run. First closed loops (each task sends its next request when the last one has
//! answered: the maximum rate), then open loops at a half and a quarter of the API's
//! maximum rate (latency counted from each request's scheduled start).
//!
//! Subscriptions: 1,000 `events` subscribers over WebSocket (graphql-transport-ws) while
//! commands through the command side commit 1,000 events a second; each subscriber
//! records the time from the event's commit (`committedAt`) to its arrival.
//!
//! The clients run on a tokio runtime of their own (threads `bench-client`), the service
//! on the main one; both share the machine, and the CPU each used is reported.
//!
//! Run with `scripts/bench api` (it starts PostgreSQL when DATABASE_URL does not answer).
//! Settings: `BENCH_SECONDS` per phase (default 10); `BENCH_SUBSCRIBERS` (default 1000);
//! `BENCH_EVENT_RATE`, events per second, a comma-separated list for several runs
//! (default 1000); `BENCH_PARTS`, `queries`, `subscriptions` or both (the default).
//! Under `cargo test` (no `--bench` argument) the defaults are a smoke run: 2 s phases
//! and 100 subscribers.
//!
//! The read models (`exchanges`, `strategies`, `strategy_versions`, `bots`, `trades`) are
//! derived data, so they are seeded directly with set-based SQL rather than replayed from
//! a million events: the query benchmark reads them exactly as the projectors leave them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "api/baseline.rs"]
mod baseline;
mod common;

use baseline::Baseline;

use common::{
    SEED_TRADE_TOTALS, SEED_TRADES, Socket, drop_database, env, fresh_database_url, graphql_socket,
    login,
};

use anytrade::app::Application;
use anytrade::config::{Redacted, Settings};
use anytrade::crypto::Keyring;
use anytrade::db;
use anytrade::hub::Hub;
use anytrade::store::{CommandMetadata, Commands};
use anytrade_aggregates::exchange::ExchangeCommand;
use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use sqlx::postgres::PgRow;
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

const BOTS: i64 = 1_000;
const TRADES: i64 = 1_000_000;
const CLIENTS: usize = 50;
/// The service's pool size (src/app.rs); the baseline gets a pool as large.
const SERVICE_POOL: u32 = 20;
/// Writers that share the event rate, each updating an exchange of its own: enough that
/// each has time to spare between its commands (50 ms at 1,000 events/s), so the rate
/// offered does not depend on how long one command takes.
const WRITERS: usize = 50;
/// Upper bound on operations per client task, on top of the time limit.
const MAX_OPS_PER_TASK: usize = 5_000_000;
/// How long setting up the subscribers, and draining them afterwards, may take.
const SETUP_LIMIT: Duration = Duration::from_secs(120);
const DRAIN_LIMIT: Duration = Duration::from_secs(60);
/// How long the baseline's clients get after the last frame was sent.
const BASELINE_DRAIN: Duration = Duration::from_secs(5);
/// Longest any one request, query or command may take before it counts as failed.
const OP_TIMEOUT: Duration = Duration::from_secs(30);
const ADMIN_PASSWORD: &str = "admin-password-for-the-bench";

const BOTS_QUERY: &str = "{ bots(first: 50) { totalCount edges { cursor node { id name status mode exchange { name } strategy { name } } } } }";
const TRADES_QUERY: &str = "query($bot: ID!) { trades(botId: $bot, first: 100) { totalCount edges { node { freqtradeTradeId pair isOpen openDate profitAbs } } } }";
const SUBSCRIPTION: &str =
    "subscription { events(filter: { aggregateTypes: [\"exchange\"] }) { position committedAt } }";

// The statements the resolvers run for those two queries, as their QueryBuilders emit
// them (projections/src/bots/list.rs, trades/list.rs; the page's exchanges and
// strategies as src/graphql/bots.rs reads them, through exchanges.rs and strategies.rs).
const BOTS_COUNT: &str = "SELECT count(*) FROM bots b WHERE TRUE";
const BOTS_PAGE: &str = "
SELECT b.id, b.name, b.exchange_id, b.strategy_id, b.strategy_version, b.status, b.mode,
       b.runtime, b.runtime_id, b.api_url, b.config, b.resources, b.freqtrade_version,
       b.error_message, b.started_at, b.created_at, b.updated_at
  FROM bots b WHERE TRUE ORDER BY b.created_at ASC, b.id ASC LIMIT $1";
const EXCHANGES_BY_ID: &str = "
SELECT e.id, e.name, e.test_mode, e.config, e.created_at, e.updated_at,
       COALESCE((SELECT json_agg(json_build_object('name', s.name, 'key_id', s.key_id, 'set_at', s.set_at)
                                 ORDER BY s.name)
                   FROM exchange_secrets s WHERE s.exchange_id = e.id), '[]') AS secrets
  FROM exchanges e WHERE e.id = ANY($1)";
const STRATEGIES_BY_ID: &str = "
SELECT s.id AS uuid, s.name, s.description, s.current_version AS version, s.class_name,
       s.sha256, COALESCE(v.code, '') AS code, s.created_at, s.updated_at
  FROM strategies s
  LEFT JOIN strategy_versions v ON v.strategy_id = s.id AND v.version = s.current_version WHERE s.id = ANY($1)";
const TRADES_COUNT: &str = "SELECT count(*) FROM trades WHERE bot_id = $1";
const TRADES_PAGE: &str = "SELECT id, bot_id, freqtrade_trade_id, pair, is_open, open_date, close_date,
    open_rate, close_rate, amount, stake_amount, profit_abs, profit_ratio, exit_reason,
    strategy_name, timeframe_minutes FROM trades WHERE bot_id = $1 ORDER BY open_date ASC, id ASC LIMIT $2";

const STRATEGY_CODE: &str = r#"from freqtrade.strategy import IStrategy
import talib.abstract as ta


class SampleStrategy(IStrategy):
    timeframe = "5m"
    minimal_roi = {"0": 0.04, "30": 0.02, "60": 0.01}
    stoploss = -0.05

    def populate_indicators(self, dataframe, metadata):
        dataframe["ema_fast"] = ta.EMA(dataframe, timeperiod=12)
        dataframe["ema_slow"] = ta.EMA(dataframe, timeperiod=26)
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        dataframe.loc[dataframe["ema_fast"] > dataframe["ema_slow"], "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        dataframe.loc[dataframe["ema_fast"] < dataframe["ema_slow"], "exit_long"] = 1
        return dataframe
"#;

const SEED_EXCHANGE: &str = "
INSERT INTO exchanges (id, name, test_mode, config, created_at, updated_at)
VALUES ($1, 'binance', true, '{\"ccxt_config\": {\"enableRateLimit\": true}, \"stake_currency\": \"USDT\"}',
        now() - interval '400 days', now() - interval '400 days')";
const SEED_STRATEGY: &str = "
INSERT INTO strategies (id, name, description, current_version, class_name, sha256, created_at, updated_at)
VALUES ($1, 'SampleStrategy', 'EMA 12/26 crossover with a 5 % stop', 1, 'SampleStrategy',
        encode(sha256(convert_to($2, 'UTF8')), 'hex'), now() - interval '400 days', now() - interval '400 days')";
const SEED_STRATEGY_VERSION: &str = "
INSERT INTO strategy_versions (strategy_id, version, code, sha256, class_name, created_at)
VALUES ($1, 1, $2, encode(sha256(convert_to($2, 'UTF8')), 'hex'), 'SampleStrategy', now() - interval '400 days')";
/// One bot per hour over the last 1,000 hours; most running, some stopped, a few failed.
const SEED_BOTS: &str = "
INSERT INTO bots (id, name, exchange_id, strategy_id, strategy_version, status, mode, runtime,
                  runtime_id, api_url, config, resources, freqtrade_version, error_message,
                  started_at, created_at, updated_at)
SELECT gen_random_uuid(), 'bot-' || lpad(g::text, 4, '0'), $1, $2, 1, s.status,
       CASE WHEN g % 10 = 0 THEN 'live' ELSE 'dry_run' END, 'docker',
       'anytrade-bot-' || g,
       CASE WHEN s.status = 'running' THEN 'http://anytrade-bot-' || g || ':8080' END,
       jsonb_build_object('max_open_trades', 3 + g % 5, 'stake_amount', 100,
                          'pairs', jsonb_build_array('BTC/USDT', 'ETH/USDT', 'SOL/USDT'),
                          'timeframe', '5m', 'extra', jsonb_build_object('process_only_new_candles', true)),
       '{\"cpu\": \"500m\", \"memory\": \"512Mi\"}', '2026.9',
       CASE WHEN s.status = 'error' THEN 'container exited with code 1' END,
       CASE WHEN s.status = 'running' THEN now() - (g % 72) * interval '1 hour' END,
       now() - ($3 - g) * interval '1 hour', now() - ($3 - g) * interval '1 hour' + interval '5 minutes'
  FROM generate_series(1, $3) g
 CROSS JOIN LATERAL (SELECT CASE WHEN g % 20 = 0 THEN 'error' WHEN g % 4 = 0 THEN 'stopped'
                                 ELSE 'running' END AS status) s";
/// Trade k of every bot in turn, so each bot's trades are spread over the whole table as
/// they would be when a fleet trades side by side; the last 3 of each bot are open.
/// Seeds the read models; returns the bots' ids.
async fn seed(pool: &PgPool) -> Vec<Uuid> {
    let exchange = Uuid::now_v7();
    let strategy = Uuid::now_v7();
    sqlx::query(SEED_EXCHANGE)
        .bind(exchange)
        .execute(pool)
        .await
        .expect("seed exchange");
    sqlx::query(SEED_STRATEGY)
        .bind(strategy)
        .bind(STRATEGY_CODE)
        .execute(pool)
        .await
        .expect("seed strategy");
    sqlx::query(SEED_STRATEGY_VERSION)
        .bind(strategy)
        .bind(STRATEGY_CODE)
        .execute(pool)
        .await
        .expect("seed strategy version");
    sqlx::query(SEED_BOTS)
        .bind(exchange)
        .bind(strategy)
        .bind(BOTS)
        .execute(pool)
        .await
        .expect("seed bots");
    sqlx::query(SEED_TRADES)
        .bind(TRADES)
        .bind(BOTS)
        .execute(pool)
        .await
        .expect("seed trades");
    sqlx::query(SEED_TRADE_TOTALS)
        .execute(pool)
        .await
        .expect("seed trade totals");
    sqlx::raw_sql("VACUUM ANALYZE exchanges, strategies, strategy_versions, bots, trades")
        .execute(pool)
        .await
        .expect("vacuum analyze");
    sqlx::query_scalar("SELECT id FROM bots ORDER BY created_at, id")
        .fetch_all(pool)
        .await
        .expect("bot ids")
}

/// Name of the threads the benchmark's own clients run on (a runtime of their own), so
/// their CPU time can be told apart from the service's.
const CLIENT_THREADS: &str = "bench-client";

/// CPU time so far, in clock ticks (1/100 s): the benchmark's client threads, this
/// whole process (client and service), and the whole machine (busy and all).
#[derive(Clone, Copy, Default)]
struct CpuTicks {
    client: u64,
    process: u64,
    busy: u64,
    total: u64,
}

/// The command name and utime + stime of a `/proc/.../stat` line.
fn proc_stat(text: &str) -> Option<(&str, u64)> {
    let (head, rest) = text.rsplit_once(") ")?;
    let name = head.split_once(" (")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime and stime are fields 14 and 15 (man 5 proc).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

impl CpuTicks {
    fn now() -> Self {
        let mut ticks = Self::default();
        // The process's counters include threads that have ended; the client runtime's
        // threads live until the end of the run.
        if let Some((_, t)) = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .as_deref()
            .and_then(proc_stat)
        {
            ticks.process = t;
        }
        for task in std::fs::read_dir("/proc/self/task")
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Some((name, t)) = std::fs::read_to_string(task.path().join("stat"))
                .ok()
                .as_deref()
                .and_then(proc_stat)
                && name.starts_with(CLIENT_THREADS)
            {
                ticks.client += t;
            }
        }
        if let Some(cpu) = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| s.lines().next().map(str::to_owned))
        {
            // user nice system idle iowait irq softirq steal
            let values: Vec<u64> = cpu
                .split_whitespace()
                .skip(1)
                .take(8)
                .filter_map(|v| v.parse().ok())
                .collect();
            ticks.total = values.iter().sum();
            let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
            ticks.busy = ticks.total.saturating_sub(idle);
        }
        ticks
    }

    /// Shares of the machine since `earlier`, in % of all its cores: the benchmark's
    /// clients, the service, and everything else (PostgreSQL, mostly).
    fn since(self, earlier: Self) -> CpuShare {
        let total = self.total.saturating_sub(earlier.total).max(1) as f64;
        let client = self.client.saturating_sub(earlier.client) as f64;
        let process = self.process.saturating_sub(earlier.process) as f64;
        let busy = self.busy.saturating_sub(earlier.busy) as f64;
        CpuShare {
            client: 100.0 * client / total,
            service: 100.0 * (process - client).max(0.0) / total,
            other: 100.0 * (busy - process).max(0.0) / total,
        }
    }
}

#[derive(Clone, Copy, Default)]
struct CpuShare {
    client: f64,
    service: f64,
    other: f64,
}

impl std::fmt::Display for CpuShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.0} / {:.0} / {:.0}",
            self.client, self.service, self.other
        )
    }
}

struct Run {
    per_second: f64,
    cpu: CpuShare,
    latencies: Vec<Duration>,
    failures: usize,
}

impl Run {
    fn percentile(&mut self, p: f64) -> f64 {
        self.latencies.sort_unstable();
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies
            .get(index)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN)
    }
}

/// How client tasks issue operations.
#[derive(Clone, Copy)]
enum Load {
    /// Each task issues the next operation as soon as the last one answered.
    Closed,
    /// The tasks together offer this many operations per second on a fixed schedule,
    /// whatever the answers take; latency counts from each operation's scheduled start,
    /// so waiting for an earlier one counts too.
    Open(f64),
}

/// Runs `op(random)` from `tasks` tasks for `seconds`; `op` answers whether the
/// operation succeeded.
async fn drive<F, Fut>(clients: &Handle, tasks: usize, seconds: u64, load: Load, op: F) -> Run
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let cpu = CpuTicks::now();
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let op = op.clone();
            clients.spawn(async move {
                let mut rng = StdRng::seed_from_u64(task as u64);
                let mut latencies = Vec::new();
                let mut failures = 0;
                let interval = match load {
                    Load::Closed => None,
                    Load::Open(rate) => Some(Duration::from_secs_f64(tasks as f64 / rate)),
                };
                let mut due = start
                    + interval
                        .unwrap_or_default()
                        .mul_f64(task as f64 / tasks as f64);
                while latencies.len() < MAX_OPS_PER_TASK {
                    match interval {
                        Some(_) => tokio::time::sleep_until(due.into()).await,
                        None => due = Instant::now(),
                    }
                    if due >= end {
                        break;
                    }
                    let ok = tokio::time::timeout(OP_TIMEOUT, op(rng.random()))
                        .await
                        .unwrap_or(false);
                    latencies.push(due.elapsed());
                    failures += usize::from(!ok);
                    if let Some(interval) = interval {
                        due += interval;
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for handle in handles {
        let (l, f) = handle.await.expect("client task");
        latencies.extend(l);
        failures += f;
    }
    Run {
        per_second: latencies.len() as f64 / start.elapsed().as_secs_f64(),
        cpu: CpuTicks::now().since(cpu),
        latencies,
        failures,
    }
}

/// Fractions of the API's closed-loop rate offered in the open-loop phases.
const OPEN_LOADS: [f64; 2] = [0.5, 0.25];

/// One query both ways: closed loops, then open loops at fractions of the API's
/// closed-loop rate (the same rate for both paths).
struct Comparison {
    query: &'static str,
    closed: [Run; 2],
    open: Vec<(f64, [Run; 2])>,
}

async fn compare<S, SF, A, AF>(
    clients: &Handle,
    query: &'static str,
    seconds: u64,
    sql: S,
    api: A,
) -> Comparison
where
    S: Fn(u64) -> SF + Clone + Send + 'static,
    SF: std::future::Future<Output = bool> + Send,
    A: Fn(u64) -> AF + Clone + Send + 'static,
    AF: std::future::Future<Output = bool> + Send,
{
    // Warm up both paths (connections, caches); not measured.
    drive(clients, CLIENTS, 1, Load::Closed, sql.clone()).await;
    drive(clients, CLIENTS, 1, Load::Closed, api.clone()).await;
    let closed_sql = drive(clients, CLIENTS, seconds, Load::Closed, sql.clone()).await;
    let closed_api = drive(clients, CLIENTS, seconds, Load::Closed, api.clone()).await;
    let mut open = Vec::new();
    for fraction in OPEN_LOADS {
        let rate = closed_api.per_second * fraction;
        let open_sql = drive(clients, CLIENTS, seconds, Load::Open(rate), sql.clone()).await;
        let open_api = drive(clients, CLIENTS, seconds, Load::Open(rate), api.clone()).await;
        open.push((rate, [open_sql, open_api]));
    }
    Comparison {
        query,
        closed: [closed_sql, closed_api],
        open,
    }
}

fn print_runs(query: &str, load: &str, runs: &mut [Run; 2]) {
    let baseline_p99 = runs[0].percentile(0.99);
    for (path, run) in ["SQL directly (baseline)", "GraphQL over HTTP"]
        .into_iter()
        .zip(runs.iter_mut())
    {
        let (p50, p99, max) = (
            run.percentile(0.50),
            run.percentile(0.99),
            run.percentile(1.0),
        );
        println!(
            "| {query} | {load} | {path} | {:.0} | {p50:.2} | {p99:.2} | {max:.2} | {:.2} | {} | {} |",
            run.per_second,
            p99 / baseline_p99,
            run.failures,
            run.cpu,
        );
    }
}

/// One GraphQL request; succeeds on 200 without `errors`.
async fn post(client: &reqwest::Client, url: &str, auth: &str, body: String) -> bool {
    let Ok(response) = client
        .post(url)
        .header("authorization", auth)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
    else {
        return false;
    };
    let ok = response.status() == 200;
    match response.bytes().await {
        Ok(bytes) => ok && !bytes.windows(8).any(|w| w == b"\"errors\""),
        Err(_) => false,
    }
}

/// What the bots resolver runs, in the same order: the count and the page at the same
/// time, then the page's exchanges and strategies at the same time.
async fn bots_sql(pool: &PgPool) -> bool {
    use sqlx::Row;
    let (total, rows) = tokio::join!(
        sqlx::query_scalar::<_, i64>(BOTS_COUNT).fetch_one(pool),
        sqlx::query(BOTS_PAGE).bind(51_i64).fetch_all(pool),
    );
    let (Ok(_total), Ok(rows)) = (total, rows) else {
        return false;
    };
    let mut exchanges: Vec<Uuid> = rows.iter().map(|r| r.get("exchange_id")).collect();
    let mut strategies: Vec<Uuid> = rows.iter().map(|r| r.get("strategy_id")).collect();
    for ids in [&mut exchanges, &mut strategies] {
        ids.sort_unstable();
        ids.dedup();
    }
    let (e, s): (Result<Vec<PgRow>, _>, Result<Vec<PgRow>, _>) = tokio::join!(
        sqlx::query(EXCHANGES_BY_ID)
            .bind(&exchanges)
            .fetch_all(pool),
        sqlx::query(STRATEGIES_BY_ID)
            .bind(&strategies)
            .fetch_all(pool),
    );
    e.is_ok() && s.is_ok()
}

/// What the trades resolver runs: the count and the page at the same time.
async fn trades_sql(pool: &PgPool, bot: Uuid) -> bool {
    let (total, rows) = tokio::join!(
        sqlx::query_scalar::<_, i64>(TRADES_COUNT)
            .bind(bot)
            .fetch_one(pool),
        sqlx::query(TRADES_PAGE)
            .bind(bot)
            .bind(101_i64)
            .fetch_all(pool),
    );
    total.is_ok() && rows.is_ok()
}

/// A client for the one-off requests (login, checks), bounded like the rest.
fn setup_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(OP_TIMEOUT)
        .build()
        .expect("client")
}

/// Checks once, outside the timing, that both queries answer what they should.
async fn check_queries(client: &reqwest::Client, url: &str, auth: &str, bot: Uuid) {
    for (body, path, edges) in [
        (json!({ "query": BOTS_QUERY }), "bots", 50),
        (
            json!({ "query": TRADES_QUERY, "variables": { "bot": bot } }),
            "trades",
            100,
        ),
    ] {
        let response: serde_json::Value = client
            .post(url)
            .header("authorization", auth)
            .json(&body)
            .send()
            .await
            .expect("query")
            .json()
            .await
            .expect("query body");
        let connection = &response["data"][path];
        assert_eq!(connection["totalCount"], 1000, "{response}");
        assert_eq!(
            connection["edges"].as_array().map(Vec::len),
            Some(edges),
            "{response}"
        );
    }
}

/// A graphql-transport-ws message; `payload` is read only from `next` messages.
#[derive(Deserialize)]
struct WsMessage {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct NextMessage {
    payload: EventPayload,
}

#[derive(Deserialize)]
struct EventPayload {
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    events: Delivered,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delivered {
    position: i64,
    committed_at: DateTime<Utc>,
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Running,
    /// Stop once this many distinct events after the start position have arrived.
    Expect(usize),
    Stop,
}

#[derive(Default)]
struct Received {
    /// Commit-to-client latency of each first delivery of an event, in microseconds.
    latencies: Vec<u32>,
    /// Which positions after the start arrived, one bit each.
    seen: Vec<u64>,
    duplicates: usize,
    failed: Option<String>,
    /// When the last first delivery arrived.
    last_at: Option<Instant>,
}

impl Received {
    /// Marks `offset` seen; false when it was already.
    fn first_time(&mut self, offset: usize) -> bool {
        let (word, bit) = (offset / 64, 1u64 << (offset % 64));
        if self.seen.len() <= word {
            self.seen.resize(word + 1, 0);
        }
        let first = self.seen[word] & bit == 0;
        self.seen[word] |= bit;
        first
    }

    fn fail(mut self, why: impl Into<String>) -> Self {
        self.failed = Some(why.into());
        self
    }
}

/// Whom the subscribers connect to.
#[derive(Clone)]
enum Target {
    /// The service's `/graphql/ws`, signed in with `token`, subscribed to `SUBSCRIPTION`.
    Service {
        address: std::net::SocketAddr,
        token: String,
    },
    /// The minimal WebSocket server of the baseline, which needs no handshake.
    Baseline(std::net::SocketAddr),
}

/// Opens a socket and, on the service, authenticates in `connection_init` and
/// subscribes.
async fn subscribe(target: &Target, deadline: tokio::time::Instant) -> Result<Socket, String> {
    let (address, token) = match target {
        Target::Service { address, token } => (address, token),
        Target::Baseline(address) => {
            let connect = tokio_tungstenite::connect_async(format!("ws://{address}/ws"));
            return match tokio::time::timeout_at(deadline, connect).await {
                Ok(Ok((socket, _))) => Ok(socket),
                Ok(Err(e)) => Err(format!("connect: {e}")),
                Err(_) => Err("connect: timed out".into()),
            };
        }
    };
    let mut socket = graphql_socket(address, token, deadline).await?;
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .map_err(|e| format!("send subscribe: {e}"))?;
    Ok(socket)
}

/// One subscriber: subscribes, then records each event's delay after its commit until
/// told it has seen them all (or to stop).
async fn subscriber(
    target: Target,
    connecting: Arc<Semaphore>,
    after: i64,
    mut phase: watch::Receiver<Phase>,
    delivered: Arc<AtomicUsize>,
    deadline: tokio::time::Instant,
) -> Received {
    let received = Received::default();
    let permit = connecting.acquire_owned().await.expect("semaphore");
    let mut socket = match subscribe(&target, deadline).await {
        Ok(socket) => socket,
        Err(e) => return received.fail(e),
    };
    drop(permit);
    let mut received = received;
    loop {
        match *phase.borrow_and_update() {
            Phase::Stop => break,
            Phase::Expect(n) if received.latencies.len() >= n => break,
            _ => {}
        }
        let message = tokio::select! {
            message = socket.next() => message,
            _ = phase.changed() => continue,
            _ = tokio::time::sleep_until(deadline) => break,
        };
        let at = Utc::now();
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => return received.fail("closed by the server"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return received.fail(format!("read: {e}")),
        };
        let event = match serde_json::from_str::<NextMessage>(&text) {
            Ok(next) => next.payload.data.events,
            Err(_) => match serde_json::from_str::<WsMessage>(&text) {
                Ok(m) if matches!(m.kind.as_str(), "ping" | "pong" | "ka") => continue,
                _ => return received.fail(format!("unexpected message: {text}")),
            },
        };
        let Some(offset) = usize::try_from(event.position - after - 1).ok() else {
            continue; // from before the measurement
        };
        if !received.first_time(offset) {
            received.duplicates += 1;
            continue;
        }
        let micros = (at - event.committed_at).num_microseconds().unwrap_or(0);
        received
            .latencies
            .push(u32::try_from(micros.max(0)).unwrap_or(u32::MAX));
        received.last_at = Some(Instant::now());
        delivered.fetch_add(1, Ordering::Relaxed);
    }
    let _ = socket.close(None).await;
    received
}

struct Subscriptions {
    path: &'static str,
    subscribers: usize,
    offered: f64,
    achieved: f64,
    events: usize,
    command_failures: usize,
    first_command_error: Option<String>,
    deliveries: usize,
    /// Deliveries per second, from the first event sent to the last delivery.
    delivery_rate: f64,
    duplicates: usize,
    failed_subscribers: usize,
    first_failure: Option<String>,
    /// Events committed and delivered in each second from the first command on.
    timeline: Vec<(usize, usize)>,
    cpu: CpuShare,
    latencies: Vec<u32>,
}

/// The subscribers of one run, connected and recording.
struct Audience {
    tasks: Vec<tokio::task::JoinHandle<Received>>,
    phase: watch::Sender<Phase>,
    delivered: Arc<AtomicUsize>,
}

impl Audience {
    /// Connects `subscribers` clients to `target` and waits until `registered` (the
    /// server's count of them) has grown by that many.
    async fn connect(
        clients: &Handle,
        target: Target,
        subscribers: usize,
        after: i64,
        deadline: tokio::time::Instant,
        registered: impl Fn() -> usize,
    ) -> Self {
        let before = registered();
        let (phase, phase_rx) = watch::channel(Phase::Running);
        let connecting = Arc::new(Semaphore::new(64));
        let delivered = Arc::new(AtomicUsize::new(0));
        let tasks = (0..subscribers)
            .map(|_| {
                clients.spawn(subscriber(
                    target.clone(),
                    connecting.clone(),
                    after,
                    phase_rx.clone(),
                    delivered.clone(),
                    deadline,
                ))
            })
            .collect();
        let setup = Instant::now();
        while registered() < before + subscribers {
            assert!(
                setup.elapsed() < SETUP_LIMIT,
                "only {} of {subscribers} subscriptions registered",
                registered() - before,
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        println!(
            "{subscribers} subscriptions registered in {:.1} s",
            setup.elapsed().as_secs_f64()
        );
        Self {
            tasks,
            phase,
            delivered,
        }
    }

    /// Samples events sent and deliveries once a second from `start` while `sampling`.
    fn sample(
        &self,
        start: Instant,
        sent: Arc<AtomicUsize>,
        sampling: Arc<AtomicBool>,
    ) -> tokio::task::JoinHandle<Vec<(usize, usize)>> {
        let delivered = self.delivered.clone();
        let limit = SETUP_LIMIT + DRAIN_LIMIT + Duration::from_secs(600);
        tokio::spawn(async move {
            let mut timeline = Vec::new();
            let (mut c0, mut d0) = (0, 0);
            let mut tick = tokio::time::interval_at(
                (start + Duration::from_secs(1)).into(),
                Duration::from_secs(1),
            );
            while sampling.load(Ordering::Relaxed) && start.elapsed() < limit {
                tick.tick().await;
                let (c, d) = (
                    sent.load(Ordering::Relaxed),
                    delivered.load(Ordering::Relaxed),
                );
                timeline.push((c - c0, d - d0));
                (c0, d0) = (c, d);
            }
            timeline
        })
    }

    /// Tells the subscribers that `events` were sent and collects what they received,
    /// waiting at most `drain` for the last of them.
    async fn finish(self, events: usize, drain: Duration) -> Vec<Received> {
        self.phase.send_replace(Phase::Expect(events));
        let drain = tokio::time::Instant::now() + drain;
        let mut results = Vec::new();
        for mut task in self.tasks {
            let result = tokio::select! {
                result = &mut task => result,
                _ = tokio::time::sleep_until(drain) => {
                    self.phase.send_replace(Phase::Stop);
                    task.await
                }
            };
            results.push(result.expect("subscriber"));
        }
        results
    }
}

/// What was sent during a run: its rate, and how the sending went.
struct Sent {
    offered: f64,
    achieved: f64,
    events: usize,
    failures: usize,
    first_error: Option<String>,
}

/// One run's figures from what its subscribers received.
fn summarize(
    path: &'static str,
    sent: Sent,
    results: Vec<Received>,
    start: Instant,
    timeline: Vec<(usize, usize)>,
    cpu: CpuShare,
) -> Subscriptions {
    let subscribers = results.len();
    let mut latencies = Vec::with_capacity(sent.events * subscribers);
    let (mut duplicates, mut failed_subscribers, mut first_failure) = (0, 0, None);
    let mut last = start;
    for result in results {
        latencies.extend_from_slice(&result.latencies);
        duplicates += result.duplicates;
        last = last.max(result.last_at.unwrap_or(start));
        if let Some(failure) = result.failed {
            failed_subscribers += 1;
            first_failure.get_or_insert(failure);
        }
    }
    latencies.sort_unstable();
    let span = (last - start).as_secs_f64();
    Subscriptions {
        path,
        subscribers,
        offered: sent.offered,
        achieved: sent.achieved,
        events: sent.events,
        command_failures: sent.failures,
        first_command_error: sent.first_error,
        deliveries: latencies.len(),
        delivery_rate: if span > 0.0 {
            latencies.len() as f64 / span
        } else {
            0.0
        },
        duplicates,
        failed_subscribers,
        first_failure,
        timeline: trimmed(timeline),
        cpu,
        latencies,
    }
}

/// `timeline` without its idle tail.
fn trimmed(mut timeline: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    while timeline.last().is_some_and(|&(c, d)| c == 0 && d == 0) {
        timeline.pop();
    }
    timeline
}

/// `subscribers` subscriptions to exchange events while `WRITERS` writers update
/// exchanges through the command side at `rate` events per second, open loop.
#[allow(clippy::too_many_arguments)]
async fn subscriptions(
    clients: &Handle,
    commands: Arc<Commands>,
    hub: &Hub,
    pool: &PgPool,
    address: std::net::SocketAddr,
    token: &str,
    subscribers: usize,
    rate: f64,
    seconds: u64,
) -> Subscriptions {
    let metadata = CommandMetadata::issued_by("bench");
    // Each writer updates an exchange of its own, created through the command side.
    let mut exchanges = Vec::new();
    for _ in 0..WRITERS {
        let id = Uuid::now_v7();
        let create = ExchangeCommand::CreateExchange {
            exchange_id: id,
            name: "kraken".into(),
            test_mode: true,
            config: json!({ "ccxt_config": { "enableRateLimit": true } }),
            secrets: Vec::new(),
        };
        commands
            .exchanges
            .execute(&id, create, &metadata)
            .await
            .expect("create exchange");
        exchanges.push(id);
    }
    // Everything up to here is history, not part of the measurement.
    let after: i64 = sqlx::query_scalar("SELECT COALESCE(max(position), 0) FROM events")
        .fetch_one(pool)
        .await
        .expect("last position");
    let target = Target::Service {
        address,
        token: token.to_owned(),
    };
    let audience = Audience::connect(
        clients,
        target,
        subscribers,
        after,
        run_deadline(seconds),
        || hub.subscribers(),
    )
    .await;
    println!("AnyTrade: {rate:.0} events/s for {seconds} s");

    // Open loop: WRITERS writers, each at rate / WRITERS, on a fixed schedule.
    let interval = Duration::from_secs_f64(WRITERS as f64 / rate);
    let per_writer = (rate * seconds as f64 / WRITERS as f64).ceil() as usize;
    let committed = Arc::new(AtomicUsize::new(0));
    let cpu = CpuTicks::now();
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let writers: Vec<_> = exchanges
        .into_iter()
        .enumerate()
        .map(|(w, id)| {
            let (commands, metadata, committed) =
                (commands.clone(), metadata.clone(), committed.clone());
            tokio::spawn(async move {
                let (mut failed, mut first_error) = (0, None);
                let mut due = start + interval.mul_f64(w as f64 / WRITERS as f64);
                for revision in 0..per_writer {
                    // Nothing is issued after the phase, even when behind schedule.
                    if due >= end || Instant::now() >= end {
                        break;
                    }
                    tokio::time::sleep_until(due.into()).await;
                    let command = ExchangeCommand::UpdateExchange {
                        test_mode: None,
                        config: Some(json!({ "ccxt_config": { "enableRateLimit": true },
                                             "revision": revision })),
                    };
                    let execute = commands.exchanges.execute(&id, command, &metadata);
                    match tokio::time::timeout(OP_TIMEOUT, execute).await {
                        Ok(Ok(_)) => {
                            committed.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(Err(e)) => {
                            failed += 1;
                            first_error.get_or_insert_with(|| e.to_string());
                        }
                        Err(_) => {
                            failed += 1;
                            first_error.get_or_insert_with(|| "timed out".to_owned());
                        }
                    }
                    due += interval;
                }
                (failed, first_error)
            })
        })
        .collect();
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = audience.sample(start, committed.clone(), sampling.clone());
    let (mut failures, mut first_error) = (0, None);
    for writer in writers {
        let (failed, error) = writer.await.expect("writer");
        failures += failed;
        first_error = first_error.or(error);
    }
    let events = committed.load(Ordering::Relaxed);
    let sent = Sent {
        offered: rate,
        achieved: events as f64 / start.elapsed().as_secs_f64(),
        events,
        failures,
        first_error,
    };
    let results = audience.finish(events, DRAIN_LIMIT).await;
    let cpu = CpuTicks::now().since(cpu);
    sampling.store(false, Ordering::Relaxed);
    let timeline = sampler.await.expect("sampler");
    summarize("AnyTrade", sent, results, start, timeline, cpu)
}

/// The same number of clients, at the same rate, on the minimal WebSocket server of
/// `baseline` (served by the service's runtime, as AnyTrade is): one serialized frame
/// per event, the same bytes to every client.
async fn baseline_fanout(
    clients: &Handle,
    baseline: &Baseline,
    subscribers: usize,
    rate: f64,
    seconds: u64,
) -> Subscriptions {
    let target = Target::Baseline(baseline.address);
    let deadline = run_deadline(seconds);
    let audience = Audience::connect(clients, target, subscribers, 0, deadline, || {
        baseline.clients()
    })
    .await;
    println!("WebSocket baseline: {rate:.0} frames/s for {seconds} s");
    let sent = Arc::new(AtomicUsize::new(0));
    let cpu = CpuTicks::now();
    let start = Instant::now();
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = audience.sample(start, sent.clone(), sampling.clone());
    let total = (rate * seconds as f64) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for position in 1..=total {
        tick.tick().await;
        baseline.publish(position as i64);
        sent.fetch_add(1, Ordering::Relaxed);
    }
    let sent = Sent {
        offered: rate,
        achieved: total as f64 / start.elapsed().as_secs_f64(),
        events: total,
        failures: 0,
        first_error: None,
    };
    // A client that lagged lost frames for good: waiting longer brings nothing.
    let results = audience.finish(total, BASELINE_DRAIN).await;
    let cpu = CpuTicks::now().since(cpu);
    sampling.store(false, Ordering::Relaxed);
    let timeline = sampler.await.expect("sampler");
    summarize("WebSocket baseline", sent, results, start, timeline, cpu)
}

/// When a run's clients give up, whatever happens.
fn run_deadline(seconds: u64) -> tokio::time::Instant {
    tokio::time::Instant::now()
        + SETUP_LIMIT
        + Duration::from_secs(seconds)
        + DRAIN_LIMIT
        + Duration::from_secs(30)
}

/// The delay below which a fraction `p` of all expected deliveries arrived, in ms;
/// deliveries that never arrived count as later than any that did.
fn delivery_percentile(sorted: &[u32], expected: usize, p: f64) -> String {
    if expected == 0 {
        return "-".into();
    }
    let index = ((expected as f64 - 1.0) * p).round() as usize;
    match sorted.get(index) {
        Some(&us) => format!("{:.2}", f64::from(us) / 1000.0),
        None => format!("not delivered within {} s", DRAIN_LIMIT.as_secs()),
    }
}

fn print_subscriptions(runs: Vec<Subscriptions>) {
    println!(
        "\n| path | subscribers | events/s offered | events/s committed | delivered / expected | deliveries/s | share of baseline | p50 ms | p99 ms | max ms | CPU % client / service / other |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for s in &runs {
        let expected = s.events * s.subscribers;
        // AnyTrade against the baseline run with the same clients and rate; the run
        // with no subscribers against AnyTrade's, by events committed.
        let share = if s.subscribers == 0 {
            "-".to_owned()
        } else {
            runs.iter()
                .find(|b| {
                    b.path == "WebSocket baseline"
                        && b.subscribers == s.subscribers
                        && b.offered == s.offered
                })
                .filter(|b| b.delivery_rate > 0.0)
                .map(|b| format!("{:.2}", s.delivery_rate / b.delivery_rate))
                .unwrap_or_else(|| "-".into())
        };
        println!(
            "| {} | {} | {:.0} | {:.0} | {} / {} ({:.2} %) | {:.0} | {share} | {} | {} | {} | {} |",
            s.path,
            s.subscribers,
            s.offered,
            s.achieved,
            s.deliveries,
            expected,
            100.0 * s.deliveries as f64 / expected.max(1) as f64,
            s.delivery_rate,
            delivery_percentile(&s.latencies, expected, 0.50),
            delivery_percentile(&s.latencies, expected, 0.99),
            delivery_percentile(&s.latencies, expected, 1.0),
            s.cpu,
        );
    }
    for quiet in runs.iter().filter(|s| s.subscribers == 0) {
        for busy in runs
            .iter()
            .filter(|s| s.path == "AnyTrade" && s.subscribers > 0 && s.offered == quiet.offered)
        {
            println!(
                "\nCommands at {:.0} events/s offered: {:.0}/s committed with {} subscribers, {:.0}/s with none: {:.2} of the throughput without subscribers",
                quiet.offered,
                busy.achieved,
                busy.subscribers,
                quiet.achieved,
                busy.achieved / quiet.achieved.max(f64::MIN_POSITIVE),
            );
        }
    }
    for s in runs {
        println!(
            "\n{} with {} subscribers at {:.0} events/s: {} events committed, {} commands failed{}; {} duplicate deliveries; {} subscribers failed{}",
            s.path,
            s.subscribers,
            s.offered,
            s.events,
            s.command_failures,
            s.first_command_error
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default(),
            s.duplicates,
            s.failed_subscribers,
            s.first_failure
                .map(|f| format!(" (first: {f})"))
                .unwrap_or_default(),
        );
        let per_second = |pick: fn(&(usize, usize)) -> usize| {
            s.timeline
                .iter()
                .map(|t| pick(t).to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!(
            "  CPU % of the machine while writing and delivering (client / service / other): {}",
            s.cpu
        );
        println!("  committed per second: {}", per_second(|t| t.0));
        println!("  delivered per second: {}", per_second(|t| t.1));
    }
}

/// Seeds the read models, then measures both queries over HTTP and as plain SQL.
async fn queries(
    clients: &Handle,
    pool: &PgPool,
    database_url: &str,
    graphql: &Arc<String>,
    auth: &Arc<String>,
    seconds: u64,
) {
    let seeding = Instant::now();
    let bots = Arc::new(seed(pool).await);
    println!(
        "Seeded 1 exchange, 1 strategy, {BOTS} bots, {TRADES} trades in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    println!("{CLIENTS} clients\n");
    check_queries(&setup_client(), graphql, auth, bots[0]).await;
    // One client with a connection pool for all the client tasks.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .expect("client");
    // The baseline's own pool, as large as the service's, on the clients' runtime.
    let options = db::options_from_url(database_url).expect("database URL");
    let pool = clients
        .spawn(async move { db::connect(options, SERVICE_POOL).await })
        .await
        .expect("connect task")
        .expect("baseline pool");

    let bots_body = Arc::new(json!({ "query": BOTS_QUERY }).to_string());
    let trades_bodies: Arc<Vec<String>> = Arc::new(
        bots.iter()
            .map(|bot| json!({ "query": TRADES_QUERY, "variables": { "bot": bot } }).to_string())
            .collect(),
    );

    let (c, g, a, b) = (client.clone(), graphql.clone(), auth.clone(), bots_body);
    let bots_api = move |_| {
        let (c, g, a, b) = (c.clone(), g.clone(), a.clone(), b.clone());
        async move { post(&c, &g, &a, b.as_str().to_owned()).await }
    };
    let p = pool.clone();
    let bots_sql = move |_| {
        let p = p.clone();
        async move { bots_sql(&p).await }
    };
    let (c, g, a, b) = (client.clone(), graphql.clone(), auth.clone(), trades_bodies);
    let trades_api = move |r: u64| {
        let (c, g, a, b) = (c.clone(), g.clone(), a.clone(), b.clone());
        async move {
            let body = b[r as usize % b.len()].clone();
            post(&c, &g, &a, body).await
        }
    };
    let (p, ids) = (pool.clone(), bots.clone());
    let trades_sql = move |r: u64| {
        let (p, ids) = (p.clone(), ids.clone());
        async move { trades_sql(&p, ids[r as usize % ids.len()]).await }
    };
    let mut comparisons = [
        compare(clients, "bots(first: 50)", seconds, bots_sql, bots_api).await,
        compare(
            clients,
            "trades(botId, first: 100)",
            seconds,
            trades_sql,
            trades_api,
        )
        .await,
    ];
    println!(
        "| query | load | path | per second | p50 ms | p99 ms | max ms | p99 ratio to SQL | failed | CPU % client / service / other |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for c in &mut comparisons {
        print_runs(c.query, "closed loop", &mut c.closed);
    }
    for c in &mut comparisons {
        for (rate, runs) in &mut c.open {
            print_runs(c.query, &format!("open loop, {rate:.0}/s"), runs);
        }
    }
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (use scripts/bench)");
    // `cargo test` runs this too (without `--bench`): then a short smoke run.
    let full = std::env::args().any(|arg| arg == "--bench");
    let seconds: u64 = env("BENCH_SECONDS", if full { 10 } else { 2 });
    let subscribers: usize = env("BENCH_SUBSCRIBERS", if full { 1000 } else { 100 });
    let parts: String = env("BENCH_PARTS", "queries,subscriptions".to_owned());
    let rates: Vec<f64> = std::env::var("BENCH_EVENT_RATE")
        .unwrap_or_else(|_| "1000".into())
        .split(',')
        .map(|r| {
            r.trim()
                .parse()
                .expect("BENCH_EVENT_RATE: events per second, comma-separated")
        })
        .collect();
    assert!(
        subscribers > 0 && rates.iter().all(|&r| r > 0.0),
        "BENCH_EVENT_RATE and BENCH_SUBSCRIBERS must be positive"
    );
    let (database_url, database) = fresh_database_url(&url).await;
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        database_url: Some(Redacted::from(database_url.clone())),
        encryption_key: Some(Redacted::from(Keyring::generate_key())),
        admin_password: Some(Redacted::from(ADMIN_PASSWORD.to_owned())),
        ..Settings::default()
    };
    // The seeded bots have read-model rows only: nothing for a runtime to do.
    settings.runtime.manage = false;
    settings.monitor.enabled = false;
    let app = Application::build(&settings).await.expect("service builds");
    let address = app.local_addr().expect("bound");
    let pool = app.pool().clone();
    let (commands, hub) = (app.commands().clone(), app.hub().clone());

    let settings: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, setting FROM pg_settings WHERE name IN
         ('fsync', 'synchronous_commit', 'server_version', 'shared_buffers')",
    )
    .fetch_all(&pool)
    .await
    .expect("settings");
    println!("PostgreSQL: {settings:?}; {seconds} s per phase\n");

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    // The clients run on a runtime of their own, so that their CPU time shows apart
    // from the service's; both share the machine's cores.
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(CLIENT_THREADS)
        .enable_all()
        .build()
        .expect("client runtime");
    let clients = client_runtime.handle().clone();
    let base = format!("http://{address}");
    let graphql = Arc::new(format!("{base}/graphql"));
    let token = login(&setup_client(), &base, "admin", ADMIN_PASSWORD).await;
    let auth = Arc::new(format!("Bearer {token}"));
    if parts.contains("queries") {
        queries(&clients, &pool, &database_url, &graphql, &auth, seconds).await;
    }

    let mut runs = Vec::new();
    if parts.contains("subscriptions") {
        // Served by the service's runtime, as AnyTrade's subscriptions are.
        let baseline = Baseline::start().await;
        for &rate in &rates {
            println!();
            runs.push(baseline_fanout(&clients, &baseline, subscribers, rate, seconds).await);
            for audience in [0, subscribers] {
                println!();
                let run = subscriptions(
                    &clients,
                    commands.clone(),
                    &hub,
                    &pool,
                    address,
                    &token,
                    audience,
                    rate,
                    seconds,
                )
                .await;
                runs.push(run);
            }
        }
    }
    if !runs.is_empty() {
        print_subscriptions(runs);
    }

    let _ = stop.send(());
    match tokio::time::timeout(Duration::from_secs(30), server).await {
        Ok(served) => served.expect("server task").expect("server"),
        Err(_) => println!("(the service did not stop within 30 s)"),
    }
    client_runtime.shutdown_background();
    drop_database(&url, &database).await;
}
