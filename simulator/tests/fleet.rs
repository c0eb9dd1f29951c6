//! The fleet simulator over real HTTP on 127.0.0.1:0, as the control plane's freqtrade
//! client calls it. Trade periods of a second or less let trades open and close within a
//! test; the assertions poll, so a slow machine only makes them slower.

use std::collections::BTreeSet;
use std::time::Duration;

use anytrade_exchange_sim::fleet::{FleetConfig, serve_fleet};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::time::{Instant, sleep};

const USER: &str = "freqtrader";
const PASSWORD: &str = "secret";

struct Fleet {
    base: String,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Fleet {
    async fn start(bots: u32, period_ms: u64, hold_ms: u64) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let config = FleetConfig {
            bots,
            username: USER.to_owned(),
            password: PASSWORD.to_owned(),
            trade_period: Duration::from_millis(period_ms),
            hold: Duration::from_millis(hold_ms),
            seed: 1,
        };
        let task = tokio::spawn(serve_fleet(listener, config, async {
            let _ = stopped.await;
        }));
        Fleet {
            base,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task,
        }
    }

    fn url(&self, bot: u32, path: &str) -> String {
        format!("{}/bots/{bot}/api/v1/{path}", self.base)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        (status, body)
    }

    /// GET with HTTP Basic.
    async fn get(&self, bot: u32, path: &str) -> (StatusCode, Value) {
        self.send(
            self.client
                .get(self.url(bot, path))
                .basic_auth(USER, Some(PASSWORD)),
        )
        .await
    }

    async fn ok(&self, bot: u32, path: &str) -> Value {
        let (status, body) = self.get(bot, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    async fn force_exit(&self, bot: u32, trade: &str) -> (StatusCode, Value) {
        self.send(
            self.client
                .post(self.url(bot, "forceexit"))
                .basic_auth(USER, Some(PASSWORD))
                .json(&json!({ "tradeid": trade, "ordertype": "market" })),
        )
        .await
    }

    async fn stats(&self) -> Value {
        let response = self
            .client
            .get(format!("{}/stats", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Polls `probe` every 50 ms until it gives a value, failing after `limit`.
    async fn wait_for<T, F, Fut>(&self, what: &str, limit: Duration, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(value) = probe().await {
                return value;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

fn ids(trades: &Value) -> Vec<i64> {
    trades
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trade_id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn auth_like_freqtrade() {
    let fleet = Fleet::start(3, 90_000, 45_000).await;
    let client = &fleet.client;

    // /ping is public; everything else needs credentials.
    let (status, body) = fleet.send(client.get(fleet.url(0, "ping"))).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "pong"})));
    let unauthorized = (StatusCode::UNAUTHORIZED, json!({"detail": "Unauthorized"}));
    assert_eq!(
        fleet.send(client.get(fleet.url(0, "status"))).await,
        unauthorized
    );
    let wrong = client
        .get(fleet.url(0, "status"))
        .basic_auth(USER, Some("wrong"));
    assert_eq!(fleet.send(wrong).await, unauthorized);
    assert_eq!(fleet.get(0, "status").await.0, StatusCode::OK);

    // Login takes Basic and gives a token pair.
    let anonymous_login = client.post(fleet.url(1, "token/login"));
    assert_eq!(fleet.send(anonymous_login).await, unauthorized);
    let (status, tokens) = fleet
        .send(
            client
                .post(fleet.url(1, "token/login"))
                .basic_auth(USER, Some(PASSWORD)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let bearer =
        |bot: u32, path: &str, token: &str| client.get(fleet.url(bot, path)).bearer_auth(token);
    assert_eq!(
        fleet.send(bearer(1, "show_config", &access)).await.0,
        StatusCode::OK
    );
    // Each bot has its own tokens, and a refresh token is no access token.
    assert_eq!(
        fleet.send(bearer(2, "show_config", &access)).await,
        unauthorized
    );
    assert_eq!(
        fleet.send(bearer(1, "show_config", &refresh)).await,
        unauthorized
    );
    assert_eq!(
        fleet
            .send(bearer(1, "show_config", "a.1.9999999999.1.00"))
            .await,
        unauthorized
    );

    // Refresh takes the refresh token (only) and gives a new access token.
    let with_access = client
        .post(fleet.url(1, "token/refresh"))
        .bearer_auth(&access);
    assert_eq!(fleet.send(with_access).await, unauthorized);
    let (status, renewed) = fleet
        .send(
            client
                .post(fleet.url(1, "token/refresh"))
                .bearer_auth(&refresh),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(renewed.as_object().unwrap().len(), 1, "{renewed}");
    let renewed = renewed["access_token"].as_str().unwrap();
    assert_ne!(renewed, access);
    assert_eq!(
        fleet.send(bearer(1, "health", renewed)).await.0,
        StatusCode::OK
    );

    // Wrong method: FastAPI's 405.
    let (status, body) = fleet.send(client.get(fleet.url(1, "token/login"))).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"detail": "Method Not Allowed"})
        )
    );
    fleet.stop().await;
}

#[tokio::test]
async fn a_trade_opens_then_closes() {
    let fleet = Fleet::start(2, 1_000, 500).await;
    let limit = Duration::from_secs(10);
    let id = fleet
        .wait_for("an open trade", limit, || async {
            ids(&fleet.ok(1, "status").await).first().copied()
        })
        .await;
    let open = fleet.ok(1, &format!("trade/{id}")).await;
    assert_eq!(open["is_open"], true);
    assert!(open["close_timestamp"].is_null() && open["current_rate"].is_f64());

    let page = fleet
        .wait_for("the trade to close", limit, || async {
            let page = fleet.ok(1, "trades").await;
            ids(&page["trades"]).contains(&id).then_some(page)
        })
        .await;
    let closed = ids(&page["trades"]);
    assert!(
        closed.windows(2).all(|w| w[0] < w[1]),
        "ascending ids: {closed:?}"
    );
    assert_eq!(page["total_trades"], closed.len());
    assert_eq!(page["trades_count"], closed.len());
    assert_eq!(page["offset"], 0);
    let trade = page["trades"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["trade_id"] == id)
        .unwrap();
    assert_eq!(trade["is_open"], false);
    assert_eq!(trade["exit_reason"], "roi");
    assert!(trade["close_timestamp"].as_i64() > trade["open_timestamp"].as_i64());
    assert_eq!(trade["open_timestamp"], open["open_timestamp"]);
    assert_eq!(trade["open_rate"], open["open_rate"]);
    // /trade/{id} agrees, and the id is no longer in /status.
    let detail = fleet.ok(1, &format!("trade/{id}")).await;
    assert_eq!(detail["close_timestamp"], trade["close_timestamp"]);
    assert_eq!(detail["close_profit_abs"], trade["close_profit_abs"]);
    assert!(!ids(&fleet.ok(1, "status").await).contains(&id));
    fleet.stop().await;
}

#[tokio::test]
async fn an_older_trade_closes_after_newer_ones() {
    // Trade 5 holds 3 * (period + hold), so trade 6 closes about 2 s before it.
    let fleet = Fleet::start(1, 1_000, 500).await;
    let limit = Duration::from_secs(20);
    fleet
        .wait_for("trade 6 closed while trade 5 is open", limit, || async {
            let closed = ids(&fleet.ok(0, "trades").await["trades"]);
            assert!(
                !closed.contains(&5) || closed.contains(&6),
                "5 closed first"
            );
            (closed.contains(&6) && !closed.contains(&5)).then_some(())
        })
        .await;
    let five = fleet.ok(0, "trade/5").await;
    assert_eq!(five["is_open"], true, "{five}");

    // Once 5 closes it takes its place by id: everything from offset 4 on has shifted.
    let page = fleet
        .wait_for("trade 5 to close", limit, || async {
            let page = fleet.ok(0, "trades").await;
            ids(&page["trades"]).contains(&5).then_some(page)
        })
        .await;
    let closed = ids(&page["trades"]);
    assert_eq!(&closed[..6], &[1, 2, 3, 4, 5, 6]);
    let five = &page["trades"][4];
    let six = &page["trades"][5];
    assert!(five["close_timestamp"].as_i64() > six["close_timestamp"].as_i64());
    fleet.stop().await;
}

#[tokio::test]
async fn pages_agree_with_total_trades() {
    let fleet = Fleet::start(1, 500, 250).await;
    let limit = Duration::from_secs(20);
    fleet
        .wait_for("nine closed trades", limit, || async {
            let page = fleet.ok(0, "trades?limit=1").await;
            (page["total_trades"].as_u64().unwrap() >= 9).then_some(())
        })
        .await;
    // A trade may close between two requests: retry until a snapshot holds still.
    let mut consistent = false;
    for _ in 0..20 {
        let before = fleet.ok(0, "trades").await;
        let total = before["total_trades"].as_u64().unwrap();
        let mut paged = Vec::new();
        let mut offset = 0;
        let mut same = true;
        loop {
            let page = fleet
                .ok(0, &format!("trades?limit=4&offset={offset}"))
                .await;
            same &= page["total_trades"] == total;
            assert_eq!(page["offset"], offset);
            let page_ids = ids(&page["trades"]);
            assert_eq!(page["trades_count"], page_ids.len());
            assert!(page_ids.len() <= 4);
            if page_ids.is_empty() {
                break;
            }
            paged.extend(page_ids);
            offset += 4;
        }
        let after = fleet.ok(0, "trades").await;
        if same && before == after {
            assert_eq!(paged, ids(&before["trades"]));
            assert_eq!(paged.len() as u64, total);
            consistent = true;
            break;
        }
    }
    assert!(consistent, "the closed trades never held still");
    fleet.stop().await;
}

#[tokio::test]
async fn pages_hold_at_most_500_trades() {
    // A trade a millisecond: thousands within a second or two.
    let fleet = Fleet::start(1, 1, 1).await;
    let limit = Duration::from_secs(20);
    fleet
        .wait_for("600 closed trades", limit, || async {
            let page = fleet.ok(0, "trades?limit=1").await;
            (page["total_trades"].as_u64().unwrap() >= 600).then_some(())
        })
        .await;
    let page = fleet.ok(0, "trades?limit=1000").await;
    assert_eq!(page["trades_count"], 500);
    assert_eq!(page["trades"].as_array().unwrap().len(), 500);
    assert!(page["total_trades"].as_u64().unwrap() >= 600);
    let page = fleet.ok(0, "trades?offset=100&limit=3").await;
    assert_eq!(ids(&page["trades"]), [101, 102, 103]);
    fleet.stop().await;
}

#[tokio::test]
async fn force_exit_closes_an_open_trade_once() {
    // Holds of 30–90 s: nothing closes by itself during the test.
    let fleet = Fleet::start(1, 1_000, 60_000).await;
    let limit = Duration::from_secs(10);
    let id = fleet
        .wait_for("an open trade", limit, || async {
            ids(&fleet.ok(0, "status").await).first().copied()
        })
        .await;
    let (status, body) = fleet.force_exit(0, &id.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "result": format!("Created exit order for trade {id}.") })
    );

    assert!(!ids(&fleet.ok(0, "status").await).contains(&id));
    let trade = fleet.ok(0, &format!("trade/{id}")).await;
    assert_eq!(trade["is_open"], false);
    assert_eq!(trade["exit_reason"], "force_exit");
    assert!(trade["close_timestamp"].is_i64());
    let page = fleet.ok(0, "trades").await;
    assert_eq!(ids(&page["trades"]), [id]);
    assert_eq!(page["total_trades"], 1);
    assert_eq!(page["trades"][0]["orders"][1]["ft_order_tag"], "force_exit");
    assert_eq!(fleet.ok(0, "profit").await["closed_trade_count"], 1);

    // A closed or unknown trade: freqtrade's 502.
    let invalid = (
        StatusCode::BAD_GATEWAY,
        json!({"error": "Error querying /api/v1/forceexit: invalid argument"}),
    );
    assert_eq!(fleet.force_exit(0, &id.to_string()).await, invalid);
    assert_eq!(fleet.force_exit(0, "999999").await, invalid);
    assert_eq!(fleet.force_exit(0, "nonsense").await, invalid);

    // "all" closes every open trade.
    fleet
        .wait_for("another open trade", limit, || async {
            (!ids(&fleet.ok(0, "status").await).is_empty()).then_some(())
        })
        .await;
    let (status, body) = fleet.force_exit(0, "all").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"result": "Created exit orders for all open trades."})
    );
    let count = fleet.ok(0, "count").await;
    // A new trade may have opened in between, but not more than one.
    assert!(count["current"].as_u64().unwrap() <= 1, "{count}");
    fleet.stop().await;
}

#[tokio::test]
async fn unknown_bots_paths_and_trades() {
    let fleet = Fleet::start(2, 90_000, 45_000).await;
    let not_found = (StatusCode::NOT_FOUND, json!({"detail": "Not Found"}));
    assert_eq!(fleet.get(2, "ping").await, not_found);
    assert_eq!(fleet.get(u32::MAX, "status").await, not_found);
    assert_eq!(fleet.get(0, "balance").await, not_found);
    let (status, body) = fleet
        .send(
            fleet
                .client
                .get(format!("{}/bots/abc/api/v1/ping", fleet.base)),
        )
        .await;
    assert_eq!((status, body), not_found);
    let (status, body) = fleet
        .send(fleet.client.get(format!("{}/api/v1/ping", fleet.base)))
        .await;
    assert_eq!((status, body), not_found);

    let trade_not_found = (StatusCode::NOT_FOUND, json!({"detail": "Trade not found."}));
    assert_eq!(fleet.get(0, "trade/999999").await, trade_not_found);
    assert_eq!(fleet.get(0, "trade/0").await, trade_not_found);
    assert_eq!(fleet.get(0, "trade/-3").await, trade_not_found);
    let (status, body) = fleet.get(0, "trade/abc").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["path", "tradeid"]));
    let (status, _) = fleet.get(0, "trades?limit=ten").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    fleet.stop().await;
}

#[tokio::test]
async fn stats_count_requests() {
    let fleet = Fleet::start(4, 90_000, 45_000).await;
    for _ in 0..3 {
        fleet.ok(0, "ping").await;
    }
    fleet.ok(1, "status").await;
    fleet.ok(3, "status").await;
    let anonymous = fleet.client.get(fleet.url(2, "status"));
    assert_eq!(fleet.send(anonymous).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(fleet.get(9, "status").await.0, StatusCode::NOT_FOUND);

    let stats = fleet.stats().await;
    assert_eq!(stats["bots"], 4);
    let by_endpoint = &stats["requests_by_endpoint"];
    assert_eq!(by_endpoint["ping"], 3);
    assert_eq!(
        by_endpoint["status"], 3,
        "counted whether authorised or not"
    );
    assert_eq!(by_endpoint["not_found"], 1);
    assert_eq!(by_endpoint["stats"], 1, "/stats counts itself");
    assert_eq!(by_endpoint["profit"], 0);
    assert_eq!(stats["requests_total"], 8);
    assert_eq!(stats["unauthorized_total"], 1);
    assert!(stats["uptime_secs"].as_f64().unwrap() > 0.0);
    fleet.stop().await;
}

// ---- the JSON the control plane's client parses --------------------------------------------

/// The JSON kind of a value; integers and floats differ (the client reads counts as `u64`).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Records where `ours` differs in shape from freqtrade's recorded `theirs`: the same keys
/// in every object, the same kind for every value freqtrade gave non-null (a null in the
/// recording is an `Option` in the client, so any value is fine there).
fn compare(path: &str, ours: &Value, theirs: &Value, problems: &mut Vec<String>) {
    if theirs.is_null() {
        return;
    }
    if kind(ours) != kind(theirs) {
        problems.push(format!(
            "{path}: {} where freqtrade has {}",
            kind(ours),
            kind(theirs)
        ));
        return;
    }
    match (ours, theirs) {
        (Value::Object(ours), Value::Object(theirs)) => {
            for key in theirs.keys().filter(|k| !ours.contains_key(*k)) {
                problems.push(format!("{path}.{key}: missing"));
            }
            for key in ours.keys().filter(|k| !theirs.contains_key(*k)) {
                problems.push(format!("{path}.{key}: not in freqtrade's answer"));
            }
            for (key, value) in theirs {
                if let Some(mine) = ours.get(key) {
                    compare(&format!("{path}.{key}"), mine, value, problems);
                }
            }
        }
        (Value::Array(ours), Value::Array(theirs)) if !theirs.is_empty() => {
            // Element i against freqtrade's element i, or its last (orders: entry, exit).
            for (i, mine) in ours.iter().enumerate() {
                let reference = &theirs[i.min(theirs.len() - 1)];
                compare(&format!("{path}[{i}]"), mine, reference, problems);
            }
        }
        _ => {}
    }
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../tests/fixtures/freqtrade/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// What `src/freqtrade/models.rs` requires (no `Option`, no `#[serde(default)]`), as
/// (key, kind): these must be present and non-null.
const REQUIRED_TRADE: [(&str, &str); 7] = [
    ("trade_id", "integer"),
    ("pair", "string"),
    ("is_open", "bool"),
    ("amount", "float"),
    ("stake_amount", "float"),
    ("open_rate", "float"),
    ("open_timestamp", "integer"),
];

fn assert_required(what: &str, value: &Value, required: &[(&str, &str)]) {
    for (key, expected) in required {
        assert_eq!(kind(&value[*key]), *expected, "{what}.{key}: {value}");
    }
}

fn assert_shape(what: &str, ours: &Value, fixture_name: &str) {
    let mut problems = Vec::new();
    compare(what, ours, &fixture(fixture_name), &mut problems);
    assert!(
        problems.is_empty(),
        "{what} differs from {fixture_name}.json:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
async fn answers_have_freqtrades_shapes() {
    // Holds of 1.5–4.5 s at one trade a second: open and closed trades side by side.
    let fleet = Fleet::start(1, 1_000, 3_000).await;
    let limit = Duration::from_secs(20);
    let (status, page) = fleet
        .wait_for("open and closed trades", limit, || async {
            let page = fleet.ok(0, "trades").await;
            let status = fleet.ok(0, "status").await;
            let both = !ids(&status).is_empty() && !ids(&page["trades"]).is_empty();
            both.then_some((status, page))
        })
        .await;

    assert_shape("status", &status, "status");
    for trade in status.as_array().unwrap() {
        assert_required("status[]", trade, &REQUIRED_TRADE);
        assert_eq!(trade["is_open"], true);
    }
    assert_shape("trades", &page, "trades");
    assert_required(
        "trades",
        &page,
        &[
            ("trades", "array"),
            ("trades_count", "integer"),
            ("offset", "integer"),
            ("total_trades", "integer"),
        ],
    );
    for trade in page["trades"].as_array().unwrap() {
        assert_required("trades[]", trade, &REQUIRED_TRADE);
        assert_eq!(trade["orders"].as_array().unwrap().len(), 2);
        for order in trade["orders"].as_array().unwrap() {
            assert_eq!(kind(&order["order_id"]), "string");
        }
    }

    let closed_id = ids(&page["trades"])[0];
    let trade = fleet.ok(0, &format!("trade/{closed_id}")).await;
    assert_shape("trade", &trade, "trade");
    assert_required("trade", &trade, &REQUIRED_TRADE);
    // The printed dates are the timestamps' instants, as freqtrade prints them.
    let printed = chrono::NaiveDateTime::parse_from_str(
        trade["close_date"].as_str().unwrap(),
        "%Y-%m-%d %H:%M:%S",
    )
    .unwrap();
    assert_eq!(
        printed.and_utc().timestamp(),
        trade["close_timestamp"].as_i64().unwrap() / 1000
    );
    // An open trade by id has the same shape as in /status. The newest open trade has at
    // least 1.5 s to live: time enough for the checks that need it open.
    let open_id = *ids(&fleet.ok(0, "status").await).last().unwrap();
    let open = fleet.ok(0, &format!("trade/{open_id}")).await;
    assert_eq!(open["is_open"], true);
    assert_shape("trade (open)", &json!([open]), "status");

    let config = fleet.ok(0, "show_config").await;
    assert_shape("show_config", &config, "show_config");
    assert_required(
        "show_config",
        &config,
        &[("api_version", "float"), ("version", "string")],
    );
    assert_eq!(config["bot_name"], "fleet-bot-0");

    let health = fleet.ok(0, "health").await;
    assert_shape("health", &health, "health");
    let last =
        chrono::DateTime::parse_from_rfc3339(health["last_process"].as_str().unwrap()).unwrap();
    assert_eq!(
        last.timestamp(),
        health["last_process_ts"].as_i64().unwrap()
    );

    let profit = fleet.ok(0, "profit").await;
    assert_shape("profit", &profit, "profit");
    assert_required(
        "profit",
        &profit,
        &[
            ("profit_closed_coin", "float"),
            ("profit_all_coin", "float"),
            ("trade_count", "integer"),
            ("closed_trade_count", "integer"),
        ],
    );
    assert!(profit["closed_trade_count"].as_u64().unwrap() >= 1);
    assert!(profit["trade_count"].as_u64() > profit["closed_trade_count"].as_u64());

    let count = fleet.ok(0, "count").await;
    assert_shape("count", &count, "count");
    assert_required(
        "count",
        &count,
        &[
            ("current", "integer"),
            ("max", "integer"),
            ("total_stake", "float"),
        ],
    );

    assert_shape("ping", &fleet.ok(0, "ping").await, "ping");
    let (_, tokens) = fleet
        .send(
            fleet
                .client
                .post(fleet.url(0, "token/login"))
                .basic_auth(USER, Some(PASSWORD)),
        )
        .await;
    assert_shape("token/login", &tokens, "token_login");
    assert_shape(
        "trade/999999",
        &fleet.get(0, "trade/999999").await.1,
        "trade_not_found",
    );
    assert_shape(
        "forceexit",
        &fleet.force_exit(0, &open_id.to_string()).await.1,
        "forceexit",
    );
    assert_shape(
        "forceexit (closed)",
        &fleet.force_exit(0, &open_id.to_string()).await.1,
        "forceexit_unknown_trade",
    );
    fleet.stop().await;
}

#[tokio::test]
async fn bots_differ_but_replay_the_same_trades() {
    // Two fleets with one seed, started apart, give the same trades relative to their start.
    let one = Fleet::start(3, 1_000, 500).await;
    sleep(Duration::from_millis(300)).await;
    let two = Fleet::start(3, 1_000, 500).await;
    let limit = Duration::from_secs(10);
    let mut pairs = BTreeSet::new();
    for bot in 0..3 {
        let (a, b) = one
            .wait_for("trade 1 on both", limit, || async {
                let (a, b) = (one.get(bot, "trade/1").await, two.get(bot, "trade/1").await);
                (a.0 == StatusCode::OK && b.0 == StatusCode::OK).then_some((a.1, b.1))
            })
            .await;
        assert_eq!(a["pair"], b["pair"]);
        pairs.insert(a["pair"].as_str().unwrap().to_owned());
        let start_a = one.ok(bot, "profit").await["bot_start_timestamp"]
            .as_i64()
            .unwrap();
        let start_b = two.ok(bot, "profit").await["bot_start_timestamp"]
            .as_i64()
            .unwrap();
        let phase_a = a["open_timestamp"].as_i64().unwrap() - start_a;
        let phase_b = b["open_timestamp"].as_i64().unwrap() - start_b;
        assert_eq!(phase_a, phase_b, "bot {bot}");
    }
    assert_eq!(pairs.len(), 3, "each bot starts on another pair");
    one.stop().await;
    two.stop().await;
}
