//! Helpers every benchmark needs: settings from the environment, and a scratch
//! database of its own.

use std::str::FromStr;

use sqlx::Connection;
use sqlx::postgres::PgConnectOptions;
use uuid::Uuid;

/// `name` from the environment, else `default`.
pub fn env<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A new, empty database of its own, as the URL the service is given.
pub async fn fresh_database_url(url: &str) -> (String, String) {
    let admin = PgConnectOptions::from_str(url).expect("DATABASE_URL parses");
    let name = format!("anytrade_bench_{}", Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect_with(&admin)
        .await
        .expect("connect");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create database");
    conn.close().await.expect("close");
    let mut parsed = url::Url::parse(url).expect("DATABASE_URL is a URL");
    parsed.set_path(&name);
    (parsed.to_string(), name)
}

pub async fn drop_database(url: &str, name: &str) {
    let admin = PgConnectOptions::from_str(url).expect("DATABASE_URL parses");
    let mut conn = sqlx::PgConnection::connect_with(&admin)
        .await
        .expect("connect");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .expect("drop database");
}
