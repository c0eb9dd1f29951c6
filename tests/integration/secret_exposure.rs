//! A secret planted through the API is found nowhere it should not be: not in any
//! table (events or read models), not in any API response, not in the service's logs
//! at debug level.

use std::process::Stdio;

use anytrade::crypto::Keyring;
use serde_json::{Value, json};

use crate::cli::{anytrade, data_dir, free_port, wait_healthy};
use crate::helpers::fresh_database_url;
use crate::secrets::rows_containing;

const PLANTED: &str = "PLANTED-9f3c2e71";

async fn graphql(
    client: &reqwest::Client,
    port: u16,
    token: &str,
    query: &str,
    variables: Value,
) -> String {
    client
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_secret_appears_in_no_table_response_or_log() {
    let url = fresh_database_url().await;
    let data = data_dir();
    let port = free_port();
    // A file, not a pipe: debug logging would fill a pipe nobody reads until the end.
    let log_path = data.path().join("serve.log");
    let log_file = std::fs::File::create(&log_path).expect("log file");
    let mut server = anytrade()
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("ANYTRADE_DATA_DIR", data.path())
        .env("ANYTRADE_LISTEN", format!("127.0.0.1:{port}"))
        .env("ANYTRADE_ENCRYPTION_KEY", Keyring::generate_key())
        .env("ANYTRADE_ADMIN_PASSWORD", "exposure-admin-password")
        .env("ANYTRADE_LOG_LEVEL", "debug")
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("start anytrade serve");
    tokio::task::block_in_place(|| wait_healthy(&mut server, port));

    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("http://127.0.0.1:{port}/auth/login"))
        .json(&json!({ "username": "admin", "password": "exposure-admin-password" }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    let token = login["token"].as_str().expect("token").to_owned();

    let mut responses = Vec::new();
    let created = graphql(
        &client,
        port,
        &token,
        "mutation($input: CreateExchangeInput!) { createExchange(input: $input) { id secrets { name keyId setAt } missingSecrets } }",
        json!({ "input": { "name": "okx", "secrets": [
            { "name": "api_key", "value": format!("{PLANTED}-key") },
            { "name": "api_secret", "value": format!("{PLANTED}-secret") } ] } }),
    )
    .await;
    let id = serde_json::from_str::<Value>(&created).expect("json")["data"]["createExchange"]["id"]
        .as_str()
        .expect("created")
        .to_owned();
    responses.push(created);
    for (name, value) in [
        ("passphrase", format!("{PLANTED}-pass")),
        ("api_key", format!("{PLANTED}-key-rotated")),
        ("NOT A NAME", format!("{PLANTED}-bad-name")),
    ] {
        responses.push(
            graphql(
                &client,
                port,
                &token,
                "mutation($id: ID!, $name: String!, $value: String!) { setExchangeSecret(exchangeId: $id, name: $name, value: $value) { secrets { name keyId } } }",
                json!({ "id": id, "name": name, "value": value }),
            )
            .await,
        );
    }
    responses.push(
        graphql(
            &client,
            port,
            &token,
            "mutation($value: String!) { setExchangeSecret(exchangeId: \"0190d2b5-0000-7000-8000-000000000000\", name: \"api_key\", value: $value) { id } }",
            json!({ "value": format!("{PLANTED}-unknown-exchange") }),
        )
        .await,
    );
    responses.push(
        graphql(
            &client,
            port,
            &token,
            "{ exchanges { id config secrets { name keyId setAt } } }",
            json!({}),
        )
        .await,
    );
    responses.push(
        graphql(
            &client,
            port,
            &token,
            "{ events(first: 100) { eventType payload metadata } }",
            json!({}),
        )
        .await,
    );
    assert!(
        responses
            .iter()
            .any(|r| r.contains("ExchangeSecretRotated")),
        "the events query ran"
    );

    let pool = anytrade::db::connect(url.parse().expect("url"), 2)
        .await
        .expect("connect");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let status = tokio::task::block_in_place(|| server.wait()).expect("wait");
    assert!(status.success(), "serve failed");
    let log = std::fs::read_to_string(&log_path).expect("read log");
    assert!(log.contains("DEBUG"), "debug logging was on");
    for response in &responses {
        assert!(
            !response.contains(PLANTED),
            "an API response holds the secret: {response}"
        );
    }
    assert_eq!(rows_containing(&pool, PLANTED).await, Vec::<String>::new());
    assert!(!log.contains(PLANTED), "the log holds the secret");
}
