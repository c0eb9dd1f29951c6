//! The short form of the GraphQL fuzzing (`cargo bench --bench fuzz` runs 10,000
//! requests): 1,000 requests generated from the schema against the service in-process.
//! No HTTP 5xx, no dropped connection, every error with a code and none INTERNAL, no
//! mutation that failed without data and still wrote events, no panic in a handler;
//! every root field tried, and some requests (mutations among them) got through, so the
//! generator makes valid input too. `FUZZ_SEED` replays a run.

use serde_json::json;

use crate::app::TestApp;
use crate::graphql_fuzz_support::{Plan, introspection_query, run, seed, watch_panics};

const REQUESTS: usize = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_requests_to_every_root_field_get_coded_errors_and_no_partial_writes() {
    let panics = watch_panics();
    let app = TestApp::spawn().await;
    // The fuzzer's own introspection fits the service's limits.
    let schema = app.query(&introspection_query(), json!({})).await;
    assert!(schema["__schema"]["types"].is_array(), "{schema}");

    let seed = seed();
    eprintln!("graphql fuzz: FUZZ_SEED={seed}");
    let report = run(&Plan {
        base: format!("http://{}", app.address),
        pool: app.pool.clone(),
        admin: app.admin.clone(),
        viewer: app.viewer.clone(),
        requests: REQUESTS,
        seed,
    })
    .await;
    let seed = report.seed;
    eprintln!(
        "graphql fuzz (FUZZ_SEED={seed}): {} requests, {} succeeded ({} mutations), \
         statuses {:?}, codes {:?}, {} mutations checked, p99 {:?}, max {:?} ({})",
        report.requests,
        report.succeeded,
        report.mutations_succeeded,
        report.by_status,
        report.by_code,
        report.mutations_checked,
        report.p99(),
        report.max_latency(),
        report.slowest,
    );
    eprintln!("succeeded by field: {:?}", report.succeeded_by_field);
    eprintln!("never succeeded: {:?}", report.never_succeeded());
    eprintln!("requests by field: {:?}", report.exercised);

    let panicked = panics.lock().map(|p| p.clone()).unwrap_or_default();
    assert_eq!(panicked, Vec::<String>::new(), "panics (FUZZ_SEED={seed})");
    assert_eq!(
        report.failures(),
        Vec::<String>::new(),
        "failures (FUZZ_SEED={seed} replays them)"
    );
    assert_eq!(report.server_errors(), 0);
    assert_eq!(report.requests, REQUESTS);
    assert_eq!(report.unexercised(), Vec::<String>::new(), "never sent");
    assert!(report.succeeded > 0, "no request succeeded");
    assert!(report.mutations_succeeded > 0, "no mutation succeeded");
    assert!(report.mutations_checked > 0, "no mutation checked");
}
