//! Dashboard benchmark, two parts.
//!
//! The server's time to render the fleet page for a big fleet, against two floors
//! measured in the same run: an HTTP round trip that does nothing (`GET /healthz`), and
//! the page's own reads straight from the pool (the four queries, no rendering, no
//! HTTP). Target: the page with 1,000 bots in at most 200 ms.
//!
//! Live updates: one open page's WebSocket (the two subscriptions the fleet page opens,
//! with its selections) while bots change status through the command side at
//! `BENCH_RATE` a second on a fixed schedule; each change's time from issuing the
//! command to its frame reaching the page, against the command's own time (the floor).
//! Target: 100 changes a second reach the page without it falling behind.
//!
//! Settings: `BENCH_BOTS` (1000), `BENCH_REQUESTS` (100), `BENCH_TRADES` (1,000,000,
//! spread over the bots; the last three of each open), `BENCH_RATE` (100),
//! `BENCH_SECONDS` (30). Under `cargo test` (no `--bench` argument) a smoke run: 50 bots,
//! 1,000 trades, 10 requests, 2 seconds of 25 changes a second.

mod common;
#[path = "web/live.rs"]
mod live;

use std::time::{Duration, Instant};

use anytrade::app::Application;
use anytrade::config::{Redacted, Settings};
use anytrade::crypto::Keyring;
use anytrade::store::CommandMetadata;
use anytrade_aggregates::testing::create_dry_run_bot;
use anytrade_aggregates::values::BotId;
use anytrade_aggregates::{ExchangeCommand, StrategyCommand};
use common::{
    SEED_TRADE_TOTALS, SEED_TRADES, drop_database, env, fresh_database_url, login, milliseconds,
};
use uuid::Uuid;

const PASSWORD: &str = "web-bench-admin-password";
const STRATEGY: &str =
    "from freqtrade.strategy import IStrategy\n\nclass Fleet(IStrategy):\n    pass\n";

/// p50, p95 and max of `samples`.
fn quantiles(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let at = |q: f64| milliseconds(samples[((samples.len() - 1) as f64 * q).round() as usize]);
    (at(0.5), at(0.95), at(1.0))
}

async fn timed<F, Fut>(times: usize, mut run: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(times);
    for _ in 0..times {
        let started = Instant::now();
        run().await;
        samples.push(started.elapsed());
    }
    samples
}

#[tokio::main]
async fn main() {
    // `cargo test` runs this too (without `--bench`): then a short smoke run.
    let full = std::env::args().any(|arg| arg == "--bench");
    let bots: usize = env("BENCH_BOTS", if full { 1000 } else { 50 });
    let requests: usize = env("BENCH_REQUESTS", if full { 100 } else { 10 });
    let trades: i64 = env("BENCH_TRADES", if full { 1_000_000 } else { 1_000 });
    let admin_url = std::env::var("DATABASE_URL").expect("DATABASE_URL (scripts/bench sets it)");
    let (url, name) = fresh_database_url(&admin_url).await;
    let settings = Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        database_url: Some(Redacted::from(url)),
        encryption_key: Some(Redacted::from(Keyring::generate_key())),
        admin_password: Some(Redacted::from(PASSWORD.to_owned())),
        runtime: anytrade::config::RuntimeSettings {
            manage: false,
            ..Default::default()
        },
        monitor: anytrade::config::MonitorSettings {
            enabled: false,
            ..Default::default()
        },
        ..Settings::default()
    };
    let app = Application::build(&settings).await.expect("service builds");
    let base = format!("http://{}", app.local_addr().expect("bound"));
    let pool = app.pool().clone();
    let commands = app.commands().clone();
    let projections = app.projections().clone();
    let hub = app.hub().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));

    // The fleet, through the real command path.
    let meta = CommandMetadata::issued_by("bench:web");
    let (exchange, strategy) = (Uuid::now_v7(), Uuid::now_v7());
    let create_exchange = ExchangeCommand::CreateExchange {
        exchange_id: exchange,
        name: "binance".into(),
        test_mode: true,
        config: serde_json::json!({}),
        secrets: Vec::new(),
    };
    commands
        .exchanges
        .execute(&exchange, create_exchange, &meta)
        .await
        .expect("exchange");
    let create_strategy = StrategyCommand::CreateStrategy {
        strategy_id: strategy,
        name: "fleet".into(),
        description: String::new(),
        code: STRATEGY.into(),
    };
    let written = commands
        .strategies
        .execute(&strategy, create_strategy, &meta)
        .await
        .expect("strategy");
    // Bots are checked against the read models: let them see both first.
    if let Some(position) = written {
        assert!(
            projections
                .wait_for(position, Duration::from_secs(30))
                .await,
            "the read models catch up"
        );
    }
    let seeding = Instant::now();
    for n in 0..bots {
        let id = BotId::new();
        let create =
            create_dry_run_bot(id, format!("bot-{n:04}"), exchange, strategy, &["BTC/USDT"]);
        commands
            .bots
            .execute(&id, create, &meta)
            .await
            .expect("create bot");
    }
    loop {
        let listed = anytrade_projections::bots::all(&pool).await.expect("bots");
        if listed.len() >= bots {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seeded = Instant::now();
    sqlx::query(SEED_TRADES)
        .bind(trades)
        .bind(bots as i64)
        .execute(&pool)
        .await
        .expect("seed trades");
    sqlx::query(SEED_TRADE_TOTALS)
        .execute(&pool)
        .await
        .expect("seed trade totals");
    sqlx::query("ANALYZE trades, bot_trade_totals")
        .execute(&pool)
        .await
        .expect("analyze");
    println!(
        "{bots} bots created through the command bus and projected in {:.1} s; \
         {trades} trades seeded in {:.1} s\n",
        seeding.elapsed().as_secs_f64() - seeded.elapsed().as_secs_f64(),
        seeded.elapsed().as_secs_f64()
    );

    let client = reqwest::Client::new();
    let token = login(&client, &base, "admin", PASSWORD).await;
    let page = || {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        async move {
            let response = client
                .get(format!("{base}/ui/fleet"))
                .bearer_auth(token)
                .send()
                .await
                .expect("GET /ui/fleet");
            assert_eq!(response.status(), 200);
            response.bytes().await.expect("body").len()
        }
    };
    let size = page().await;
    let rows = String::from_utf8_lossy(
        &client
            .get(format!("{base}/ui/fleet"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET")
            .bytes()
            .await
            .expect("body"),
    )
    .matches("<tr id=\"bot-")
    .count();
    assert_eq!(rows, bots, "every bot is on the page");

    let healthz = timed(requests, || {
        let (client, base) = (client.clone(), base.clone());
        async move {
            client
                .get(format!("{base}/healthz"))
                .send()
                .await
                .expect("GET /healthz")
                .bytes()
                .await
                .expect("body");
        }
    })
    .await;
    let reads = timed(requests, || {
        let pool = pool.clone();
        async move {
            let all = anytrade_projections::bots::all(&pool).await.expect("bots");
            let ids: Vec<BotId> = all.iter().map(|b| b.id).collect();
            anytrade_projections::bot_health::by_bots(&pool, &ids)
                .await
                .expect("health");
            anytrade_projections::trades::by_bot(&pool, None)
                .await
                .expect("trades");
            anytrade_projections::strategies::names(&pool)
                .await
                .expect("names");
        }
    })
    .await;
    let fleet = timed(requests, || {
        let page = page();
        async move {
            page.await;
        }
    })
    .await;

    let (h50, h95, hmax) = quantiles(healthz);
    let (r50, r95, rmax) = quantiles(reads);
    let (f50, f95, fmax) = quantiles(fleet);
    println!("| request ({requests} each, one at a time) | p50 ms | p95 ms | max ms |");
    println!("|---|---|---|---|");
    println!("| GET /healthz (HTTP floor) | {h50:.2} | {h95:.2} | {hmax:.2} |");
    println!(
        "| the page's four reads, straight from the pool (database floor) | {r50:.2} | {r95:.2} | {rmax:.2} |"
    );
    println!("| GET /ui/fleet, {bots} bots ({size} bytes) | {f50:.2} | {f95:.2} | {fmax:.2} |");
    println!();
    println!(
        "fleet page: p50 {:.1} × the database floor, {:.1} ms above the two floors \
         (rendering and sending); target p95 ≤ 200 ms: {}",
        f50 / r50,
        f50 - r50 - h50,
        if f95 <= 200.0 { "met" } else { "MISSED" }
    );

    let ids: Vec<BotId> = anytrade_projections::bots::all(&pool)
        .await
        .expect("bots")
        .iter()
        .map(|b| b.id)
        .collect();
    // The smoke run changes each of its 50 bots every 2 s, so a slow command in the
    // open loop rarely overtakes the bot's previous one.
    let rate: f64 = env("BENCH_RATE", if full { 100.0 } else { 25.0 });
    let seconds: u64 = env("BENCH_SECONDS", if full { 30 } else { 2 });
    live::run(&commands, &hub, &base, &token, &ids, rate, seconds).await;

    let _ = stop.send(());
    server.await.expect("server task").expect("clean stop");
    drop_database(&admin_url, &name).await;
}
