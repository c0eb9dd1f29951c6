//! Every read model's rows as JSON, to compare the live tables with a rebuild. Shared by
//! the integration tests and the benchmarks (included with `#[path]`).

use serde_json::Value;
use sqlx::PgPool;

/// Each read-model table and the columns that order its rows.
const TABLES: &[(&str, &str)] = &[
    ("exchanges", "id"),
    ("exchange_secrets", "exchange_id, name"),
    ("strategies", "id"),
    ("strategy_versions", "strategy_id, version"),
    ("bots", "id"),
    ("backtests", "id"),
    ("hyperopts", "id"),
    ("trades", "id"),
    ("bot_trade_totals", "bot_id"),
];

/// Every read-model row, table by table.
pub async fn dump(pool: &PgPool) -> Vec<(String, Value)> {
    let mut rows = Vec::new();
    for (table, order) in TABLES {
        let value: Option<Value> = sqlx::query_scalar(&format!(
            "SELECT json_agg(t ORDER BY {order}) FROM {table} t"
        ))
        .fetch_one(pool)
        .await
        .expect("dump");
        rows.push((table.to_string(), value.unwrap_or(Value::Null)));
    }
    rows
}
