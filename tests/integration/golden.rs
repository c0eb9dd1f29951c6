//! The golden log (tests/fixtures/events/golden.ndjson: every event type, in coherent
//! histories) replays through today's code with zero errors and builds exactly the
//! read models recorded beside it. `scripts/golden-log` regenerates both files; an
//! event whose shape changes needs an upcaster so that the old lines still replay.

use anytrade::audit::history::{self, AggregateRef};
use anytrade_projections::AggregateKind;
use serde_json::Value;

use crate::audit::{AuditedStore, stderr, stdout};
use crate::projections::dump;

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/events/golden.ndjson"
);
const EXPECTED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/events/golden-read-models.json"
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_golden_log_replays_into_the_recorded_read_models() {
    let store = AuditedStore::new().await;
    let imported = store.run(&["events", "import", GOLDEN]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert!(
        stdout(&imported).contains("chains verified"),
        "{}",
        stdout(&imported)
    );

    // Every aggregate folds through its own `apply` without a decode or replay error.
    let aggregates: Vec<(String, String)> =
        sqlx::query_as("SELECT DISTINCT aggregate_type, aggregate_id FROM events ORDER BY 1, 2")
            .fetch_all(&store.pool)
            .await
            .unwrap();
    assert_eq!(aggregates.len(), 13, "{aggregates:?}");
    for (kind, id) in aggregates {
        let aggregate = AggregateRef {
            kind: AggregateKind::parse(&kind).unwrap(),
            id: id.parse().unwrap(),
        };
        history::history(&store.pool, aggregate, 0, None)
            .await
            .unwrap_or_else(|e| panic!("{aggregate}: {e}"));
    }

    let built: serde_json::Map<String, Value> = dump(&store.pool).await.into_iter().collect();
    let built = Value::Object(built);
    if std::env::var_os("ANYTRADE_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&built).unwrap() + "\n";
        std::fs::write(EXPECTED, text).expect("write the expected read models");
        return;
    }
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(EXPECTED).expect("the expected read models"))
            .expect("expected read models parse");
    for (table, rows) in expected.as_object().unwrap() {
        assert_eq!(
            &built[table], rows,
            "read model {table} differs from {EXPECTED} (run scripts/golden-log if the change is intended)"
        );
    }
    assert_eq!(built, expected);
}
