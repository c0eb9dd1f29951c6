//! Tokens the service did not sign, or signed for another time, get nothing over HTTP or
//! WebSocket; a viewer changes nothing by any route (HTTP, a WebSocket operation, a
//! batch); browsers on other origins get no CORS grant; a token replayed after a logout
//! or a password change gets nothing.

use std::time::Duration;

use anytrade::auth::{Role, TOKEN_LIFETIME, TokenKeys};
use base64::Engine;
use chrono::Utc;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::TestApp;
use crate::graphql_subscriptions::{acknowledged, close_code, connect, next, send};

const CREATE: &str = r#"mutation { createExchange(input: { name: "kraken" }) { id } }"#;

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

async fn admin_id(app: &TestApp) -> Uuid {
    sqlx::query_scalar("SELECT id FROM users WHERE username = 'admin'")
        .fetch_one(&app.pool)
        .await
        .expect("the admin")
}

/// An unsigned token (`alg: none`) with claims that would otherwise be the admin's.
fn unsigned(admin: Uuid) -> String {
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let now = Utc::now().timestamp();
    format!(
        "{}.{}.",
        b64(json!({ "alg": "none", "typ": "JWT" })),
        b64(
            json!({ "sub": admin, "name": "admin", "role": "admin", "iat": now, "exp": now + 3600 })
        )
    )
}

#[tokio::test]
async fn forged_unsigned_and_expired_tokens_get_nothing_over_http_or_websocket() {
    let app = TestApp::spawn().await;
    let admin = admin_id(&app).await;
    let other_key = TokenKeys::from_secret(&[9u8; 32])
        .issue(admin, "admin", Role::Admin, 0)
        .expect("sign")
        .token;
    let long_ago = Utc::now() - TOKEN_LIFETIME - chrono::Duration::hours(1);
    let expired = TokenKeys::from_settings(&app.settings)
        .expect("the service's keys")
        .issue_at(admin, "admin", Role::Admin, 0, long_ago)
        .expect("sign")
        .token;
    let events = app.event_count().await;
    for (what, token) in [
        ("signed with another key", other_key),
        ("alg none", unsigned(admin)),
        ("expired", expired),
    ] {
        let (status, body) = app.graphql_as(Some(&token), CREATE, json!({})).await;
        assert_eq!(
            (status, code(&body)),
            (200, "UNAUTHENTICATED"),
            "{what}: {body}"
        );
        let init = json!({ "Authorization": format!("Bearer {token}") });
        let mut socket = connect(&app, "graphql-transport-ws", init).await;
        assert_eq!(
            close_code(&mut socket, Duration::from_secs(5)).await,
            Some(4403),
            "{what}"
        );
    }
    assert_eq!(app.event_count().await, events, "nothing may be written");
}

#[tokio::test]
async fn a_viewer_changes_nothing_over_a_websocket_or_in_a_batch() {
    let app = TestApp::spawn().await;
    let events = app.event_count().await;

    // graphql-transport-ws carries mutations too.
    let mut socket = acknowledged(&app, &app.viewer).await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": CREATE } }),
    )
    .await;
    let answer = next(&mut socket).await.expect("an answer");
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{answer}"
    );

    // A batch is refused whole, for anyone.
    let client = reqwest::Client::new();
    for token in [&app.viewer, &app.admin] {
        let response = client
            .post(format!("http://{}/graphql", app.address))
            .bearer_auth(token)
            .json(&json!([{ "query": CREATE }, { "query": CREATE }]))
            .send()
            .await
            .expect("batch");
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(code(&body), "BAD_REQUEST", "{body}");
    }
    assert_eq!(app.event_count().await, events, "nothing may be written");
}

#[tokio::test]
async fn other_origins_get_no_cors_grant() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/graphql", app.address);
    let preflight = client
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "http://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
        .expect("preflight");
    let post = client
        .post(&url)
        .header("Origin", "http://evil.example")
        .bearer_auth(&app.admin)
        .json(&json!({ "query": "{ exchanges { id } }" }))
        .send()
        .await
        .expect("post");
    for response in [&preflight, &post] {
        let granted: Vec<_> = response
            .headers()
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .collect();
        assert!(granted.is_empty(), "{granted:?}");
    }
}

/// POSTs `body` to `/auth/<path>` with `token`; the status and the JSON answer (if any).
async fn auth_post(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://{}/auth/{path}", app.address))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("auth endpoint");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A token replayed after its user logged out, or after the password changed, gets
/// nothing: not over HTTP, not on a WebSocket opened before (closed with 4403) or after.
/// Every session of the user ends (a JWT holds no session to end alone); a new login
/// works, with the new password only.
#[tokio::test]
async fn tokens_replayed_after_logout_or_a_password_change_get_nothing() {
    use crate::app::VIEWER_PASSWORD;

    let app = TestApp::spawn().await;
    let viewer = app.viewer.clone();
    let second = app.login("viewer", VIEWER_PASSWORD).await;
    let query = "{ exchanges { id } }";
    let (status, body) = app.graphql_as(Some(&viewer), query, json!({})).await;
    assert_eq!((status, body.get("errors")), (200, None), "{body}");
    let mut open = acknowledged(&app, &second).await;

    // Logout (a viewer may: it changes no data) ends both sessions.
    let (status, _) = auth_post(&app, "logout", &viewer, json!({})).await;
    assert_eq!(status, 204);
    for token in [&viewer, &second] {
        let (_, body) = app.graphql_as(Some(token), query, json!({})).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
        let (status, _) = auth_post(&app, "logout", token, json!({})).await;
        assert_eq!(status, 401, "a replayed logout is refused too");
    }
    assert_eq!(
        close_code(&mut open, Duration::from_secs(10)).await,
        Some(4403),
        "the open socket of an ended session is closed"
    );
    let init = json!({ "Authorization": format!("Bearer {second}") });
    let mut late = connect(&app, "graphql-transport-ws", init).await;
    assert_eq!(
        close_code(&mut late, Duration::from_secs(5)).await,
        Some(4403)
    );

    // A new login works; changing the password ends that session too.
    let fresh = app.login("viewer", VIEWER_PASSWORD).await;
    let (_, body) = app.graphql_as(Some(&fresh), query, json!({})).await;
    assert_eq!(body.get("errors"), None, "{body}");
    let new_password = "a-new-viewer-password-2026";
    let wrong = json!({ "currentPassword": "not-the-password", "newPassword": new_password });
    let (status, body) = auth_post(&app, "password", &fresh, wrong).await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &json!("currentPassword"))
    );
    let short = json!({ "currentPassword": VIEWER_PASSWORD, "newPassword": "short" });
    let (status, body) = auth_post(&app, "password", &fresh, short).await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &json!("newPassword"))
    );
    assert!(
        !body.to_string().contains("short"),
        "no password in an error: {body}"
    );
    // Refused changes changed nothing: the session still counts.
    let (_, body) = app.graphql_as(Some(&fresh), query, json!({})).await;
    assert_eq!(body.get("errors"), None, "{body}");
    let change = json!({ "currentPassword": VIEWER_PASSWORD, "newPassword": new_password });
    let (status, _) = auth_post(&app, "password", &fresh, change).await;
    assert_eq!(status, 204);
    let (_, body) = app.graphql_as(Some(&fresh), query, json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let old = reqwest::Client::new()
        .post(format!("http://{}/auth/login", app.address))
        .json(&json!({ "username": "viewer", "password": VIEWER_PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(old.status(), 401, "the old password no longer logs in");
    let renewed = app.login("viewer", new_password).await;
    let (_, body) = app.graphql_as(Some(&renewed), query, json!({})).await;
    assert_eq!(body.get("errors"), None, "{body}");
    // The admin's sessions are untouched.
    let (_, body) = app.graphql_as(Some(&app.admin), query, json!({})).await;
    assert_eq!(body.get("errors"), None, "{body}");
}
