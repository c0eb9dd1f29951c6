//! Chaos soaks: the real `anytrade` binary (release) SIGKILLed at random moments and
//! started again on the same database.
//!
//! 1. Crash under load: clients send commands (creates, updates, bot start/stop); the
//!    log is then held against what they were told (`tests/support/crash_load.rs`).
//! 2. Side effects under kills: the service manages bots on the local runtime (a
//!    stand-in freqtrade that starts in milliseconds) under random start, stop, restart
//!    and delete commands; then every bot must settle with exactly the processes its
//!    state calls for (`tests/support/side_effects.rs`).
//! 3. The same on the docker runtime, smaller: a stand-in image (the freqtrade image
//!    with the stand-in in freqtrade's place), and running containers counted.
//! 4. Docker engine restarts: the engine stopped and started under a fleet of
//!    stand-in bots; each time every bot must come back by itself, with the outage
//!    recorded on it (`tests/support/engine_restarts.rs`).
//!
//! Exits non-zero when any finds a fault. Run with `scripts/bench chaos`. Settings:
//! `BENCH_KILLS` (25), `BENCH_CLIENTS` (8), `BENCH_SERVE_MS` (the longest a start serves
//! before its kill: 3000; the shortest is a tenth of it) for the first;
//! `BENCH_BOT_KILLS` (30), `BENCH_BOTS` (20), `BENCH_COMMANDS` (1000) for the second;
//! `BENCH_DOCKER_KILLS` (10), `BENCH_DOCKER_BOTS` (5), `BENCH_DOCKER_COMMANDS` (200) for
//! the third; `BENCH_ENGINE_RESTARTS` (5), `BENCH_ENGINE_BOTS` (10),
//! `BENCH_RECONCILE_SECS` (5) for the fourth. `BENCH_NO_DOCKER=1` leaves out the third
//! and fourth (they need the engine, root to restart it, and the freqtrade image).
//! Under `cargo test` (no `--bench` argument) a smoke run of the first two: 1 kill (the
//! docker parts have their short forms in the integration tests).

use std::time::Duration;

mod common;
#[path = "../tests/support/crash_load.rs"]
mod crash_load;
#[path = "../tests/support/docker_engine.rs"]
mod docker_engine;
#[path = "../tests/support/engine_restarts.rs"]
mod engine_restarts;
#[path = "../tests/support/read_models.rs"]
mod read_models;
#[path = "../tests/support/side_effects.rs"]
mod side_effects;

use common::{drop_database, env, fresh_database_url, milliseconds};
use crash_load::{Plan, Report};

fn print(plan: &Plan, report: &Report) {
    let mut restarts: Vec<f64> = report.restarts.iter().copied().map(milliseconds).collect();
    let first = restarts.remove(0);
    restarts.sort_by(f64::total_cmp);
    let median = restarts
        .get(restarts.len() / 2)
        .copied()
        .unwrap_or(f64::NAN);
    let worst = restarts.last().copied().unwrap_or(f64::NAN);
    println!();
    println!(
        "{} clients, {} kills, each start serving {:.1}–{:.1} s",
        plan.clients,
        report.kills,
        plan.serve_for.start.as_secs_f64(),
        plan.serve_for.end.as_secs_f64()
    );
    println!();
    println!("| figure | value |");
    println!("|---|---|");
    println!("| SIGKILLs survived | {} |", report.kills);
    println!("| commands acknowledged | {} |", report.acknowledged);
    println!("| acknowledged commands lost | **{}** |", report.lost.len());
    println!(
        "| commands in the log twice | **{}** |",
        report.duplicated.len()
    );
    println!(
        "| sent without an answer (in flight at a kill, or 503) | {} |",
        report.unanswered
    );
    println!("| refused, by code | {:?} |", report.refused);
    println!("| HTTP 5xx other than 503 | {} |", report.server_errors);
    println!(
        "| bots whose last acknowledged wish was checked | {} |",
        report.bots_checked
    );
    println!("| events in the log | {} |", report.events);
    println!(
        "| start to ready after a kill, median / worst | {median:.0} / {worst:.0} ms (first start {first:.0} ms) |"
    );
    println!(
        "| last start to every projector at the head | {:.0} ms |",
        milliseconds(report.catch_up)
    );
    println!(
        "| read models differing from a rebuild | {} |",
        report.differs_from_rebuild.len()
    );
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (use scripts/bench)");
    // `cargo test` runs this too (without `--bench`): then a short smoke run.
    let full = std::env::args().any(|arg| arg == "--bench");
    let longest: u64 = env("BENCH_SERVE_MS", if full { 3000 } else { 800 });
    let (database_url, database) = fresh_database_url(&url).await;
    let plan = Plan {
        binary: env!("CARGO_BIN_EXE_anytrade").into(),
        database_url,
        clients: env("BENCH_CLIENTS", if full { 8 } else { 2 }),
        kills: env("BENCH_KILLS", if full { 25 } else { 1 }),
        serve_for: Duration::from_millis(longest / 10)..Duration::from_millis(longest),
        // The drawn windows alone, as the figures in docs/reliability.md were made.
        min_per_window: 0,
    };
    let report = crash_load::run(&plan).await;
    print(&plan, &report);
    drop_database(&url, &database).await;
    let mut failures = report.failures();

    let (database_url, database) = fresh_database_url(&url).await;
    let plan = side_effects::Plan {
        binary: env!("CARGO_BIN_EXE_anytrade").into(),
        fleet: side_effects::Fleet::Local,
        database_url,
        bots: env("BENCH_BOTS", if full { 20 } else { 3 }),
        commands: env("BENCH_COMMANDS", if full { 1000 } else { 30 }),
        kills: env("BENCH_BOT_KILLS", if full { 30 } else { 1 }),
        clients: 4,
        serve_for: Duration::from_millis(longest / 10)..Duration::from_millis(longest),
    };
    let report = side_effects::run(&plan).await;
    print_side_effects(&plan, &report);
    drop_database(&url, &database).await;
    failures.extend(report.failures());

    if full && std::env::var_os("BENCH_NO_DOCKER").is_none() {
        let (database_url, database) = fresh_database_url(&url).await;
        let plan = side_effects::Plan {
            binary: env!("CARGO_BIN_EXE_anytrade").into(),
            fleet: side_effects::Fleet::Docker,
            database_url,
            bots: env("BENCH_DOCKER_BOTS", 5),
            commands: env("BENCH_DOCKER_COMMANDS", 200),
            kills: env("BENCH_DOCKER_KILLS", 10),
            clients: 2,
            serve_for: Duration::from_millis(longest / 3)..Duration::from_millis(longest),
        };
        let report = side_effects::run(&plan).await;
        print_side_effects(&plan, &report);
        drop_database(&url, &database).await;
        failures.extend(report.failures());

        if let Some(why) = docker_engine::cannot_restart() {
            eprintln!(
                "FAILED: the engine cannot be restarted here ({why}); BENCH_NO_DOCKER=1 leaves the docker parts out"
            );
            std::process::exit(1);
        }
        let (database_url, database) = fresh_database_url(&url).await;
        let plan = engine_restarts::Plan {
            binary: env!("CARGO_BIN_EXE_anytrade").into(),
            database_url,
            bots: env("BENCH_ENGINE_BOTS", 10),
            restarts: env("BENCH_ENGINE_RESTARTS", 5),
            reconcile_secs: env("BENCH_RECONCILE_SECS", 5),
        };
        let report = engine_restarts::run(&plan).await;
        print_engine_restarts(&plan, &report);
        drop_database(&url, &database).await;
        failures.extend(report.failures());
    }
    if !failures.is_empty() {
        eprintln!("FAILED: {failures:#?}");
        std::process::exit(1);
    }
}

fn print_side_effects(plan: &side_effects::Plan, report: &side_effects::Report) {
    println!();
    println!(
        "Managing {} bots on the {:?} runtime (stand-in freqtrade), {} clients, {} kills",
        plan.bots, plan.fleet, plan.clients, report.kills
    );
    println!();
    println!("| figure | value |");
    println!("|---|---|");
    println!("| SIGKILLs survived | {} |", report.kills);
    println!(
        "| commands sent / acknowledged / without an answer | {} / {} / {} |",
        report.commands, report.acknowledged, report.unanswered
    );
    println!("| refused, by code | {:?} |", report.refused);
    println!("| HTTP 5xx other than 503 | {} |", report.server_errors);
    println!(
        "| bots whose last command was acknowledged (checked) / deleted | {} / {} |",
        report.bots_checked, report.deleted
    );
    println!(
        "| most processes at once before a kill | {} |",
        report.peak_processes
    );
    println!(
        "| bots running at the end / their processes | {} / {} |",
        report.running, report.processes
    );
    match report.settled_after {
        Some(after) => println!(
            "| last start to every bot settled and matched | {:.0} ms |",
            milliseconds(after)
        ),
        None => println!("| **never settled** | {:?} |", report.mismatches),
    }
}

fn print_engine_restarts(plan: &engine_restarts::Plan, report: &engine_restarts::Report) {
    let seconds = |d: Duration| d.as_secs_f64();
    let spread = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        let median = values.get(values.len() / 2).copied().unwrap_or(f64::NAN);
        let worst = values.last().copied().unwrap_or(f64::NAN);
        format!("{median:.1} / {worst:.1} s")
    };
    println!();
    println!(
        "Docker engine restarted {} times under {} bots (stand-in image), reconciling every {} s, live-restore {}",
        plan.restarts, plan.bots, plan.reconcile_secs, report.live_restore
    );
    println!();
    println!("| figure | value |");
    println!("|---|---|");
    println!("| engine restarts | {} |", report.restarts.len());
    println!(
        "| engine stopping, median / worst | {} |",
        spread(
            report
                .restarts
                .iter()
                .map(|r| seconds(r.stopping))
                .collect()
        )
    );
    println!(
        "| engine down (signal to answering), median / worst | {} |",
        spread(report.restarts.iter().map(|r| seconds(r.down)).collect())
    );
    println!(
        "| engine answering to every bot running again, median / worst | {} |",
        spread(report.back_after.iter().copied().map(seconds).collect())
    );
    println!(
        "| restarts after which every bot came back | {} of {} |",
        report.back_after.len(),
        report.restarts.len()
    );
    println!(
        "| outages recorded per bot (BotFailed), min / max | {} / {} |",
        report.recorded.iter().min().unwrap_or(&0),
        report.recorded.iter().max().unwrap_or(&0)
    );
    if !report.mismatches.is_empty() {
        println!("| **not back** | {:?} |", report.mismatches);
    }
}
