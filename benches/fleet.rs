//! Fleet benchmark: the control plane's health monitor and trade sync against a fleet
//! of simulated freqtrade bots (`anytrade-fleet-sim`, a separate process, so this
//! process is the control plane alone) at the default intervals.
//!
//! Reports, for an idle baseline (the same service with no bots, same run) and for the
//! fleet: the control plane's CPU (share of one core) and peak RSS, and for the fleet
//! the sync lag (an event's commit time minus freqtrade's open or close time of the
//! trade) and the HTTP requests each bot received per minute.
//!
//! With `BENCH_REAL_BOTS=N` it then does the same with N real freqtrade dry-run bots on
//! the local runtime, trading on the exchange simulator (their processes are children,
//! so their CPU is not the control plane's).
//!
//! Settings: `BENCH_BOTS` (1000), `BENCH_SECONDS` (600), `BENCH_IDLE_SECONDS` (60),
//! `BENCH_REAL_BOTS` (0), `BENCH_REAL_SECONDS` (as `BENCH_SECONDS`), `ANYTRADE_FLEET_SIM` (the simulator binary; `scripts/bench`
//! builds it).

mod common;
#[path = "../tests/support/fleet_bots.rs"]
mod fleet_bots;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anytrade::app::Application;
use anytrade::config::{Redacted, Settings};
use anytrade::crypto::Keyring;
use anytrade::store::CommandMetadata;
use anytrade_aggregates::values::BotId;
use anytrade_aggregates::{BotCommand, BotConfigInput, ExchangeCommand, StrategyCommand};
use common::{drop_database, env, fresh_database_url};
use fleet_bots::SimulatedBots;
use serde_json::{Value, json};
use uuid::Uuid;

const PASSWORD: &str = "fleet-api-password";
const STRATEGY: &str =
    "from freqtrade.strategy import IStrategy\n\nclass Fleet(IStrategy):\n    pass\n";
/// Linux's USER_HZ: the unit of the CPU times in `/proc/self/stat`.
const TICKS_PER_SECOND: f64 = 100.0;

/// This process's CPU time so far, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let (_, rest) = stat.rsplit_once(')').expect("stat format");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15; `rest` starts at field 3.
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    ticks as f64 / TICKS_PER_SECOND
}

/// Peak resident memory of this process, in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib / 1024.0
}

/// CPU share of one core while `wait` runs.
async fn cpu_share(wait: impl std::future::Future<Output = ()>) -> f64 {
    let (cpu, wall) = (cpu_seconds(), Instant::now());
    wait.await;
    (cpu_seconds() - cpu) / wall.elapsed().as_secs_f64()
}

/// The fleet simulator process, ended with the benchmark (also when it panics).
struct Fleet(std::process::Child);

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the fleet simulator; returns it and its base URL.
fn start_fleet(bots: usize) -> (Fleet, String) {
    // Beside this binary's directory when cargo built the whole workspace.
    let binary = std::env::var_os("ANYTRADE_FLEET_SIM")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.join("anytrade-fleet-sim"))
        })
        .filter(|path| path.exists())
        .expect("ANYTRADE_FLEET_SIM: the anytrade-fleet-sim binary (scripts/bench builds it)");
    let mut child = Command::new(binary)
        .args(["--listen", "127.0.0.1:0", "--bots", &bots.to_string()])
        .args(["--username", "anytrade", "--password", PASSWORD])
        .args(["--trade-period-secs", "90", "--hold-secs", "45"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the fleet simulator");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the simulator's address");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("`listening on URL`")
        .to_owned();
    (Fleet(child), base)
}

async fn fleet_requests(base: &str) -> u64 {
    let stats: Value = reqwest::get(format!("{base}/stats"))
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats body");
    stats["requests_total"].as_u64().expect("requests_total")
}

/// A Binance exchange with `config` and a strategy of `code`, both created through the
/// command side and visible in the read models (creating a bot looks them up there).
async fn exchange_and_strategy(
    app: &Application,
    config: Value,
    name: &str,
    code: &str,
) -> (Uuid, Uuid) {
    let commands = app.commands();
    let meta = CommandMetadata::issued_by("bench:fleet");
    let (exchange, strategy) = (Uuid::new_v4(), Uuid::new_v4());
    commands
        .exchanges
        .execute(
            &exchange,
            ExchangeCommand::CreateExchange {
                exchange_id: exchange,
                name: "binance".into(),
                test_mode: true,
                config,
                secrets: Vec::new(),
            },
            &meta,
        )
        .await
        .expect("exchange");
    let position = commands
        .strategies
        .execute(
            &strategy,
            StrategyCommand::CreateStrategy {
                strategy_id: strategy,
                name: name.into(),
                description: String::new(),
                code: code.into(),
            },
            &meta,
        )
        .await
        .expect("strategy")
        .expect("position");
    let shown = app
        .projections()
        .wait_for(position, Duration::from_secs(30));
    assert!(
        shown.await,
        "the read models show the exchange and strategy"
    );
    (exchange, strategy)
}

/// Creates `bots` running bots whose APIs are the simulator's, through the command side
/// (their aggregates exist, so health transitions can be recorded), with their API
/// credentials.
async fn seed(app: &Application, keys: &Keyring, base: &str, bots: usize) {
    let (exchange, strategy) = exchange_and_strategy(app, json!({}), "fleet", STRATEGY).await;
    let fleet = SimulatedBots {
        base,
        password: PASSWORD,
        exchange,
        strategy,
    };
    fleet.record(app.commands(), app.pool(), keys, bots).await;
}

/// p50 and p99 of `lag` (seconds) over the events `event_type`, from `time_path` in
/// their payload.
async fn lag(pool: &sqlx::PgPool, event_type: &str, time_path: &str) -> (i64, f64, f64) {
    let row: (i64, Option<f64>, Option<f64>) = sqlx::query_as(&format!(
        "SELECT count(*),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),
                percentile_cont(0.99) WITHIN GROUP (ORDER BY lag)
           FROM (SELECT extract(epoch FROM pg_xact_commit_timestamp(transaction_id::xid)
                          - (payload #>> '{time_path}')::timestamptz) AS lag
                   FROM events WHERE event_type = $1) l"
    ))
    .bind(event_type)
    .fetch_one(pool)
    .await
    .expect("lag");
    (row.0, row.1.unwrap_or(0.0), row.2.unwrap_or(0.0))
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (use scripts/bench)");
    // `cargo test` runs this too (without `--bench`): then a short smoke run.
    let full = std::env::args().any(|arg| arg == "--bench");
    let bots: usize = env("BENCH_BOTS", if full { 1000 } else { 20 });
    let seconds: u64 = env("BENCH_SECONDS", if full { 600 } else { 5 });
    let idle_seconds: u64 = env("BENCH_IDLE_SECONDS", if full { 60 } else { 1 });
    let (fleet, base) = start_fleet(bots);
    let (database_url, database) = fresh_database_url(&url).await;
    let key = Keyring::generate_key();
    let keys = Keyring::from_base64(Some(&key), &[]).expect("key");
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        database_url: Some(Redacted::from(database_url)),
        encryption_key: Some(Redacted::from(key)),
        admin_password: Some(Redacted::from("fleet-admin-password".to_owned())),
        ..Settings::default()
    };
    // The bots are the simulator's: no runtime runs them, only the monitors poll.
    settings.runtime.manage = false;
    let defaults = settings.monitor.clone();
    let app = Application::build(&settings).await.expect("service builds");
    let pool = app.pool().clone();
    let idle = cpu_share(tokio::time::sleep(Duration::from_secs(idle_seconds))).await;
    let idle_rss = peak_rss_mib();

    let seeding = Instant::now();
    seed(&app, &keys, &base, bots).await;
    println!(
        "Seeded {bots} running bots in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let requests_before = fleet_requests(&base).await;
    let busy = cpu_share(tokio::time::sleep(Duration::from_secs(seconds))).await;
    let requests = fleet_requests(&base).await - requests_before;
    let rss = peak_rss_mib();

    let per_bot_minute = requests as f64 / bots as f64 / (seconds as f64 / 60.0);
    println!();
    println!(
        "Intervals: health {} s, trade sync {} s; {bots} simulated bots for {seconds} s (idle baseline {idle_seconds} s)",
        defaults.health_interval_secs, defaults.trade_sync_interval_secs
    );
    println!();
    println!("| phase | CPU, share of one core | peak RSS MiB |");
    println!("|---|---|---|");
    println!(
        "| idle, no bots (baseline) | {:.1} % | {idle_rss:.0} |",
        idle * 100.0
    );
    println!(
        "| {bots} simulated bots | **{:.1} %** | **{rss:.0}** |",
        busy * 100.0
    );
    report_lag(&pool, defaults.trade_sync_interval_secs).await;
    println!("HTTP requests per bot per minute: {per_bot_minute:.2} ({requests} in all)");
    let _ = stop.send(());
    let _ = service.await;
    drop(fleet);
    drop_database(&url, &database).await;

    let real: usize = env("BENCH_REAL_BOTS", 0);
    if real > 0 {
        real_bots(&url, real, env("BENCH_REAL_SECONDS", seconds)).await;
    }
}

/// Lag of recorded openings and closings, and the bots that failed.
async fn report_lag(pool: &sqlx::PgPool, interval_secs: u64) {
    let opened = lag(pool, "TradeOpened", "{TradeOpened,opening,open_date}").await;
    let closed = lag(pool, "TradeClosed", "{TradeClosed,closing,close_date}").await;
    let failed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'BotFailed'")
            .fetch_one(pool)
            .await
            .expect("failures");
    println!();
    println!("| recorded | events | lag p50 s | lag p99 s | p99 in sync intervals |");
    println!("|---|---|---|---|---|");
    for (what, (count, p50, p99)) in [("trade opened", opened), ("trade closed", closed)] {
        println!(
            "| {what} | {count} | {p50:.1} | {p99:.1} | **{:.2}** |",
            p99 / interval_secs as f64
        );
    }
    println!();
    println!("Bots reported failed: {failed}");
}

const ALWAYS_ENTER: &str = "from freqtrade.strategy import IStrategy\n\n\nclass AlwaysEnter(IStrategy):\n    INTERFACE_VERSION = 3\n    timeframe = \"1m\"\n    minimal_roi = {\"0\": 0.001}\n    stoploss = -0.10\n\n    def populate_indicators(self, dataframe, metadata):\n        return dataframe\n\n    def populate_entry_trend(self, dataframe, metadata):\n        dataframe[\"enter_long\"] = 1\n        return dataframe\n\n    def populate_exit_trend(self, dataframe, metadata):\n        dataframe[\"exit_long\"] = 0\n        return dataframe\n";

/// `count` real freqtrade dry-run bots on the local runtime, trading on the exchange
/// simulator, for `seconds`.
async fn real_bots(url: &str, count: usize, seconds: u64) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let exchange_api = format!("http://{}/api/v3", listener.local_addr().expect("address"));
    tokio::spawn(anytrade_exchange_sim::serve(
        listener,
        anytrade_exchange_sim::SimConfig::default(),
        std::future::pending(),
    ));
    let (database_url, database) = fresh_database_url(url).await;
    let data = std::env::temp_dir().join(format!("anytrade-bench-{}", Uuid::new_v4().simple()));
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        database_url: Some(Redacted::from(database_url)),
        encryption_key: Some(Redacted::from(Keyring::generate_key())),
        admin_password: Some(Redacted::from("fleet-admin-password".to_owned())),
        data_dir: data.clone(),
        ..Settings::default()
    };
    settings.runtime.default = anytrade::config::RuntimeChoice::Local;
    settings.runtime.local.freqtrade_path =
        Some(std::path::Path::new(&home).join(".cache/anytrade/freqtrade"));
    let interval = settings.monitor.trade_sync_interval_secs;
    let app = Application::build(&settings).await.expect("service builds");
    let pool = app.pool().clone();
    let commands = app.commands().clone();
    let meta = CommandMetadata::issued_by("bench:fleet");
    let ccxt = json!({ "urls": { "api": { "public": exchange_api } },
                       "options": { "fetchMarkets": { "types": ["spot"] } } });
    let config = json!({ "enable_ws": false, "only_from_ccxt": true,
                         "ccxt_config": ccxt, "ccxt_async_config": ccxt });
    let (exchange, strategy) =
        exchange_and_strategy(&app, config, "always enter", ALWAYS_ENTER).await;
    let mut ids = Vec::new();
    for n in 0..count {
        let id = BotId::new();
        let create = BotCommand::CreateBot {
            bot_id: id,
            name: format!("real-{n}"),
            exchange_id: exchange,
            strategy_id: strategy,
            mode: "dry_run".into(),
            runtime: None,
            config: BotConfigInput {
                pairs: Some(vec!["BTC/USDT".into(), "ETH/USDT".into()]),
                stake_amount: Some("50".into()),
                extra: Some(json!({ "entry_pricing": { "price_side": "other" },
                                    "exit_pricing": { "price_side": "other" } })),
                ..Default::default()
            },
            resources: Default::default(),
            freqtrade_version: None,
        };
        commands
            .bots
            .execute(&id, create, &meta)
            .await
            .expect("bot");
        ids.push(id);
    }
    let all_in = |status: &'static str| {
        let pool = pool.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(900);
            loop {
                let n: i64 = sqlx::query_scalar("SELECT count(*) FROM bots WHERE status = $1")
                    .bind(status)
                    .fetch_one(&pool)
                    .await
                    .expect("count");
                if n as usize == count {
                    return;
                }
                assert!(Instant::now() < deadline, "bots not {status}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    };
    all_in("stopped").await;
    let starting = Instant::now();
    for id in &ids {
        commands
            .bots
            .execute(id, BotCommand::StartBot, &meta)
            .await
            .expect("start");
    }
    all_in("running").await;
    println!();
    println!(
        "{count} real freqtrade bots running {:.1} s after their start requests",
        starting.elapsed().as_secs_f64()
    );
    let busy = cpu_share(tokio::time::sleep(Duration::from_secs(seconds))).await;
    let rss = peak_rss_mib();
    println!();
    println!("| phase | CPU, share of one core | peak RSS MiB |");
    println!("|---|---|---|");
    println!(
        "| {count} real bots, {seconds} s | **{:.1} %** | **{rss:.0}** |",
        busy * 100.0
    );
    report_lag(&pool, interval).await;
    for id in &ids {
        commands
            .bots
            .execute(id, BotCommand::DeleteBot, &meta)
            .await
            .expect("delete");
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM bots")
            .fetch_one(&pool)
            .await
            .expect("count");
        if left == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(app);
    let _ = std::fs::remove_dir_all(&data);
    drop_database(url, &database).await;
}
