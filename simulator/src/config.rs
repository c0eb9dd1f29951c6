//! What the simulator lists: its markets, the seed of its prices, when they were listed,
//! and which clock says "now".

use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::hash;

/// Largest base price accepted: keeps every price in 1e-8 units far from `i64::MAX`.
const MAX_BASE_PRICE: f64 = 10_000_000.0;
/// Smallest base price accepted: at least 10^4 ticks of 1e-8, so rounding stays fine.
const MIN_BASE_PRICE: f64 = 0.0001;

/// A configuration that cannot be served.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("pair {0:?} is not BASE/QUOTE[=PRICE] with upper-case letters and digits")]
    BadPair(String),
    #[error(
        "base price of {pair} must be between {MIN_BASE_PRICE} and {MAX_BASE_PRICE}, got {price}"
    )]
    BadPrice { pair: String, price: f64 },
    #[error("pair {0} is listed twice")]
    Duplicate(String),
    #[error("no pairs configured")]
    NoPairs,
}

/// One spot market: a pair, the centre of its price path, and its tick and lot sizes.
#[derive(Clone, Debug, PartialEq)]
pub struct Market {
    pub base: String,
    pub quote: String,
    /// Prices oscillate around this value (within about ±30 %).
    pub base_price: f64,
    /// `tickSize` is `10^-price_decimals`.
    pub price_decimals: u32,
    /// `stepSize` is `10^-qty_decimals`.
    pub qty_decimals: u32,
    /// `NOTIONAL.minNotional`, in quote units.
    pub min_notional: f64,
}

impl Market {
    /// A market with Binance-like tick, lot and minimum notional for its price and quote.
    pub fn new(base: &str, quote: &str, base_price: f64) -> Result<Self, ConfigError> {
        let pair = format!("{base}/{quote}");
        if !is_asset(base) || !is_asset(quote) || base == quote {
            return Err(ConfigError::BadPair(pair));
        }
        if !(MIN_BASE_PRICE..=MAX_BASE_PRICE).contains(&base_price) {
            return Err(ConfigError::BadPrice {
                pair,
                price: base_price,
            });
        }
        // BTC at 60,000 gets tick 0.01 and step 0.00001, XRP at 0.5 tick 1e-6 and step 1,
        // as on Binance: about six significant digits of price, lots worth under 10 USDT.
        let magnitude = base_price.log10().floor() as i32;
        Ok(Self {
            base: base.to_owned(),
            quote: quote.to_owned(),
            base_price,
            price_decimals: (5 - magnitude).clamp(2, 8) as u32,
            qty_decimals: (magnitude + 1).clamp(0, 8) as u32,
            min_notional: min_notional(quote),
        })
    }

    /// Binance's symbol, e.g. `BTCUSDT`.
    pub fn symbol(&self) -> String {
        format!("{}{}", self.base, self.quote)
    }

    /// ccxt's and freqtrade's pair, e.g. `BTC/USDT`.
    pub fn pair(&self) -> String {
        format!("{}/{}", self.base, self.quote)
    }
}

/// Parses `BTC/USDT` (a known or derived base price) or `BTC/USDT=65000`.
impl FromStr for Market {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let bad = || ConfigError::BadPair(text.to_owned());
        let (pair, price) = match text.split_once('=') {
            Some((pair, price)) => (pair, Some(price.trim().parse::<f64>().map_err(|_| bad())?)),
            None => (text, None),
        };
        let (base, quote) = pair.trim().split_once('/').ok_or_else(bad)?;
        let price = price.unwrap_or_else(|| default_base_price(base));
        Self::new(base, quote, price)
    }
}

fn is_asset(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 20
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Roughly the 2025 price of well-known assets; any other gets a stable price in 1..1000.
pub fn default_base_price(base: &str) -> f64 {
    match base {
        "BTC" => 60_000.0,
        "ETH" => 3_000.0,
        "BNB" => 600.0,
        "SOL" => 150.0,
        "XRP" => 0.5,
        "ADA" => 0.45,
        "DOGE" => 0.15,
        "LTC" => 80.0,
        "USDC" | "FDUSD" | "DAI" => 1.0,
        other => 10f64.powf(3.0 * hash::unit(hash::mix(hash::fnv1a(other)))),
    }
}

/// Binance's minimum order value per quote asset.
fn min_notional(quote: &str) -> f64 {
    match quote {
        "BTC" => 0.0001,
        "ETH" => 0.001,
        "BNB" => 0.01,
        _ => 5.0,
    }
}

/// Where "now" comes from: the wall clock, or a fixed instant so tests are repeatable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    System,
    /// Milliseconds since the Unix epoch.
    Fixed(i64),
}

impl Clock {
    /// Milliseconds since the Unix epoch.
    pub fn now_ms(self) -> i64 {
        match self {
            Self::Fixed(ms) => ms,
            Self::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| {
                    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
                }),
        }
    }
}

/// Everything the simulator serves.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    pub markets: Vec<Market>,
    /// Changes every price path; the same seed always serves the same prices.
    pub seed: u64,
    /// First candle served (ms since epoch); a `startTime` before it starts here, as a
    /// Binance pair returns its data from its listing on.
    pub listed_at_ms: i64,
    pub clock: Clock,
}

/// 2020-01-01T00:00:00Z, aligned with every interval up to 1d.
pub const DEFAULT_LISTED_AT_MS: i64 = 1_577_836_800_000;

/// The pairs served when none are configured.
pub const DEFAULT_PAIRS: [&str; 5] = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT", "XRP/USDT"];

impl SimConfig {
    /// A configuration over `markets`, refusing none or duplicates.
    pub fn new(markets: Vec<Market>, seed: u64) -> Result<Self, ConfigError> {
        if markets.is_empty() {
            return Err(ConfigError::NoPairs);
        }
        for (i, market) in markets.iter().enumerate() {
            if markets
                .iter()
                .take(i)
                .any(|m| m.symbol() == market.symbol())
            {
                return Err(ConfigError::Duplicate(market.pair()));
            }
        }
        Ok(Self {
            markets,
            seed,
            listed_at_ms: DEFAULT_LISTED_AT_MS,
            clock: Clock::System,
        })
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        let markets = DEFAULT_PAIRS
            .iter()
            .filter_map(|pair| pair.parse().ok())
            .collect();
        Self {
            markets,
            seed: 1,
            listed_at_ms: DEFAULT_LISTED_AT_MS,
            clock: Clock::System,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binance_like_sizes() {
        let btc: Market = "BTC/USDT".parse().unwrap();
        assert_eq!(
            (btc.price_decimals, btc.qty_decimals, btc.min_notional),
            (2, 5, 5.0)
        );
        let xrp: Market = "XRP/USDT".parse().unwrap();
        assert_eq!((xrp.price_decimals, xrp.qty_decimals), (6, 0));
        let eth_btc: Market = "ETH/BTC=0.05".parse().unwrap();
        assert_eq!(
            (
                eth_btc.price_decimals,
                eth_btc.qty_decimals,
                eth_btc.min_notional
            ),
            (7, 0, 0.0001)
        );
        assert_eq!(btc.symbol(), "BTCUSDT");
        assert_eq!(btc.pair(), "BTC/USDT");
    }

    #[test]
    fn parses_explicit_price() {
        let m: Market = " FOO/USDT=12.5 ".parse().unwrap();
        assert_eq!(
            (m.base.as_str(), m.quote.as_str(), m.base_price),
            ("FOO", "USDT", 12.5)
        );
        let derived: Market = "FOO/USDT".parse().unwrap();
        assert!((1.0..1000.0).contains(&derived.base_price));
    }

    #[test]
    fn refuses_bad_pairs() {
        for bad in [
            "BTCUSDT",
            "btc/usdt",
            "BTC/",
            "/USDT",
            "BTC/BTC",
            "BTC/USDT=x",
            "BTC/USDT=-1",
            "BTC/USDT=NaN",
            "BTC/USDT=1e9",
        ] {
            assert!(bad.parse::<Market>().is_err(), "{bad} accepted");
        }
        let btc: Market = "BTC/USDT".parse().unwrap();
        assert_eq!(
            SimConfig::new(vec![btc.clone(), btc], 1),
            Err(ConfigError::Duplicate("BTC/USDT".into()))
        );
        assert_eq!(SimConfig::new(vec![], 1), Err(ConfigError::NoPairs));
    }

    #[test]
    fn default_has_five_pairs() {
        assert_eq!(SimConfig::default().markets.len(), 5);
    }
}
