//! Every GraphQL operation needs a valid token; viewers may read but not change.

use serde_json::json;

use crate::app::TestApp;

const LIST: &str = "{ exchanges { id } }";
const CREATE: &str = r#"mutation { createExchange(input: { name: "kraken" }) { id } }"#;

fn code(body: &serde_json::Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn missing_forged_and_expired_tokens_are_unauthenticated() {
    let app = TestApp::spawn().await;
    let (status, body) = app.graphql_as(None, LIST, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert!(body["data"].is_null(), "{body}");

    let mut forged = app.admin.clone();
    forged.pop();
    forged.push(if app.admin.ends_with('A') { 'B' } else { 'A' });
    let (_, body) = app.graphql_as(Some(&forged), LIST, json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");

    let (_, body) = app.graphql_as(Some("not-a-jwt"), LIST, json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");

    let events = app.event_count().await;
    let (_, body) = app.graphql_as(None, CREATE, json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(app.event_count().await, events, "nothing may be written");
}

#[tokio::test]
async fn viewers_read_but_may_not_mutate() {
    let app = TestApp::spawn().await;
    app.query(CREATE, json!({})).await;
    let (_, body) = app.graphql_as(Some(&app.viewer), LIST, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["exchanges"].as_array().map(Vec::len), Some(1));

    let events = app.event_count().await;
    let (_, body) = app.graphql_as(Some(&app.viewer), CREATE, json!({})).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert_eq!(app.event_count().await, events, "nothing may be written");
}

#[tokio::test]
async fn queries_beyond_the_depth_limit_are_refused() {
    let app = TestApp::spawn().await;
    app.query(
        "{ strategies { edges { node { versions { version } } } } }",
        json!({}),
    )
    .await;
    let too_deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
        "ofType { ".repeat(10),
        " }".repeat(10)
    );
    let (_, body) = app.graphql_as(Some(&app.admin), &too_deep, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("nested too deep"), "{body}");
}

#[tokio::test]
async fn graphiql_opens_in_a_browser() {
    let app = TestApp::spawn().await;
    let page = reqwest::get(format!("http://{}/graphql", app.address))
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(page.to_lowercase().contains("graphiql"), "{page}");
}
