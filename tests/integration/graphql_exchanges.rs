//! Exchanges through GraphQL: create with secrets, update, set and rotate secrets,
//! delete; bad input is a typed error that changes nothing; secret values never come
//! back.

use serde_json::json;

use crate::app::TestApp;

const FIELDS: &str = "id name testMode config missingSecrets secrets { name keyId setAt }";

#[tokio::test]
async fn exchange_lifecycle_through_graphql() {
    let app = TestApp::spawn().await;
    let created = app
        .query(
            &format!(
                "mutation($input: CreateExchangeInput!) {{ createExchange(input: $input) {{ {FIELDS} }} }}"
            ),
            json!({ "input": {
                "name": "coinbase",
                "testMode": false,
                "config": { "ccxt_config": { "enableRateLimit": true } },
                "secrets": [
                    { "name": "api_key", "value": "PLANTED-key-91c2" },
                    { "name": "api_secret", "value": "PLANTED-secret-77ab" }
                ]
            }}),
        )
        .await;
    let exchange = &created["createExchange"];
    assert_eq!(exchange["name"], "coinbase");
    assert_eq!(exchange["testMode"], false);
    assert_eq!(exchange["config"]["ccxt_config"]["enableRateLimit"], true);
    assert_eq!(exchange["missingSecrets"], json!(["passphrase"]));
    assert_eq!(exchange["secrets"][0]["name"], "api_key");
    assert_eq!(exchange["secrets"][1]["name"], "api_secret");
    assert!(!created.to_string().contains("PLANTED"));
    let id = exchange["id"].as_str().expect("id").to_owned();

    let set = app
        .query(
            &format!(
                "mutation($id: ID!) {{ setExchangeSecret(exchangeId: $id, name: \"passphrase\", value: \"PLANTED-pass\") {{ {FIELDS} }} }}"
            ),
            json!({ "id": id }),
        )
        .await;
    assert_eq!(set["setExchangeSecret"]["missingSecrets"], json!([]));
    let first_set_at = set["setExchangeSecret"]["secrets"][2]["setAt"].clone();
    let rotated = app
        .query(
            &format!(
                "mutation($id: ID!) {{ setExchangeSecret(exchangeId: $id, name: \"passphrase\", value: \"PLANTED-pass-2\") {{ {FIELDS} }} }}"
            ),
            json!({ "id": id }),
        )
        .await;
    assert_ne!(
        rotated["setExchangeSecret"]["secrets"][2]["setAt"],
        first_set_at
    );

    let updated = app
        .query(
            &format!(
                "mutation($id: ID!) {{ updateExchange(id: $id, input: {{ testMode: true }}) {{ {FIELDS} }} }}"
            ),
            json!({ "id": id }),
        )
        .await;
    assert_eq!(updated["updateExchange"]["testMode"], true);

    let removed = app
        .query(
            &format!(
                "mutation($id: ID!) {{ deleteExchangeSecret(exchangeId: $id, name: \"passphrase\") {{ {FIELDS} }} }}"
            ),
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        removed["deleteExchangeSecret"]["missingSecrets"],
        json!(["passphrase"])
    );

    let listed = app
        .query(&format!("{{ exchanges {{ {FIELDS} }} }}"), json!({}))
        .await;
    assert_eq!(listed["exchanges"].as_array().map(Vec::len), Some(1));
    assert!(!listed.to_string().contains("PLANTED"));

    let deleted = app
        .query(
            "mutation($id: ID!) { deleteExchange(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(deleted["deleteExchange"], true);
    let gone = app
        .query(
            "query($id: ID!) { exchange(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert!(gone["exchange"].is_null());
    let again = app
        .query_error(
            "mutation($id: ID!) { deleteExchange(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(again["code"], "NOT_FOUND");
}

#[tokio::test]
async fn bad_exchange_input_is_a_typed_error_that_writes_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({ "name": "nyse" }), "VALIDATION", "name"),
        (
            json!({ "name": "binance", "config": [1, 2] }),
            "VALIDATION",
            "config",
        ),
        (
            json!({ "name": "binance", "config": { "ccxt_config": { "apiKey": "x" } } }),
            "VALIDATION",
            "config.ccxt_config.apiKey",
        ),
        (
            json!({ "name": "binance", "secrets": [{ "name": "API KEY", "value": "x" }] }),
            "VALIDATION",
            "secrets[0].name",
        ),
        (
            json!({ "name": "binance", "secrets": [{ "name": "api_key", "value": "" }] }),
            "VALIDATION",
            "secrets[0].value",
        ),
    ];
    for (input, code, field) in cases {
        let before = app.event_count().await;
        let error = app
            .query_error(
                "mutation($input: CreateExchangeInput!) { createExchange(input: $input) { id } }",
                json!({ "input": input }),
            )
            .await;
        assert_eq!(error["code"], code, "{input}: {error}");
        assert_eq!(error["field"], field, "{input}: {error}");
        assert_eq!(app.event_count().await, before, "{input} wrote events");
    }
    let error = app
        .query_error("{ exchange(id: \"not-a-uuid\") { id } }", json!({}))
        .await;
    assert_eq!(
        (error["code"].as_str(), error["field"].as_str()),
        (Some("VALIDATION"), Some("id"))
    );
    let error = app
        .query_error(
            "mutation { setExchangeSecret(exchangeId: \"0190d2b5-0000-7000-8000-000000000000\", name: \"api_key\", value: \"v\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (error["code"].as_str(), error["field"].as_str()),
        (Some("NOT_FOUND"), Some("exchangeId"))
    );
}
