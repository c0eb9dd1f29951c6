//! PostgreSQL going away and coming back while the service runs: requests fail at once
//! with UNAVAILABLE (an outside probe found them hanging 10 s, then INTERNAL), `/readyz`
//! says not ready, and everything resumes by itself when it returns.
//!
//! The outage is a TCP relay in front of the real PostgreSQL that drops every
//! connection and refuses new ones, as a stopped server or a broken network does;
//! stopping the shared test cluster itself would take down every other test.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use anytrade::config::Redacted;

use crate::app::TestApp;
use crate::helpers::fresh_database_url;

/// Relays connections to `upstream` while up; while down, drops the ones open and
/// closes new ones as they come.
struct Relay {
    address: SocketAddr,
    up: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl Relay {
    async fn start(upstream: SocketAddr) -> Self {
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

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
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
    let through_relay = url.to_string();
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
