//! What `/graphql` does with requests that are not what a client should send: an
//! anonymous caller is answered from the headers, bodies are bounded, and every refusal
//! is JSON with a code (an outside probe found a 3 GB service, Rust debug text and 961
//! errors without a code).

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::app::TestApp;

fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Posts `body` as is, with `content_type`, as the admin.
async fn post(app: &TestApp, content_type: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://{}/graphql", app.address))
        .header("content-type", content_type)
        .bearer_auth(&app.admin)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, body)
}

#[tokio::test]
async fn an_anonymous_post_is_answered_without_its_body_being_read() {
    let app = TestApp::spawn().await;
    // A body of 300 MB is announced; only its first bytes are ever sent.
    let head = "POST /graphql HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n\
                content-length: 300000000\r\n\r\n{\"query\": \"";
    let answer = answer_to(
        app.address,
        head,
        "UNAUTHENTICATED",
        Duration::from_secs(10),
    )
    .await
    .expect("no answer before the body");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Sends `head` (and no more) on a new connection and reads until the answer holds
/// `until`; `None` if it does not within `within`.
async fn answer_to(
    address: std::net::SocketAddr,
    head: &str,
    until: &str,
    within: Duration,
) -> Option<String> {
    let mut socket = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    socket.write_all(head.as_bytes()).await.expect("send head");
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            let n = socket.read(&mut chunk).await.unwrap_or(0);
            answer.extend_from_slice(&chunk[..n]);
            if n == 0 || String::from_utf8_lossy(&answer).contains(until) {
                break;
            }
        }
    })
    .await
    .ok()?;
    Some(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn bodies_content_types_and_json_that_are_not_a_request_are_refused_with_a_code() {
    let app = TestApp::spawn().await;
    let events = app.event_count().await;
    let code = "x".repeat(anytrade::graphql::MAX_BODY);
    let huge = json!({ "query": "mutation($code: String!) { validateStrategy(code: $code) { valid } }",
        "variables": { "code": code } });
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "application/json",
            huge.to_string().into_bytes(),
            413,
            "PAYLOAD_TOO_LARGE",
        ),
        (
            "text/plain",
            br#"{"query": "{ exchanges { id } }"}"#.to_vec(),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            "application/json",
            br#"{"query": "#.to_vec(),
            400,
            "BAD_REQUEST",
        ),
        (
            "application/json",
            br#"[{"query": "{ exchanges { id } }"}]"#.to_vec(),
            400,
            "BAD_REQUEST",
        ),
        ("application/json", b"\xff\xfe".to_vec(), 400, "BAD_REQUEST"),
    ];
    for (content_type, body, status, code) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        let (got, answer) = post(&app, content_type, body).await;
        assert_eq!(got, status, "{shown}: {answer}");
        assert_eq!(codes(&answer), [code], "{shown}: {answer}");
    }
    assert_eq!(app.event_count().await, events, "nothing may be written");
    // Parameters on the media type are fine.
    let (status, answer) = post(
        &app,
        "application/json; charset=utf-8",
        r#"{"query": "{ exchanges { id } }"}"#,
    )
    .await;
    assert_eq!((status, answer.get("errors")), (200, None), "{answer}");
}

#[tokio::test]
async fn every_error_of_a_bad_document_carries_a_code() {
    let app = TestApp::spawn().await;
    let cases = [
        ("{ exchanges { id }", json!({}), "GRAPHQL_PARSE_FAILED"),
        (
            "{ exchanges { nope } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "query($id: ID!) { exchange(id: $id) { id } }",
            json!({ "id": { "not": "an id" } }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "query { exchange(id: $undeclared) { id } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "query($first: Int) { strategies(first: $first) { edges { node { id } } } }",
            json!({ "first": "ten" }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ];
    // Exchange.bots and Bot.exchange nest without end; 14 levels are past the limit.
    let deep = format!(
        "{{ exchanges {{ {}id{} }} }}",
        "bots { exchange { ".repeat(6),
        " } }".repeat(6)
    );
    let deep = [(deep.as_str(), json!({}), "GRAPHQL_VALIDATION_FAILED")];
    for (query, variables, code) in cases.into_iter().chain(deep) {
        let (status, body) = app.graphql_as(Some(&app.admin), query, variables).await;
        assert_eq!(status, 200, "{query}: {body}");
        let got = codes(&body);
        assert!(!got.is_empty(), "{query}: no errors: {body}");
        assert!(got.iter().all(|c| c == code), "{query}: {body}");
    }
}

#[tokio::test]
async fn aliases_cannot_multiply_the_parsing_of_large_code() {
    let app = TestApp::spawn().await;
    let code = format!("# {}\n", "x".repeat(200 * 1024));
    let aliased: String = (0..1000)
        .map(|i| format!("v{i}: validateStrategy(code: $code) {{ valid }} "))
        .collect();
    let query = format!("mutation($code: String!) {{ {aliased} }}");
    let (status, body) = app
        .graphql_as(Some(&app.admin), &query, json!({ "code": code }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(codes(&body), ["GRAPHQL_VALIDATION_FAILED"], "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("too complex"), "{body}");
    // One validation of the largest code allowed is within the limits.
    let code = format!("# {}\n", "x".repeat(1024 * 1024 - 8));
    let data = app
        .query(
            "mutation($code: String!) { validateStrategy(code: $code) { valid errors { message } } }",
            json!({ "code": code }),
        )
        .await;
    assert_eq!(data["validateStrategy"]["valid"], false, "{data}");
}

/// Many validations of the largest code at once wait their turn on the blocking pool:
/// `/healthz` is answered throughout (an outside probe saw it blocked for 32 s when
/// parsing ran on the async workers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_validations_at_once_leave_the_service_answering() {
    let app = TestApp::spawn().await;
    let line = "value = (1 + 2) * [3, 4][0] - call(a, b=c)\n";
    let code = line.repeat((1024 * 1024 - 1024) / line.len());
    let healthz = Healthz::of(&app);
    let query = "mutation($code: String!) { validateStrategy(code: $code) { valid } }";
    let validations: Vec<_> = (0..8)
        .map(|_| app.graphql_as(Some(&app.admin), query, json!({ "code": code })))
        .collect();
    let checks = async {
        let mut answered = Vec::new();
        for _ in 0..20 {
            answered.push(healthz.served_now().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        answered
    };
    let (answers, answered) = tokio::join!(futures::future::join_all(validations), checks);
    for (status, body) in answers {
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["data"]["validateStrategy"]["valid"], false,
            "no strategy class in it: {body}"
        );
    }
    assert!(
        answered.iter().all(|served| *served),
        "/healthz went unanswered (500 ms each) while code was parsed: {answered:?}"
    );
}

/// Reads until the server closes the connection; `None` if it is still open after 10 s.
async fn closed_within(socket: &mut tokio::net::TcpStream) -> Option<Duration> {
    let started = std::time::Instant::now();
    let mut buffer = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    closed.ok().map(|_| started.elapsed())
}

/// `GET /healthz`, each try given 500 ms: whether a connection slot is free.
pub(crate) struct Healthz {
    client: reqwest::Client,
    url: String,
}

impl Healthz {
    pub(crate) fn of(app: &TestApp) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(500))
            .build()
            .expect("client");
        let url = format!("http://{}/healthz", app.address);
        Self { client, url }
    }

    /// Whether one try is answered.
    pub(crate) async fn served_now(&self) -> bool {
        self.client.get(&self.url).send().await.is_ok()
    }

    /// The status of the first try answered within `within`.
    pub(crate) async fn served_within(&self, within: Duration) -> Option<u16> {
        tokio::time::timeout(within, async {
            loop {
                if let Ok(response) = self.client.get(&self.url).send().await {
                    return response.status().as_u16();
                }
            }
        })
        .await
        .ok()
    }
}

#[tokio::test]
async fn a_request_head_that_drips_is_cut_off_and_connections_are_capped() {
    let app = TestApp::spawn_with(|settings| {
        settings.runtime.manage = false;
        settings.monitor.enabled = false;
        settings.http.header_timeout_secs = 3;
        settings.http.max_connections = 4;
    })
    .await;
    // A head that never ends is closed after the header timeout.
    let mut dripping = tokio::net::TcpStream::connect(app.address)
        .await
        .expect("connect");
    dripping
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: test\r\n")
        .await
        .expect("send part of a head");
    let took = closed_within(&mut dripping).await;
    assert!(took.is_some(), "a dripping head was kept open");

    // Four idle connections take every slot: a fifth waits until one goes.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(
            tokio::net::TcpStream::connect(app.address)
                .await
                .expect("connect"),
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let healthz = Healthz::of(&app);
    assert!(!healthz.served_now().await, "a fifth connection was served");
    // The idle ones send no head, so the header timeout frees their slots.
    assert_eq!(
        healthz.served_within(Duration::from_secs(10)).await,
        Some(200),
        "the server never freed a slot"
    );
    drop(idle);
}

#[tokio::test]
async fn a_body_that_drips_is_answered_with_a_timeout() {
    let app = TestApp::spawn().await;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n\
         authorization: Bearer {}\r\ncontent-length: 100\r\n\r\n{{\"query\": ",
        app.admin
    );
    let within = anytrade::graphql::BODY_TIMEOUT + Duration::from_secs(10);
    let answer = answer_to(app.address, &head, "REQUEST_TIMEOUT", within)
        .await
        .expect("no answer to a dripping body");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

/// PostgreSQL stores NUL in neither text nor jsonb: a value holding one, as a variable
/// or an inline literal, is refused before anything runs, naming where it was (the
/// schema fuzzer found these answered INTERNAL).
#[tokio::test]
async fn a_nul_character_anywhere_in_the_input_is_refused_as_validation() {
    let app = TestApp::spawn().await;
    let events = app.event_count().await;
    let create =
        "mutation($c: JSON) { createExchange(input: { name: \"binance\", config: $c }) { id } }";
    let error = app
        .query_error(create, json!({ "c": { "note": "a\u{0}b" } }))
        .await;
    assert_eq!(error["code"], "VALIDATION", "{error}");
    assert_eq!(error["field"], "variables.c.note", "{error}");
    let filter = r#"{ strategies(filter: { nameContains: "a\u0000b" }) { totalCount } }"#;
    let error = app.query_error(filter, json!({})).await;
    assert_eq!(
        (error["code"].clone(), error["field"].clone()),
        (json!("VALIDATION"), json!("query"))
    );
    assert_eq!(app.event_count().await, events, "nothing may be written");
}

/// A keep-alive connection that goes quiet after a request is closed once the header
/// timeout passes without the next request's head, so idle clients cannot hold slots.
#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let app = TestApp::spawn_with(|settings| {
        settings.runtime.manage = false;
        settings.monitor.enabled = false;
        settings.http.header_timeout_secs = 2;
    })
    .await;
    let mut socket = tokio::net::TcpStream::connect(app.address)
        .await
        .expect("connect");
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: test\r\n\r\n")
        .await
        .expect("a request");
    let mut answer = [0u8; 256];
    let read = socket.read(&mut answer).await.expect("an answer");
    assert!(
        String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer[..read])
    );
    let took = closed_within(&mut socket).await;
    eprintln!("an idle keep-alive connection was closed after {took:?}");
    assert!(
        took.is_some_and(|t| t < Duration::from_secs(5)),
        "kept open: {took:?}"
    );
}
