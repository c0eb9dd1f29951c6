//! GraphQL fuzzing: requests generated from the schema (read by introspection) to every
//! root field of Query and Mutation of the service, in-process on a database of its own,
//! one at a time as the admin (and a tenth as a viewer). `tests/support/graphql_fuzz.rs`
//! says what is generated and what must hold: no HTTP 5xx, no dropped connection or
//! timeout, no panic, every error with a code (none INTERNAL), and no partial write (a
//! mutation answered with an error and no data leaves the event count as it was).
//! Prints the figures as a markdown table; exits non-zero on any failure.
//!
//! Run with `cargo bench --bench fuzz`. Settings: `BENCH_REQUESTS` (10,000),
//! `FUZZ_SEED` (random; printed, to replay a run), `FUZZ_TRACE=1` (each request and
//! answer on stderr). Under `cargo test` (no `--bench` argument) a smoke run of 200.

use std::time::Duration;

mod common;
#[path = "../tests/support/graphql_fuzz.rs"]
mod graphql_fuzz;

use anytrade::app::Application;
use anytrade::auth::{Role, create_user};
use anytrade::config::{Redacted, Settings};
use anytrade::crypto::Keyring;
use common::{drop_database, env, fresh_database_url, login, milliseconds};
use graphql_fuzz::{Plan, Report};

const ADMIN_PASSWORD: &str = "fuzz-admin-password";
const VIEWER_PASSWORD: &str = "fuzz-viewer-password";

fn print(report: &Report, panics: &[String], elapsed: Duration) {
    let count = |map: &dyn Fn() -> Vec<String>| map().join(", ");
    let statuses = count(&|| {
        report
            .by_status
            .iter()
            .map(|(status, n)| format!("{status}: {n}"))
            .collect()
    });
    let codes = count(&|| {
        report
            .by_code
            .iter()
            .map(|(code, n)| format!("{code}: {n}"))
            .collect()
    });
    let failures: usize = report.failure_counts.values().sum();
    let exercised = report.exercised.len() - report.unexercised().len();
    println!();
    println!("| figure | value |");
    println!("|---|---|");
    println!("| requests | {} |", report.requests);
    println!(
        "| root fields exercised | {exercised} of {} ({} answered with data at least once) |",
        report.exercised.len(),
        report.succeeded_by_field.len()
    );
    println!("| answered with data, no error | {} |", report.succeeded);
    println!(
        "| root fields never answered with data | {} |",
        report.never_succeeded().join(", ")
    );
    println!("| HTTP status counts | {statuses} |");
    println!("| error codes | {codes} |");
    println!("| failures | **{failures}** |");
    println!("| HTTP 5xx | **{}** |", report.server_errors());
    println!("| panics | **{}** |", panics.len());
    println!(
        "| mutations checked for partial writes (of which succeeded) | {} ({}) |",
        report.mutations_checked, report.mutations_succeeded
    );
    println!(
        "| latency p99 / max | {:.1} / {:.1} ms |",
        milliseconds(report.p99()),
        milliseconds(report.max_latency())
    );
    println!("| wall time | {:.1} s |", elapsed.as_secs_f64());
    println!("| seed (`FUZZ_SEED`) | {} |", report.seed);
    println!();
    println!("Slowest: {}", report.slowest);
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (use scripts/bench)");
    // `cargo test` runs this too (without `--bench`): then a short smoke run.
    let full = std::env::args().any(|arg| arg == "--bench");
    let requests: usize = env("BENCH_REQUESTS", if full { 10_000 } else { 200 });
    let panics = graphql_fuzz::watch_panics();
    let (database_url, database) = fresh_database_url(&url).await;
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        database_url: Some(Redacted::from(database_url)),
        encryption_key: Some(Redacted::from(Keyring::generate_key())),
        admin_password: Some(Redacted::from(ADMIN_PASSWORD.to_owned())),
        ..Settings::default()
    };
    // Nothing but the requests may write events: the event count is checked around
    // each mutation.
    settings.runtime.manage = false;
    settings.monitor.enabled = false;
    let app = Application::build(&settings).await.expect("service builds");
    let base = format!("http://{}", app.local_addr().expect("bound"));
    let pool = app.pool().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    create_user(
        &pool,
        &anytrade::auth::Actor::system(),
        "viewer",
        VIEWER_PASSWORD,
        Role::Viewer,
    )
    .await
    .expect("viewer created");
    let plan = Plan {
        admin: login(&reqwest::Client::new(), &base, "admin", ADMIN_PASSWORD).await,
        viewer: login(&reqwest::Client::new(), &base, "viewer", VIEWER_PASSWORD).await,
        base,
        pool: pool.clone(),
        requests,
        seed: graphql_fuzz::seed(),
    };
    println!(
        "GraphQL fuzzing: {requests} requests, FUZZ_SEED={}",
        plan.seed
    );
    let started = std::time::Instant::now();
    let report = graphql_fuzz::run(&plan).await;
    let elapsed = started.elapsed();
    let panicked = panics.lock().map(|p| p.clone()).unwrap_or_default();
    print(&report, &panicked, elapsed);
    let _ = stop.send(());
    let _ = service.await;
    pool.close().await;
    drop_database(&url, &database).await;

    let mut failures = report.failures();
    failures.extend(panicked.iter().map(|p| format!("panic: {p}")));
    failures.extend(
        report
            .unexercised()
            .iter()
            .map(|field| format!("never sent: {field}")),
    );
    if !failures.is_empty() {
        eprintln!("FAILED (FUZZ_SEED={}): {failures:#?}", report.seed);
        std::process::exit(1);
    }
}
