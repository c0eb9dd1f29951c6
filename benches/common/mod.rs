//! Helpers every benchmark needs: settings from the environment, and a scratch
//! database of its own.

use std::str::FromStr;
use std::time::Duration;

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

/// `d` in milliseconds, for the tables.
#[allow(dead_code)] // Not every benchmark prints milliseconds.
pub fn milliseconds(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A bearer token for `username`, from the service's `POST /auth/login` at `base`.
#[allow(dead_code)] // Only the benchmarks that talk HTTP log in.
pub async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let body: serde_json::Value = client
        .post(format!("{base}/auth/login"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("login request")
        .json()
        .await
        .expect("login body");
    body["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login of {username} failed: {body}"))
        .to_owned()
}
