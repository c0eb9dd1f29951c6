//! Helpers every benchmark needs: settings from the environment, and a scratch
//! database of its own.

use std::str::FromStr;

/// `name` from the environment, else `default`.
pub fn env<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[path = "../../tests/support/scratch_database.rs"]
mod scratch_database;

/// A new, empty database of its own, as the URL the service is given, and its name.
pub async fn fresh_database_url(url: &str) -> (String, String) {
    scratch_database::create(url, "anytrade_bench").await
}

pub async fn drop_database(url: &str, name: &str) {
    scratch_database::drop(url, name).await
}
