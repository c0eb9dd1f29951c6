//! A database of its own for one test or benchmark, on the server `DATABASE_URL` names.
//! Shared by the integration tests and the benchmarks (included with `#[path]`).

use std::str::FromStr;

use sqlx::Connection;
use sqlx::postgres::PgConnectOptions;

/// Creates an empty database named `<prefix>_<random>` next to `url`'s; returns its URL
/// and its name.
pub async fn create(url: &str, prefix: &str) -> (String, String) {
    let admin = PgConnectOptions::from_str(url).expect("DATABASE_URL parses");
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect_with(&admin)
        .await
        .expect("connect to the database server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create a scratch database");
    conn.close().await.expect("close the admin connection");
    let mut parsed = url::Url::parse(url).expect("DATABASE_URL is a URL");
    parsed.set_path(&name);
    (parsed.to_string(), name)
}

/// Drops database `name` on `url`'s server, ending its connections.
#[allow(dead_code)] // The tests leave theirs to scripts/test, which drops them all.
pub async fn drop(url: &str, name: &str) {
    let admin = PgConnectOptions::from_str(url).expect("DATABASE_URL parses");
    let mut conn = sqlx::PgConnection::connect_with(&admin)
        .await
        .expect("connect to the database server");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .expect("drop the scratch database");
}
