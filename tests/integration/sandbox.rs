//! What the end-to-end tests share: the exchange simulator, the freqtrade
//! installations, and a strategy that trades.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tokio::net::TcpListener;

/// A strategy that enters on every candle and takes any profit.
pub const ALWAYS_ENTER: &str = r#"
from freqtrade.strategy import IStrategy


class AlwaysEnter(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1m"
    minimal_roi = {"0": 0.001}
    stoploss = -0.10
    process_only_new_candles = True
    startup_candle_count = 0

    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        dataframe["enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        dataframe["exit_long"] = 0
        return dataframe
"#;

/// One buy-side parameter for the hyperopt to search.
pub const TUNABLE: &str = r#"
from freqtrade.strategy import IStrategy, IntParameter


class Tunable(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {"0": 0.01}
    stoploss = -0.10
    buy_every = IntParameter(1, 6, default=2, space="buy")

    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        dataframe["enter_long"] = (dataframe.index % self.buy_every.value == 0).astype(int)
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        dataframe["exit_long"] = 0
        return dataframe
"#;

/// The freqtrade installations the tests share across runs (installing takes a
/// minute; `ANYTRADE_TEST_FREQTRADE_DIR` moves it).
pub fn freqtrade_cache() -> PathBuf {
    std::env::var_os("ANYTRADE_TEST_FREQTRADE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
            Path::new(&home).join(".cache/anytrade/freqtrade")
        })
}

/// The exchange simulator on a random port, for as long as the test runs.
pub async fn simulator() -> String {
    format!("http://{}", serve_simulator("127.0.0.1:0").await)
}

/// The simulator as containers reach it: on every interface of this machine, named
/// by the alias the docker runtime gives containers for it.
pub async fn simulator_for_containers() -> String {
    let address = serve_simulator("0.0.0.0:0").await;
    format!("http://host.docker.internal:{}", address.port())
}

async fn serve_simulator(bind: &str) -> std::net::SocketAddr {
    let listener = TcpListener::bind(bind).await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(anytrade_exchange_sim::serve(
        listener,
        anytrade_exchange_sim::SimConfig::default(),
        std::future::pending(),
    ));
    address
}

/// An exchange `config` that points freqtrade's Binance client at the simulator (as
/// `serve --sandbox` registers it, less its pair list: each test's bots name theirs).
pub fn sandbox_exchange_config(simulator: &str) -> Value {
    let mut config = anytrade::sandbox::exchange_config(simulator);
    if let Some(config) = config.as_object_mut() {
        config.remove("pair_whitelist");
    }
    config
}

/// A bot's `config` input on `pairs` with market orders, which fill at once in a dry
/// run whichever way the simulator's prices go (limit orders at the other side of the
/// book once stayed unfilled for 90 s when the price moved away first).
pub fn market_orders(pairs: &[&str], max_open_trades: u32) -> Value {
    json!({ "config": {
        "pairs": pairs, "stakeAmount": "100", "maxOpenTrades": max_open_trades,
        "extra": market_order_settings(),
    }})
}

/// The freqtrade settings of [`market_orders`].
pub fn market_order_settings() -> Value {
    json!({
        "entry_pricing": { "price_side": "other" },
        "exit_pricing": { "price_side": "other" },
        "order_types": { "entry": "market", "exit": "market", "stoploss": "market",
            "stoploss_on_exchange": false },
    })
}

/// Kills, when dropped, every process whose command line names `dir`: a test that
/// fails half-way leaves no freqtrade running.
pub struct Reaper(pub PathBuf);

impl Drop for Reaper {
    fn drop(&mut self) {
        let needle = self.0.to_string_lossy().into_owned();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            if String::from_utf8_lossy(&cmdline).contains(&needle) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
}
