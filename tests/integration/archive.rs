//! `anytrade events export | import`: the whole log out as NDJSON and back into an empty
//! database, hashes checked and read models rebuilt equal; broken files write nothing.

use anytrade_aggregates::StrategyCommand;
use uuid::Uuid;

use crate::audit::{AuditedStore, stderr, stdout};
use crate::projections::dump;

async fn count(store: &AuditedStore) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&store.pool)
        .await
        .unwrap()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_imports_into_an_empty_database_with_equal_read_models() {
    let original = AuditedStore::new().await;
    for _ in 0..3 {
        original.exchange().await;
    }
    let strategy = Uuid::now_v7();
    let code = "from freqtrade.strategy import IStrategy\n\n\nclass Keep(IStrategy):\n    timeframe = '5m'\n";
    let create = StrategyCommand::CreateStrategy {
        strategy_id: strategy,
        name: "keep".into(),
        description: "kept".into(),
        code: code.into(),
    };
    original
        .commands
        .strategies
        .execute(&strategy, create, &original.meta)
        .await
        .unwrap();
    let rebuilt = original.run(&["projections", "rebuild"]);
    assert!(rebuilt.status.success(), "{}", stderr(&rebuilt));

    let exported = original.run(&["events", "export"]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let text = stdout(&exported);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() as i64, count(&original).await);
    assert!(stderr(&exported).contains(&format!("exported {} events", lines.len())));
    assert!(
        lines.iter().all(|l| l.contains("\"hash\":\"")),
        "hashes exported"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "log.ndjson", &text);
    let restored = AuditedStore::new().await;
    let imported = restored.run(&["events", "import", &file]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let report = stdout(&imported);
    assert!(
        report.contains(&format!("imported {} events", lines.len())),
        "{report}"
    );
    assert!(report.contains("4 chains verified"), "{report}");
    assert_eq!(dump(&restored.pool).await, dump(&original.pool).await);
    let again = restored.run(&["events", "export"]);
    assert_eq!(
        stdout(&again),
        text,
        "positions, times and hashes survive the round trip"
    );

    // The restored log goes on: new events follow the imported positions.
    restored.exchange().await;
    let max: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(&restored.pool)
        .await
        .unwrap();
    assert!(max > lines.len() as i64, "{max}");

    let refused = restored.run(&["events", "import", &file]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("already holds"),
        "{}",
        stderr(&refused)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_export_is_refused_by_line_and_writes_nothing() {
    let original = AuditedStore::new().await;
    original.exchange().await;
    original.exchange().await;
    let text = stdout(&original.run(&["events", "export"]));
    let lines: Vec<&str> = text.lines().collect();
    let dir = tempfile::tempdir().unwrap();
    let edited = text.replacen("binance", "kraken", 1);
    let mut dropped = lines.clone();
    dropped.remove(1);
    let mut swapped = lines.clone();
    swapped.swap(1, 2);
    let mut reordered = lines.clone();
    reordered.swap(3, 4);
    let cases = [
        ("edited", edited, "line 1: the hash of exchange"),
        ("dropped", dropped.join("\n"), "line 2: exchange"),
        ("swapped", swapped.join("\n"), "line 2: exchange"),
        (
            "reordered",
            reordered.join("\n"),
            "line 5: position 4 does not follow position 5",
        ),
        ("garbage", format!("{}\nnot json\n", lines[0]), "line 2: "),
        (
            "unknown",
            lines[0].replace("\"hash\"", "\"extra\":1,\"hash\""),
            "line 1: unknown field",
        ),
    ];
    for (name, content, message) in cases {
        let restored = AuditedStore::new().await;
        let file = write(&dir, name, &content);
        let output = restored.run(&["events", "import", &file]);
        assert_eq!(output.status.code(), Some(2), "{name}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(&format!("FILE: {message}")),
            "{name}: {}",
            stderr(&output)
        );
        assert_eq!(count(&restored).await, 0, "{name}: nothing written");
    }
    let missing = original.run(&["events", "import", "/nonexistent/log.ndjson"]);
    assert_eq!(missing.status.code(), Some(2));
}
