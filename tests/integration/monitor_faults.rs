//! Bots whose freqtrade misbehaves: one answers too slowly, one with garbage, two with
//! HTTP 500, beside healthy bots of the fleet simulator. The monitors mark the faulty
//! ones unhealthy and back off from them, and the healthy ones are checked and synced as
//! often as ever: a bad bot slows nothing else down. And when the control plane's own
//! database goes away for a while, the monitors carry on once it is back: healthy bots
//! stay RUNNING and HEALTHY, and their trades sync again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anytrade::crypto::Keyring;
use anytrade_aggregates::values::BotId;
use anytrade_exchange_sim::fleet::{FleetConfig, fleet_router};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::TestApp;
use crate::fleet_bots::SimulatedBots;

const BOTS: u32 = 12;
const PASSWORD: &str = "fleet-password";

/// How a bot of the fleet misbehaves.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Answers after this long (beyond the monitor's request timeout).
    Slow(Duration),
    /// Answers 200 with a body that is not JSON.
    Garbage,
    /// Answers 500.
    ServerError,
}

const FAULTY: [(u32, Fault); 4] = [
    (8, Fault::Slow(Duration::from_secs(5))),
    (9, Fault::Garbage),
    (10, Fault::ServerError),
    (11, Fault::ServerError),
];

/// Requests each bot received, and the faults to inject.
#[derive(Default)]
struct Injector {
    requests: Mutex<HashMap<u32, u64>>,
}

/// Counts each request by bot and answers as its fault says.
async fn inject(State(injector): State<Arc<Injector>>, request: Request, next: Next) -> Response {
    let bot = request
        .uri()
        .path()
        .strip_prefix("/bots/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|n| n.parse::<u32>().ok());
    let Some(bot) = bot else {
        return next.run(request).await;
    };
    if let Ok(mut requests) = injector.requests.lock() {
        *requests.entry(bot).or_default() += 1;
    }
    match FAULTY.iter().find(|(n, _)| *n == bot).map(|(_, f)| *f) {
        None => next.run(request).await,
        Some(Fault::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        Some(Fault::Garbage) => {
            (StatusCode::OK, Body::from("{\"status\": pong <html>")).into_response()
        }
        Some(Fault::ServerError) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The fleet simulator behind the injector, on a port of its own.
async fn faulty_fleet() -> (String, Arc<Injector>) {
    let injector = Arc::new(Injector::default());
    let config = FleetConfig {
        bots: BOTS,
        username: "anytrade".into(),
        password: PASSWORD.into(),
        trade_period: Duration::from_secs(2),
        hold: Duration::from_secs(1),
        seed: 7,
    };
    let router = fleet_router(config).layer(axum::middleware::from_fn_with_state(
        injector.clone(),
        inject,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the fleet");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (base, injector)
}

/// Bot `n` of the fleet, recorded as running at its simulated API (no runtime runs it).
async fn seed(app: &TestApp, base: &str) -> Vec<BotId> {
    let key = app
        .settings
        .encryption_key
        .as_ref()
        .expect("key")
        .expose()
        .to_owned();
    let keys = Keyring::from_base64(Some(&key), &[]).expect("keyring");
    let exchange = app
        .query(
            "mutation { createExchange(input: { name: \"binance\" }) { id } }",
            json!({}),
        )
        .await["createExchange"]["id"]
        .as_str()
        .expect("exchange")
        .parse()
        .expect("uuid");
    let strategy = app
        .query(
            "mutation($code: String!) { createStrategy(input: { name: \"fleet\", code: $code }) { id } }",
            json!({ "code": "from freqtrade.strategy import IStrategy\n\nclass Fleet(IStrategy):\n    pass\n" }),
        )
        .await["createStrategy"]["id"]
        .as_str()
        .expect("strategy")
        .parse()
        .expect("uuid");
    let fleet = SimulatedBots {
        base,
        password: PASSWORD,
        exchange,
        strategy,
    };
    fleet
        .record(&app.commands(), &app.pool, &keys, BOTS as usize)
        .await
}

fn counts(injector: &Injector) -> HashMap<u32, u64> {
    injector
        .requests
        .lock()
        .map(|r| r.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_garbage_and_failing_bots_are_backed_off_and_slow_nothing_else() {
    let (base, injector) = faulty_fleet().await;
    let app = TestApp::spawn_with(|settings| {
        settings.runtime.manage = false;
        settings.monitor.enabled = true;
        settings.monitor.health_interval_secs = 1;
        settings.monitor.trade_sync_interval_secs = 1;
        settings.monitor.request_timeout_secs = 1;
        settings.monitor.unhealthy_after = 2;
        settings.monitor.stop_after = 10_000;
    })
    .await;
    let ids = seed(&app, &base).await;

    // Long enough for the faulty bots to fail a few times and be backed off.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let before = counts(&injector);
    let window = Duration::from_secs(8);
    tokio::time::sleep(window).await;
    let after = counts(&injector);
    let in_window =
        |n: u32| after.get(&n).copied().unwrap_or(0) - before.get(&n).copied().unwrap_or(0);
    let is_faulty = |n: u32| FAULTY.iter().any(|(f, _)| *f == n);
    let mut healthy: Vec<u64> = (0..BOTS)
        .filter(|n| !is_faulty(*n))
        .map(in_window)
        .collect();
    healthy.sort_unstable();
    let faulty: Vec<(u32, u64)> = FAULTY.iter().map(|(n, _)| (*n, in_window(*n))).collect();
    eprintln!("requests in {window:?}: healthy bots {healthy:?}, faulty bots {faulty:?}");

    let bots = app
        .query(
            "{ bots(first: 50) { nodes { name status healthStatus lastSeenAt errorMessage } } }",
            json!({}),
        )
        .await["bots"]["nodes"]
        .as_array()
        .expect("bots")
        .clone();
    let now = chrono::Utc::now();
    for bot in &bots {
        let n: u32 = bot["name"]
            .as_str()
            .and_then(|name| name.strip_prefix("fleet-"))
            .and_then(|n| n.parse().ok())
            .expect("fleet bot");
        if is_faulty(n) {
            assert_eq!(bot["healthStatus"], "UNHEALTHY", "{bot}");
        } else {
            assert_eq!(bot["healthStatus"], "HEALTHY", "{bot}");
            let seen: chrono::DateTime<chrono::Utc> = bot["lastSeenAt"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .expect("seen");
            assert!(
                now - seen < chrono::Duration::seconds(4),
                "a healthy bot went unchecked: {bot}"
            );
        }
    }
    // Healthy bots' trades keep arriving.
    for (n, id) in ids.iter().enumerate() {
        if is_faulty(n as u32) {
            continue;
        }
        let trades = app
            .query(
                "query($id: ID!) { trades(botId: $id, first: 1) { totalCount } }",
                json!({ "id": id.to_string() }),
            )
            .await["trades"]["totalCount"]
            .as_i64()
            .unwrap_or(0);
        assert!(trades > 0, "bot {n} has no trades synced");
    }
    // Backed off: each faulty bot is asked far less than the quietest healthy one.
    let quietest = healthy[0];
    for (n, requests) in &faulty {
        assert!(
            requests * 2 <= quietest,
            "faulty bot {n}: {requests} requests in {window:?}, healthy at least {quietest}"
        );
    }
}

/// The healthy fleet bots' (status, health, last seen, trades), by name.
async fn healthy_bots(app: &TestApp, ids: &[BotId]) -> Vec<(String, String, String, i64)> {
    let mut seen = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        if FAULTY.iter().any(|(f, _)| *f as usize == n) {
            continue;
        }
        let data = app
            .query(
                "query($id: ID!) { bot(id: $id) { status healthStatus lastSeenAt } trades(botId: $id, first: 1) { totalCount } }",
                json!({ "id": id.to_string() }),
            )
            .await;
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        seen.push((
            text(&data["bot"]["status"]),
            text(&data["bot"]["healthStatus"]),
            text(&data["bot"]["lastSeenAt"]),
            data["trades"]["totalCount"].as_i64().unwrap_or(0),
        ));
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitors_carry_on_after_the_control_planes_database_returns() {
    let (relay, through_relay) = crate::database_outage::relayed_database().await;
    let (base, _injector) = faulty_fleet().await;
    let app = TestApp::spawn_with(move |settings| {
        settings.runtime.manage = false;
        settings.monitor.enabled = true;
        settings.monitor.health_interval_secs = 1;
        settings.monitor.trade_sync_interval_secs = 1;
        settings.monitor.request_timeout_secs = 1;
        settings.monitor.unhealthy_after = 2;
        settings.monitor.stop_after = 10_000;
        settings.database_url = Some(anytrade::config::Redacted::from(through_relay));
    })
    .await;
    let ids = seed(&app, &base).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let before = healthy_bots(&app, &ids).await;
    assert!(
        before.iter().all(|b| b.0 == "RUNNING" && b.1 == "HEALTHY"),
        "{before:?}"
    );

    relay.down();
    tokio::time::sleep(Duration::from_secs(5)).await;
    relay.restore();
    let back = chrono::Utc::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let after = healthy_bots(&app, &ids).await;
    for (was, now) in before.iter().zip(&after) {
        assert_eq!(
            (now.0.as_str(), now.1.as_str()),
            ("RUNNING", "HEALTHY"),
            "{now:?}"
        );
        let seen: chrono::DateTime<chrono::Utc> = now.2.parse().expect("last seen");
        assert!(
            seen > back,
            "not checked since the database returned: {now:?}"
        );
        assert!(now.3 > was.3, "no trade synced since: {was:?} then {now:?}");
    }
}
