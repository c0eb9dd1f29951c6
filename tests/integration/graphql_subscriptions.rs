//! Subscriptions over WebSocket: authenticated in `connection_init`, live events reach
//! subscribers, and a reconnect that resumes from the last position it saw misses
//! nothing and repeats nothing.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::app::TestApp;
use crate::graphql_limits::Healthz;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(app: &TestApp, protocol: &str, init: Value) -> Socket {
    connect_to(&app.address.to_string(), protocol, init).await
}

/// A socket to the service at `address` (`host:port`), `connection_init` sent.
pub async fn connect_to(address: &str, protocol: &str, init: Value) -> Socket {
    let mut request = format!("ws://{address}/graphql/ws")
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": init }),
    )
    .await;
    socket
}

pub async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .expect("send");
}

/// The next JSON message, skipping keep-alives; `None` when the socket closes or nothing
/// arrives within 10 s.
pub async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .ok()??
            .ok()?;
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).expect("json message");
                if matches!(value["type"].as_str(), Some("ka" | "ping" | "pong")) {
                    continue;
                }
                return Some(value);
            }
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

async fn create_exchange(app: &TestApp) -> String {
    app.query(
        r#"mutation { createExchange(input: { name: "kraken" }) { id } }"#,
        json!({}),
    )
    .await["createExchange"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

const SUBSCRIBE: &str = "subscription($after: Int) { events(after: $after, filter: { aggregateTypes: [\"exchange\"] }) { position eventType aggregateId } }";

pub(crate) async fn subscribe(socket: &mut Socket, after: Option<i64>) {
    send(
        socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIBE, "variables": { "after": after } } }),
    )
    .await;
}

/// The `events` payload of the next `next` message.
async fn next_event(socket: &mut Socket) -> Value {
    let message = next(socket).await.expect("an event arrives");
    assert_eq!(message["type"], "next", "{message}");
    message["payload"]["data"]["events"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_and_a_gap_free_resume() {
    let app = TestApp::spawn().await;
    let auth = json!({ "Authorization": format!("Bearer {}", app.admin) });
    let mut socket = connect(&app, "graphql-transport-ws", auth.clone()).await;
    assert_eq!(
        next(&mut socket).await.expect("ack")["type"],
        "connection_ack"
    );
    // From the start of the log (empty so far), so the subscription cannot miss the
    // first event however long it takes to register.
    subscribe(&mut socket, Some(0)).await;

    let first = create_exchange(&app).await;
    let event = next_event(&mut socket).await;
    assert_eq!(event["eventType"], "ExchangeCreated");
    assert_eq!(event["aggregateId"], first.as_str());
    let mut seen = vec![event["position"].as_i64().expect("position")];

    // Disconnect; changes keep happening meanwhile.
    drop(socket);
    for _ in 0..3 {
        create_exchange(&app).await;
    }
    let mut socket = connect(&app, "graphql-transport-ws", auth).await;
    assert_eq!(
        next(&mut socket).await.expect("ack")["type"],
        "connection_ack"
    );
    subscribe(&mut socket, seen.last().copied()).await;
    for _ in 0..3 {
        seen.push(
            next_event(&mut socket).await["position"]
                .as_i64()
                .expect("position"),
        );
    }
    // And live again after the catch-up.
    create_exchange(&app).await;
    seen.push(
        next_event(&mut socket).await["position"]
            .as_i64()
            .expect("position"),
    );

    let all = app
        .query(
            "{ events(filter: { aggregateTypes: [\"exchange\"] }, first: 100) { position } }",
            json!({}),
        )
        .await;
    let expected: Vec<i64> = all["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["position"].as_i64().expect("position"))
        .collect();
    assert_eq!(
        seen, expected,
        "the resumed stream must equal the log: no gap, no duplicate"
    );
}

#[tokio::test]
async fn connection_init_without_a_valid_token_is_refused() {
    let app = TestApp::spawn().await;
    for init in [
        json!({}),
        json!({ "Authorization": "Bearer forged.token.value" }),
    ] {
        let mut socket = connect(&app, "graphql-transport-ws", init.clone()).await;
        let answer = next(&mut socket).await;
        assert!(
            answer
                .as_ref()
                .is_none_or(|m| m["type"] != "connection_ack"),
            "{init} was acknowledged: {answer:?}"
        );
    }
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_works_too() {
    let app = TestApp::spawn().await;
    let auth = json!({ "Authorization": format!("Bearer {}", app.viewer) });
    let mut socket = connect(&app, "graphql-ws", auth).await;
    assert_eq!(
        next(&mut socket).await.expect("ack")["type"],
        "connection_ack"
    );
    send(
        &mut socket,
        json!({ "id": "1", "type": "start", "payload": { "query": SUBSCRIBE, "variables": { "after": 0 } } }),
    )
    .await;
    let id = create_exchange(&app).await;
    let message = next(&mut socket).await.expect("data");
    assert_eq!(message["type"], "data", "{message}");
    assert_eq!(
        message["payload"]["data"]["events"]["aggregateId"],
        id.as_str()
    );
}

#[tokio::test]
async fn event_filters_take_known_type_names_only() {
    let app = TestApp::spawn().await;
    let exchange = create_exchange(&app).await;
    app.query(
        "mutation($id: ID!) { updateExchange(id: $id, input: { testMode: false }) { id } }",
        json!({ "id": exchange }),
    )
    .await;

    const EVENTS: &str =
        "query($filter: EventFilter) { events(filter: $filter, first: 100) { eventType } }";
    let typo = json!({ "filter": { "eventTypes": ["ExchangeCreated", "ExchangeCreatd"] } });
    let error = app.query_error(EVENTS, typo).await;
    assert_eq!(error["code"], "VALIDATION", "{error}");
    assert_eq!(error["field"], "filter.eventTypes[1]", "{error}");
    let plural = json!({ "filter": { "aggregateTypes": ["exchanges"] } });
    let error = app.query_error(EVENTS, plural).await;
    assert_eq!(error["field"], "filter.aggregateTypes[0]", "{error}");

    let created = json!({ "filter": { "eventTypes": ["ExchangeCreated"] } });
    let events = app.query(EVENTS, created).await;
    let types: Vec<&str> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["eventType"].as_str().expect("type"))
        .collect();
    assert_eq!(types, ["ExchangeCreated"]);
}

/// A graphql-transport-ws socket whose `connection_init` with `token` was acknowledged.
pub(crate) async fn acknowledged(app: &TestApp, token: &str) -> Socket {
    acknowledged_at(&app.address.to_string(), token).await
}

/// A graphql-transport-ws socket to `address` (`host:port`) whose `connection_init` with
/// `token` was acknowledged.
pub(crate) async fn acknowledged_at(address: &str, token: &str) -> Socket {
    let init = json!({ "Authorization": format!("Bearer {token}") });
    let mut socket = connect_to(address, "graphql-transport-ws", init).await;
    let ack = next(&mut socket).await.expect("an answer");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    socket
}

#[tokio::test]
async fn a_socket_whose_user_was_deleted_may_start_no_more_operations() {
    let app = TestApp::spawn().await;
    let mut socket = acknowledged(&app, &app.viewer).await;
    sqlx::query("DELETE FROM users WHERE username = 'viewer'")
        .execute(&app.pool)
        .await
        .expect("delete the viewer");
    // The user is read again within a few seconds; each new operation checks it (and
    // the socket itself is closed at its next check, which may come first).
    tokio::time::sleep(anytrade::auth::current::RECHECK_AFTER + Duration::from_millis(500)).await;
    subscribe(&mut socket, None).await;
    let answer = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text)))
                    if matches!(
                        serde_json::from_str::<Value>(&text)
                            .ok()
                            .as_ref()
                            .and_then(|v| v["type"].as_str()),
                        Some("ka" | "ping" | "pong")
                    ) => {}
                other => return other,
            }
        }
    })
    .await
    .expect("an answer in time");
    match answer {
        Some(Ok(Message::Text(text))) => {
            let answer: Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(answer["payload"]["data"], Value::Null, "{answer}");
            assert_eq!(
                answer["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
                "{answer}"
            );
        }
        Some(Ok(Message::Close(frame))) => {
            assert_eq!(frame.map(|f| u16::from(f.code)), Some(4403));
        }
        other => panic!("neither refused nor closed: {other:?}"),
    }
}

/// The code of the close frame the server sends next (skipping other messages); `None`
/// when none comes within `within`.
pub(crate) async fn close_code(socket: &mut Socket, within: Duration) -> Option<u16> {
    tokio::time::timeout(within, async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
}

#[tokio::test]
async fn the_handshake_closes_with_the_codes_the_protocol_names() {
    let app = TestApp::spawn().await;
    let open = |init: Option<Value>| {
        let app = &app;
        async move {
            let mut request = format!("ws://{}/graphql/ws", app.address)
                .into_client_request()
                .expect("request");
            request.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                "graphql-transport-ws".parse().expect("header"),
            );
            let (mut socket, _) = tokio_tungstenite::connect_async(request)
                .await
                .expect("connect");
            if let Some(init) = init {
                send(
                    &mut socket,
                    json!({ "type": "connection_init", "payload": init }),
                )
                .await;
            }
            socket
        }
    };
    // A refused token: 4403.
    let mut refused = open(Some(
        json!({ "Authorization": "Bearer forged.token.value" }),
    ))
    .await;
    assert_eq!(
        close_code(&mut refused, Duration::from_secs(5)).await,
        Some(4403)
    );
    // A subscribe before connection_init: 4401.
    let mut early = open(None).await;
    subscribe(&mut early, None).await;
    assert_eq!(
        close_code(&mut early, Duration::from_secs(5)).await,
        Some(4401)
    );
    // Nothing at all: 4408 once the initialisation timeout has passed.
    let mut silent = open(None).await;
    let within = anytrade::graphql::INIT_TIMEOUT + Duration::from_secs(5);
    assert_eq!(close_code(&mut silent, within).await, Some(4408));
}

#[tokio::test]
async fn a_message_over_the_size_limit_ends_the_socket() {
    let app = TestApp::spawn().await;
    let mut socket = acknowledged(&app, &app.admin).await;
    let padding = "x".repeat(300 * 1024);
    let subscribe = json!({ "id": "1", "type": "subscribe",
        "payload": { "query": SUBSCRIBE, "variables": { "padding": padding } } });
    // The server may close before the whole message is sent.
    let _ = socket.send(Message::text(subscribe.to_string())).await;
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "a 300 KiB message was taken");
}

/// A socket lasts as long as its token: once the token has expired (past the clock
/// leeway) or its user is deleted, the running subscription ends with 4403.
#[tokio::test]
async fn a_running_subscription_ends_when_its_token_expires_or_its_user_goes() {
    use anytrade::auth::current::RECHECK_AFTER;
    use anytrade::auth::{LEEWAY_SECONDS, Role, TOKEN_LIFETIME, TokenKeys};

    let app = TestApp::spawn().await;
    let admin: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE username = 'admin'")
        .fetch_one(&app.pool)
        .await
        .expect("the admin");
    // Issued so that it expired long enough ago to be good for about 5 s more.
    let issued =
        chrono::Utc::now() - TOKEN_LIFETIME + chrono::Duration::seconds(5 - LEEWAY_SECONDS as i64);
    let expiring = TokenKeys::from_settings(&app.settings)
        .expect("keys")
        .issue_at(admin, "admin", Role::Admin, 0, issued)
        .expect("sign")
        .token;
    let mut socket = acknowledged(&app, &expiring).await;
    subscribe(&mut socket, None).await;
    assert_eq!(
        close_code(&mut socket, Duration::from_millis(3500)).await,
        None,
        "closed while the token was good"
    );
    assert_eq!(
        close_code(&mut socket, Duration::from_secs(2) + RECHECK_AFTER * 2).await,
        Some(4403)
    );

    let mut socket = acknowledged(&app, &app.viewer).await;
    subscribe(&mut socket, None).await;
    sqlx::query("DELETE FROM users WHERE username = 'viewer'")
        .execute(&app.pool)
        .await
        .expect("delete the viewer");
    assert_eq!(close_code(&mut socket, RECHECK_AFTER * 3).await, Some(4403));
}

/// An upgraded WebSocket holds its connection's slot for as long as it lasts: with two
/// slots and two sockets open, nothing else is served until one closes.
#[tokio::test]
async fn open_websockets_count_against_the_connection_limit() {
    let app = TestApp::spawn_with(|settings| {
        settings.runtime.manage = false;
        settings.monitor.enabled = false;
        settings.http.max_connections = 2;
    })
    .await;
    let mut first = acknowledged(&app, &app.admin).await;
    let _second = acknowledged(&app, &app.admin).await;
    let healthz = Healthz::of(&app);
    assert!(
        !healthz.served_now().await,
        "served beside two open sockets with two slots"
    );
    first.close(None).await.expect("close");
    assert_eq!(
        healthz.served_within(Duration::from_secs(10)).await,
        Some(200),
        "the closed socket's slot stayed taken"
    );
}
