//! Helpers every benchmark needs: settings from the environment, and a scratch
//! database of its own.

use std::str::FromStr;
use std::time::Duration;

/// `name` from the environment, else `default`.
pub fn env<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[path = "../../tests/support/scratch_database.rs"]
mod scratch_database;

/// A new, empty database of its own, as the URL the service is given, and its name.
pub async fn fresh_database_url(url: &str) -> (String, String) {
    scratch_database::create(url, "anytrade_bench").await
}

pub async fn drop_database(url: &str, name: &str) {
    scratch_database::drop(url, name).await
}

/// `d` in milliseconds, for the tables.
#[allow(dead_code)] // Not every benchmark prints milliseconds.
pub fn milliseconds(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A bearer token for `username`, from the service's `POST /auth/login` at `base`.
#[allow(dead_code)] // Only the benchmarks that talk HTTP log in.
pub async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let body: serde_json::Value = client
        .post(format!("{base}/auth/login"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("login request")
        .json()
        .await
        .expect("login body");
    body["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login of {username} failed: {body}"))
        .to_owned()
}

/// Trades for the bots already there: `$1` trades in all, spread over the first `$2`
/// bots by creation, the last three of each bot open, the rest closed with profits and
/// losses (into the `trades` read model directly: a benchmark's seed).
#[allow(dead_code)] // Only the benchmarks with trades seed them.
pub const SEED_TRADES: &str = "
WITH b AS (SELECT id, (row_number() OVER (ORDER BY created_at, id) - 1)::bigint AS n FROM bots)
INSERT INTO trades (id, bot_id, freqtrade_trade_id, pair, is_open, open_date, close_date, open_rate,
                    close_rate, amount, stake_amount, profit_abs, profit_ratio, exit_reason,
                    strategy_name, timeframe_minutes, created_at, updated_at)
SELECT gen_random_uuid(), b.id, t.k, t.pair, t.open, t.opened,
       CASE WHEN NOT t.open THEN t.opened + (5 + (g * 7919) % 720) * interval '1 minute' END,
       t.rate, CASE WHEN NOT t.open THEN t.rate * (1 + t.ratio) END,
       100.0 / t.rate, 100.0,
       CASE WHEN NOT t.open THEN 100.0 * t.ratio END,
       CASE WHEN NOT t.open THEN t.ratio END,
       CASE WHEN NOT t.open THEN (ARRAY['roi', 'stop_loss', 'exit_signal', 'trailing_stop_loss'])[1 + g % 4] END,
       'SampleStrategy', 5, t.opened,
       CASE WHEN t.open THEN t.opened ELSE t.opened + (5 + (g * 7919) % 720) * interval '1 minute' END
  FROM generate_series(0, $1 - 1) g
  JOIN b ON b.n = g % $2
 CROSS JOIN LATERAL (SELECT g / $2 + 1 AS k,
                            g / $2 + 1 > $1 / $2 - 3 AS open,
                            (ARRAY['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'BNB/USDT', 'XRP/USDT',
                                   'ADA/USDT', 'DOGE/USDT', 'AVAX/USDT'])[1 + (g * 31) % 8] AS pair,
                            timestamptz '2026-01-01 00:00:00+00' + (g / $2) * interval '6 hours'
                                + (g % $2) * interval '7 seconds' AS opened,
                            (20 + (g % 997) * 0.37)::double precision AS rate,
                            (((g * 7919) % 2001) - 1000) / 20000.0::double precision AS ratio) t";

/// Each bot's sums of the trades [`SEED_TRADES`] wrote (what the trades projector keeps
/// as it applies trade events, which a seed straight into the table bypasses).
#[allow(dead_code)] // Only the benchmarks with trades seed them.
pub const SEED_TRADE_TOTALS: &str = "
INSERT INTO bot_trade_totals (bot_id, open_trades, closed_trades, closed_profit)
SELECT bot_id, count(*) FILTER (WHERE is_open), count(*) FILTER (WHERE NOT is_open),
       COALESCE(sum(profit_abs::numeric) FILTER (WHERE NOT is_open), 0)
  FROM trades GROUP BY bot_id
ON CONFLICT (bot_id) DO UPDATE SET open_trades = EXCLUDED.open_trades,
    closed_trades = EXCLUDED.closed_trades, closed_profit = EXCLUDED.closed_profit";

/// A client's end of the service's GraphQL WebSocket.
#[allow(dead_code)] // Only the benchmarks with subscriptions open one.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A `graphql-transport-ws` socket to the service at `address` (`host:port`), its
/// `connection_init` (with `token`) acknowledged, by `deadline`.
#[allow(dead_code)] // Only the benchmarks with subscriptions open one.
pub async fn graphql_socket(
    address: impl std::fmt::Display,
    token: &str,
    deadline: tokio::time::Instant,
) -> Result<Socket, String> {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let mut request = format!("ws://{address}/graphql/ws")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut socket, _) =
        tokio::time::timeout_at(deadline, tokio_tungstenite::connect_async(request))
            .await
            .map_err(|_| "connect: timed out".to_owned())?
            .map_err(|e| format!("connect: {e}"))?;
    let init = serde_json::json!({ "type": "connection_init",
                                   "payload": { "Authorization": format!("Bearer {token}") } });
    socket
        .send(Message::text(init.to_string()))
        .await
        .map_err(|e| format!("send connection_init: {e}"))?;
    match tokio::time::timeout_at(deadline, socket.next()).await {
        Ok(Some(Ok(Message::Text(text))))
            if serde_json::from_str::<serde_json::Value>(&text)
                .is_ok_and(|m| m["type"] == "connection_ack") =>
        {
            Ok(socket)
        }
        other => Err(format!("no connection_ack: {other:?}")),
    }
}
