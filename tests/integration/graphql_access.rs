//! Every GraphQL operation needs a valid token; viewers may read but not change.

use anytrade::auth::Role;
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

/// graphql-js's standard introspection query (what GraphiQL and code generators send),
/// with `ofType` nested nine times as its newer versions do.
fn standard_introspection() -> String {
    let type_ref = format!(
        "kind name {}",
        "ofType { kind name ".repeat(9) + &"}".repeat(9)
    );
    format!(
        "query IntrospectionQuery {{ __schema {{ queryType {{ name }} mutationType {{ name }}
           subscriptionType {{ name }} types {{ ...FullType }}
           directives {{ name description locations args {{ ...InputValue }} }} }} }}
         fragment FullType on __Type {{ kind name description
           fields(includeDeprecated: true) {{ name description args {{ ...InputValue }}
             type {{ ...TypeRef }} isDeprecated deprecationReason }}
           inputFields {{ ...InputValue }} interfaces {{ ...TypeRef }}
           enumValues(includeDeprecated: true) {{ name description isDeprecated deprecationReason }}
           possibleTypes {{ ...TypeRef }} }}
         fragment InputValue on __InputValue {{ name description type {{ ...TypeRef }} defaultValue }}
         fragment TypeRef on __Type {{ {type_ref} }}"
    )
}

#[tokio::test]
async fn depth_limits_refuse_deep_queries_but_not_the_standard_introspection() {
    let app = TestApp::spawn().await;
    app.query(
        "{ strategies { edges { node { versions { version } } } } }",
        json!({}),
    )
    .await;
    let too_deep = format!(
        "{{ exchanges {{ {}id{} }} }}",
        "bots { exchange { ".repeat(6),
        " } }".repeat(6)
    );
    let (_, body) = app.graphql_as(Some(&app.admin), &too_deep, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("nested too deep"), "{body}");

    let schema = app.query(&standard_introspection(), json!({})).await;
    let types = schema["__schema"]["types"].as_array().map(Vec::len);
    assert!(types.is_some_and(|n| n > 20), "{schema}");

    // Lists within lists multiply an introspection's answer: four are refused.
    let nested =
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    let (_, body) = app.graphql_as(Some(&app.admin), nested, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("list fields"), "{body}");
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
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

/// Polls `probe` until it holds (a token's user is re-read within a few seconds).
async fn within_seconds(mut probe: impl AsyncFnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(8);
    while std::time::Instant::now() < deadline {
        if probe().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    false
}

/// Changes users behind the service's back, as an operator with SQL would.
async fn alter_users(app: &TestApp, sql: &str) {
    sqlx::query(sql).execute(&app.pool).await.expect(sql);
}

#[tokio::test]
async fn a_deleted_or_demoted_users_token_stops_working() {
    let app = TestApp::spawn().await;
    anytrade::auth::create_user(
        &app.pool,
        &anytrade::auth::Actor::system(),
        "second",
        "second-admin-password",
        Role::Admin,
    )
    .await
    .expect("second admin");
    let second = app.login("second", "second-admin-password").await;
    let (_, body) = app.graphql_as(Some(&second), CREATE, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");

    // Demoted to viewer: the old admin token may no longer mutate, though it still reads.
    alter_users(
        &app,
        "UPDATE users SET role = 'viewer' WHERE username = 'second'",
    )
    .await;
    let refused = within_seconds(async || {
        let (_, body) = app.graphql_as(Some(&second), CREATE, json!({})).await;
        code(&body) == "FORBIDDEN"
    })
    .await;
    assert!(refused, "a demoted admin still mutates");
    let events = app.event_count().await;
    let (_, body) = app.graphql_as(Some(&second), CREATE, json!({})).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert_eq!(app.event_count().await, events, "nothing may be written");
    let (_, body) = app.graphql_as(Some(&second), LIST, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");

    // Deleted: the token stops working altogether.
    alter_users(&app, "DELETE FROM users WHERE username = 'viewer'").await;
    let refused = within_seconds(async || {
        let (_, body) = app.graphql_as(Some(&app.viewer), LIST, json!({})).await;
        code(&body) == "UNAUTHENTICATED"
    })
    .await;
    assert!(refused, "a deleted user's token still reads");
}
