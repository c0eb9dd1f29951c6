//! PostgreSQL going away and coming back while the service runs: requests fail at once
//! with UNAVAILABLE (an outside probe found them hanging 10 s, then INTERNAL), `/readyz`
//! says not ready, and everything resumes by itself when it returns.
//!
//! Three outages: a TCP relay in front of the shared test cluster that drops every
//! connection and refuses new ones, as a broken network does (stopping the shared
//! cluster itself would take down every other test); the service's embedded cluster
//! stopped with `pg_ctl`; and an external cluster of the test's own (given by
//! `DATABASE_URL`) stopped with `pg_ctl`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use anytrade::config::Redacted;
use anytrade::db::embedded::EmbeddedPostgres;

use crate::app::TestApp;
use crate::helpers::{fresh_database_url, poll_until};

/// Relays connections to `upstream` while up; while down, drops the ones open and
/// closes new ones as they come.
pub(crate) struct Relay {
    address: SocketAddr,
    up: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl Relay {
    pub(crate) async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let address = listener.local_addr().expect("relay address");
        let up = Arc::new(AtomicBool::new(true));
        let (cut, cuts) = watch::channel(0u64);
        let accepting = up.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let mut cuts = cuts.clone();
                cuts.borrow_and_update(); // only cuts from now on end this connection
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Self { address, up, cut }
    }

    pub(crate) fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    pub(crate) fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// A fresh database reached through a [`Relay`]: the relay, and the URL through it.
pub(crate) async fn relayed_database() -> (Relay, String) {
    let direct = fresh_database_url().await;
    let mut url = url::Url::parse(&direct).expect("database URL");
    let upstream: SocketAddr = format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(5432)
    )
    .parse()
    .expect("upstream address");
    let relay = Relay::start(upstream).await;
    url.set_port(Some(relay.address.port())).expect("port");
    (relay, url.to_string())
}

async fn readyz(app: &TestApp) -> (u16, Duration) {
    let started = Instant::now();
    let status = reqwest::get(format!("http://{}/readyz", app.address))
        .await
        .expect("readyz")
        .status()
        .as_u16();
    (status, started.elapsed())
}

const CREATE: &str = r#"mutation { createExchange(input: { name: "kraken" }) { id } }"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_fails_requests_at_once_and_passes_by_itself() {
    let (relay, through_relay) = relayed_database().await;
    let app = TestApp::spawn_with(move |settings| {
        settings.runtime.manage = false;
        settings.monitor.enabled = false;
        settings.database_url = Some(Redacted::from(through_relay));
    })
    .await;
    app.query(CREATE, json!({})).await;
    assert_eq!(readyz(&app).await.0, 200);

    relay.down();
    // Within a few seconds the service knows, and then answers at once.
    let cut = Instant::now();
    let deadline = cut + Duration::from_secs(10);
    while readyz(&app).await.0 != 503 {
        assert!(Instant::now() < deadline, "/readyz never said not ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("/readyz said 503 {:?} after the cut", cut.elapsed());
    let (status, took) = readyz(&app).await;
    assert_eq!(status, 503);
    assert!(took < Duration::from_secs(3), "/readyz took {took:?}");
    for query in [CREATE, "{ exchanges { id } }"] {
        let started = Instant::now();
        let (status, body) = app.graphql_as(Some(&app.admin), query, json!({})).await;
        let took = started.elapsed();
        assert_eq!(status, 503, "{query}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAVAILABLE",
            "{body}"
        );
        assert!(took < Duration::from_secs(3), "{query} took {took:?}");
    }

    relay.restore();
    let restored = Instant::now();
    let deadline = restored + Duration::from_secs(15);
    loop {
        let (status, body) = app.graphql_as(Some(&app.admin), CREATE, json!({})).await;
        if status == 200 && body.get("errors").is_none() {
            break;
        }
        assert!(Instant::now() < deadline, "never recovered: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "a create succeeded {:?} after the database returned",
        restored.elapsed()
    );
    assert_eq!(readyz(&app).await.0, 200);
    // Both creates that were acknowledged are there, and only those.
    let listed: Value = app.query("{ exchanges { id } }", json!({})).await;
    assert_eq!(
        listed["exchanges"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
}

/// The real binary on its embedded cluster, stopped with `pg_ctl stop -m fast` and
/// started again while the service runs: requests answer UNAVAILABLE meanwhile, and
/// afterwards the service works on without a restart; a subscriber that resumes from the
/// last position it saw gets every event after it, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_cluster_stopped_and_started_again_is_used_again_by_itself() {
    let data = crate::cli::data_dir();
    let cluster = EmbeddedPostgres::new(data.path(), None).expect("the embedded cluster");
    stopped_and_started_again(&data, &cluster, None).await;
}

/// The same with an external cluster: a PostgreSQL of its own, which the service is
/// given by `DATABASE_URL` and does not manage, stopped and started with `pg_ctl`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_cluster_stopped_and_started_again_is_used_again_by_itself() {
    let elsewhere = crate::cli::data_dir();
    let cluster = EmbeddedPostgres::new(elsewhere.path(), None).expect("a cluster");
    cluster.start().await.expect("pg_ctl start");
    // Its socket is in its own directory (the `host` parameter; the URL needs a host
    // too, which it overrides); the service connects as to any server.
    let url = format!(
        "postgres://anytrade@localhost/anytrade?host={}&port=5432",
        cluster.cluster_dir().display()
    );
    let data = crate::cli::data_dir();
    stopped_and_started_again(&data, &cluster, Some(&url)).await;
    cluster.stop().await.expect("pg_ctl stop");
}

/// Runs the service on `data` (and `database_url`, else its embedded cluster), stops
/// `cluster` under it and starts it again.
async fn stopped_and_started_again(
    data: &tempfile::TempDir,
    cluster: &EmbeddedPostgres,
    database_url: Option<&str>,
) {
    use crate::cli::{admin_token, free_port, spawn_serve_with, terminate};
    use crate::graphql_subscriptions::{Socket, acknowledged_at, next, subscribe};

    let port = free_port();
    let address = format!("127.0.0.1:{port}");
    let base = format!("http://{address}");
    let key = anytrade::crypto::Keyring::generate_key();
    let env: Vec<(&str, &str)> = database_url
        .map(|url| ("DATABASE_URL", url))
        .into_iter()
        .collect();
    let server = spawn_serve_with(data.path(), port, &key, &env);
    let token = admin_token(&base, "first-admin-password").await;
    let http = reqwest::Client::new();
    let post = |query: &'static str| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        async move {
            let response = http
                .post(format!("{base}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": query }))
                .send()
                .await
                .expect("graphql");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("JSON body"))
        }
    };
    let follow = |after: Option<i64>| {
        let (address, token) = (address.clone(), token.clone());
        async move {
            let mut socket = acknowledged_at(&address, &token).await;
            subscribe(&mut socket, after).await;
            socket
        }
    };
    async fn event(socket: &mut Socket) -> Option<Value> {
        let message = next(socket).await?;
        (message["type"] == "next").then(|| message["payload"]["data"]["events"].clone())
    }

    let (status, body) = post(CREATE).await;
    assert_eq!((status, body.get("errors")), (200, None), "{body}");
    let mut socket = follow(Some(0)).await;
    let first = event(&mut socket).await.expect("the first create's event");
    let seen = first["position"].as_i64().expect("position");

    cluster.stop().await.expect("pg_ctl stop");
    let stopped = Instant::now();
    poll_until(
        Duration::from_secs(10),
        Duration::from_millis(100),
        || async {
            let status = http
                .get(format!("{base}/readyz"))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .ok();
            if status == Some(503) {
                Ok(())
            } else {
                Err(format!("{status:?}"))
            }
        },
    )
    .await;
    eprintln!("/readyz said 503 {:?} after pg_ctl stop", stopped.elapsed());
    let (status, body) = post(CREATE).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{body}"
    );

    cluster.start().await.expect("pg_ctl start");
    let back = Instant::now();
    let created = poll_until(
        Duration::from_secs(30),
        Duration::from_millis(100),
        || async {
            match post(CREATE).await {
                (200, body) if body.get("errors").is_none() => Ok(body),
                (status, body) => Err(format!("{status}: {body}")),
            }
        },
    )
    .await;
    eprintln!("a create succeeded {:?} after pg_ctl start", back.elapsed());
    let id = created["data"]["createExchange"]["id"].clone();

    // The open subscription may have ended with the outage; from the last position it
    // saw, a subscriber gets the new event, and nothing it had already.
    let after_outage = match event(&mut socket).await {
        Some(event) => {
            eprintln!("the open subscription delivered the event after the outage");
            event
        }
        None => {
            eprintln!("the subscription ended with the outage; resumed after {seen}");
            let mut resumed = follow(Some(seen)).await;
            event(&mut resumed)
                .await
                .expect("the event after the outage")
        }
    };
    assert_eq!(after_outage["aggregateId"], id, "{after_outage}");
    assert!(after_outage["position"].as_i64() > Some(seen));
    let (status, body) = post("{ exchanges { id } }").await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["exchanges"].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );

    let log = tokio::task::spawn_blocking(move || terminate(server))
        .await
        .expect("join");
    assert!(!log.contains("panicked"), "{log}");
}
