//! The simulator over real HTTP, as ccxt calls it: served in-process on 127.0.0.1:0.

use anytrade_exchange_sim::{Clock, SimConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// 2026-01-01T00:10:30Z: a fixed "now", so answers are repeatable.
const NOW: i64 = 1_767_226_230_000;

struct Sim {
    base: String,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Sim {
    async fn start(clock: Clock) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/api/v3", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let config = SimConfig {
            clock,
            ..SimConfig::default()
        };
        let task = tokio::spawn(anytrade_exchange_sim::serve(listener, config, async {
            let _ = stopped.await;
        }));
        Self {
            base,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}/{path}", self.base))
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

fn number(value: &Value) -> f64 {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn serves_what_freqtrade_calls() {
    let sim = Sim::start(Clock::Fixed(NOW)).await;
    assert_eq!(sim.ok("ping").await, json!({}));
    assert_eq!(sim.ok("time").await, json!({ "serverTime": NOW }));

    let info = sim.ok("exchangeInfo").await;
    let symbols: Vec<&str> = info["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(
        symbols,
        ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"]
    );
    let one = sim.ok("exchangeInfo?symbol=ETHUSDT").await;
    assert_eq!(one["symbols"].as_array().unwrap().len(), 1);

    // The latest 3 one-minute candles, the last one running.
    let klines = sim.ok("klines?symbol=BTCUSDT&interval=1m&limit=3").await;
    let rows = klines.as_array().unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r[0].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [NOW - 150_000, NOW - 90_000, NOW - 30_000]
    );
    for row in rows {
        let (open, high, low, close) = (
            number(&row[1]),
            number(&row[2]),
            number(&row[3]),
            number(&row[4]),
        );
        assert!(low <= open.min(close) && open.max(close) <= high);
    }
    assert_eq!(
        rows[0][4], rows[1][1],
        "a candle closes where the next opens"
    );

    // Paging forward from a start time, and the last price agreeing with the running candle.
    let page = sim
        .ok(&format!(
            "klines?symbol=BTCUSDT&interval=5m&startTime={}&limit=1000",
            NOW - 86_400_000
        ))
        .await;
    assert_eq!(page.as_array().unwrap().len(), 24 * 12);
    let price = sim.ok("ticker/price?symbol=BTCUSDT").await;
    assert_eq!(price["price"], rows[2][4]);

    let stats = sim.ok("ticker/24hr?symbol=BTCUSDT").await;
    assert_eq!(stats["lastPrice"], price["price"]);
    assert_eq!(sim.ok("ticker/24hr").await.as_array().unwrap().len(), 5);
    let listed = sim
        .ok(r#"ticker/bookTicker?symbols=["BTCUSDT","XRPUSDT"]"#)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 2);

    let depth = sim.ok("depth?symbol=BTCUSDT&limit=5").await;
    let (bids, asks) = (
        depth["bids"].as_array().unwrap(),
        depth["asks"].as_array().unwrap(),
    );
    assert_eq!((bids.len(), asks.len()), (5, 5));
    assert!(
        number(&bids[0][0]) < number(&price["price"])
            && number(&price["price"]) < number(&asks[0][0])
    );
    assert_eq!(listed[0]["bidPrice"], bids[0][0]);

    sim.stop().await;
}

#[tokio::test]
async fn refuses_bad_requests_binance_style() {
    let sim = Sim::start(Clock::Fixed(NOW)).await;
    let cases = [
        (
            "klines?symbol=BTCUSDT&interval=1m&limit=abc",
            -1100,
            "'limit'",
        ),
        (
            "klines?symbol=BTCUSDT&interval=1m&startTime=-1",
            -1100,
            "'startTime'",
        ),
        (
            "klines?symbol=BTCUSDT&interval=1m&limit=1001",
            -1130,
            "'limit'",
        ),
        ("klines?interval=1m", -1102, "'symbol'"),
        ("klines?symbol=BTCUSDT", -1102, "'interval'"),
        ("klines?symbol=BTCUSDT&interval=2m", -1120, "interval"),
        ("klines?symbol=DOGEUSDT&interval=1m", -1121, "symbol"),
        (
            "klines?symbol=BTCUSDT&interval=1m&startTime=2&endTime=1",
            -1023,
            "Start time",
        ),
        ("depth?symbol=BTCUSDT&limit=0", -1130, "'limit'"),
        ("ticker/price?symbols=BTCUSDT", -1100, "'symbols'"),
        ("ticker/24hr?symbol=BTCUSDT&type=TINY", -1130, "'type'"),
        (
            r#"ticker/bookTicker?symbol=BTCUSDT&symbols=["BTCUSDT"]"#,
            -1128,
            "symbol",
        ),
    ];
    for (path, code, mentions) in cases {
        let (status, body) = sim.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(body["code"], code, "{path}: {body}");
        assert!(
            body["msg"].as_str().unwrap().contains(mentions),
            "{path}: {body}"
        );
    }
    let (status, body) = sim.get("account").await;
    assert_eq!(
        (status, body["code"].as_i64()),
        (StatusCode::NOT_FOUND, Some(-1121))
    );
    let response = sim
        .client
        .post(format!("{}/order", sim.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    sim.stop().await;
}

#[tokio::test]
async fn running_candle_follows_the_wall_clock() {
    let sim = Sim::start(Clock::System).await;
    let latest = sim.ok("klines?symbol=ETHUSDT&interval=1m&limit=1").await;
    let open = latest[0][0].as_i64().unwrap();
    let now = sim.ok("time").await["serverTime"].as_i64().unwrap();
    assert!(open <= now && now - open < 60_000 + 5_000);
    sim.stop().await;
}
