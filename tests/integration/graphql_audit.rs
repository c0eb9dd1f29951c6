//! The audit trail through GraphQL: `aggregateHistory`, `aggregateAt` and, for admins,
//! `auditVerify`; viewers read history, nobody sees a secret.

use serde_json::json;

use crate::app::TestApp;

const HISTORY: &str = "query($id: UUID!, $first: Int, $after: Int) {
  aggregateHistory(type: EXCHANGE, id: $id, first: $first, after: $after) {
    version eventType actor correlationId changes { path change from to }
  }
}";
const AT: &str = "query($id: UUID!, $version: Int, $at: DateTime) {
  aggregateAt(type: EXCHANGE, id: $id, version: $version, at: $at) {
    version eventType committedAt state
  }
}";
const VERIFY: &str = "{ auditVerify { intact events chains broken finishedAt } }";

#[tokio::test]
async fn history_and_state_then_are_readable_and_keep_secrets_sealed() {
    let app = TestApp::spawn().await;
    let created = app
        .query(
            r#"mutation { createExchange(input: { name: "kraken", secrets: [{ name: "api_key", value: "plain-key-value" }] }) { id } }"#,
            json!({}),
        )
        .await;
    let id = created["createExchange"]["id"].as_str().unwrap().to_owned();
    app.query(
        "mutation($id: ID!) { setExchangeSecret(exchangeId: $id, name: \"api_key\", value: \"second-plain-value\") { id } }",
        json!({ "id": id }),
    )
    .await;
    app.query(
        "mutation($id: ID!) { updateExchange(id: $id, input: { testMode: false }) { id } }",
        json!({ "id": id }),
    )
    .await;

    let (_, body) = app
        .graphql_as(Some(&app.viewer), HISTORY, json!({ "id": id }))
        .await;
    assert!(body.get("errors").is_none(), "viewers read history: {body}");
    let entries = body["data"]["aggregateHistory"].as_array().unwrap().clone();
    let types: Vec<&str> = entries
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "ExchangeCreated",
            "ExchangeSecretAdded",
            "ExchangeSecretRotated",
            "ExchangeUpdated"
        ]
    );
    assert_eq!(entries[0]["actor"], "user:admin");
    assert!(entries[0]["correlationId"].is_string());
    assert_eq!(
        entries[1]["changes"],
        json!([{ "path": "secrets.api_key", "change": "SECRET_SET", "from": null, "to": null }])
    );
    assert_eq!(entries[2]["changes"][0]["change"], "SECRET_ROTATED");
    assert_eq!(
        entries[3]["changes"],
        json!([{ "path": "test_mode", "change": "CHANGED", "from": true, "to": false }])
    );
    let text = body.to_string();
    for secret in [
        "plain-key-value",
        "second-plain-value",
        "ciphertext",
        "nonce",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }

    let page = app
        .query(HISTORY, json!({ "id": id, "first": 2, "after": 1 }))
        .await;
    let versions: Vec<i64> = page["aggregateHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [2, 3]);

    let second = app.query(AT, json!({ "id": id, "version": 2 })).await;
    let snapshot = &second["aggregateAt"];
    assert_eq!(snapshot["eventType"], "ExchangeSecretAdded");
    assert_eq!(snapshot["state"]["test_mode"], true);
    let sealed = &snapshot["state"]["secrets"]["api_key"];
    assert!(
        sealed["key_id"].is_string() && sealed.get("ciphertext").is_none(),
        "{snapshot}"
    );
    let by_time = app
        .query(AT, json!({ "id": id, "at": snapshot["committedAt"] }))
        .await;
    assert_eq!(by_time["aggregateAt"]["version"], 2);

    for (variables, field, code) in [
        (json!({ "id": id, "version": 9 }), "version", "VALIDATION"),
        (json!({ "id": id }), "version", "VALIDATION"),
        (
            json!({ "id": id, "at": "2001-01-01T00:00:00Z" }),
            "at",
            "VALIDATION",
        ),
        (
            json!({ "id": uuid::Uuid::now_v7(), "version": 1 }),
            "id",
            "NOT_FOUND",
        ),
    ] {
        let error = app.query_error(AT, variables.clone()).await;
        assert_eq!(
            (error["code"].as_str(), error["field"].as_str()),
            (Some(code), Some(field)),
            "{variables}: {error}"
        );
    }
}

#[tokio::test]
async fn audit_verify_shows_the_last_verification_to_admins_only() {
    let app = TestApp::spawn().await;
    let never = app.query(VERIFY, json!({})).await;
    assert!(never["auditVerify"].is_null(), "{never}");

    app.query(
        r#"mutation { createExchange(input: { name: "kraken" }) { id } }"#,
        json!({}),
    )
    .await;
    let started = chrono::Utc::now();
    let report = anytrade::audit::chain::verify(&app.pool, 1000, |_, _| {})
        .await
        .unwrap();
    anytrade::audit::chain::record(&app.pool, started, &report)
        .await
        .unwrap();
    let shown = app.query(VERIFY, json!({})).await;
    assert_eq!(
        (
            shown["auditVerify"]["intact"].as_bool(),
            shown["auditVerify"]["events"].as_i64()
        ),
        (Some(true), Some(1)),
        "{shown}"
    );
    assert_eq!(shown["auditVerify"]["broken"], json!([]));

    let (_, body) = app.graphql_as(Some(&app.viewer), VERIFY, json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
}
