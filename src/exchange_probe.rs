//! `testExchangeConnection`: can AnyTrade reach the exchange's public API, and are the
//! credentials it holds complete and readable?
//!
//! The public API is the one freqtrade would use: the `ccxt_config.urls.api.public`
//! override when the exchange has one (a sandbox or the exchange simulator), else the
//! exchange's own. Credentials are checked by opening them with the configured keys;
//! they are not sent to the exchange.

use std::time::{Duration, Instant};

use anytrade_aggregates::values::ExchangeName;
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(5);

/// The URL answered by the exchange's public API without credentials.
pub fn public_endpoint(name: ExchangeName, config: &Value) -> String {
    let binance_style = matches!(
        name,
        ExchangeName::Binance | ExchangeName::BinanceUs | ExchangeName::Sandbox
    );
    if let Some(base) = config
        .pointer("/ccxt_config/urls/api/public")
        .and_then(Value::as_str)
    {
        let base = base.trim_end_matches('/');
        return if binance_style {
            format!("{base}/ping")
        } else {
            base.to_owned()
        };
    }
    match name {
        ExchangeName::Binance => "https://api.binance.com/api/v3/ping",
        ExchangeName::BinanceUs => "https://api.binance.us/api/v3/ping",
        ExchangeName::Coinbase => "https://api.exchange.coinbase.com/time",
        ExchangeName::Kraken => "https://api.kraken.com/0/public/Time",
        ExchangeName::Kucoin => "https://api.kucoin.com/api/v1/timestamp",
        ExchangeName::Bybit => "https://api.bybit.com/v5/market/time",
        ExchangeName::Okx => "https://www.okx.com/api/v5/public/time",
        ExchangeName::Bitfinex => "https://api-pub.bitfinex.com/v2/platform/status",
        // Where `anytrade serve --sandbox` serves it by default.
        ExchangeName::Sandbox => "http://127.0.0.1:8650/api/v3/ping",
    }
    .to_owned()
}

/// GETs `endpoint`; the round-trip time on a 2xx answer, else why not.
pub async fn reach(client: &reqwest::Client, endpoint: &str) -> Result<Duration, String> {
    let started = Instant::now();
    let response = client
        .get(endpoint)
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("no answer within {} s", TIMEOUT.as_secs())
            } else if e.is_connect() {
                "cannot connect".to_owned()
            } else {
                "request failed".to_owned()
            }
        })?;
    let status = response.status();
    if status.is_success() {
        Ok(started.elapsed())
    } else {
        Err(format!("answered HTTP {}", status.as_u16()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_wins_over_the_exchange_default() {
        let config = serde_json::json!({ "ccxt_config": { "urls": { "api": { "public": "http://127.0.0.1:9000/api/v3/" } } } });
        assert_eq!(
            public_endpoint(ExchangeName::Binance, &config),
            "http://127.0.0.1:9000/api/v3/ping"
        );
        assert_eq!(
            public_endpoint(ExchangeName::Kraken, &config),
            "http://127.0.0.1:9000/api/v3"
        );
        assert_eq!(
            public_endpoint(ExchangeName::Okx, &serde_json::json!({})),
            "https://www.okx.com/api/v5/public/time"
        );
    }
}
