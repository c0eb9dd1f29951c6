//! The simulated exchange: its listings and its clock, shared by every handler.

use crate::config::{Clock, Market, SimConfig};
use crate::error::ApiError;
use crate::params::Params;
use crate::series::Series;

/// How often live prices change.
pub const MARKET_TICK_MS: i64 = 1000;

/// An answer that is one object for `symbol=` and a list otherwise.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub fn new(mut items: Vec<T>, single: bool) -> Self {
        match items.pop() {
            Some(item) if single && items.is_empty() => Self::One(item),
            Some(item) => {
                items.push(item);
                Self::Many(items)
            }
            None => Self::Many(items),
        }
    }
}

/// One served market and its candle series.
#[derive(Debug)]
pub struct Listing {
    pub market: Market,
    pub symbol: String,
    pub series: Series,
}

#[derive(Debug)]
pub struct Exchange {
    /// In configuration order, which is the order of every list answer.
    pub listings: Vec<Listing>,
    pub listed_at_ms: i64,
    clock: Clock,
}

impl Exchange {
    pub fn new(config: SimConfig) -> Self {
        let listings = config
            .markets
            .into_iter()
            .map(|market| Listing {
                symbol: market.symbol(),
                series: Series::new(config.seed, &market),
                market,
            })
            .collect();
        Self {
            listings,
            listed_at_ms: config.listed_at_ms,
            clock: config.clock,
        }
    }

    /// The wall clock, for `serverTime`.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The instant live prices (book, tickers, running candle) are read at: the market
    /// ticks once a second. A price moving every millisecond would leave freqtrade's
    /// dry-run limit orders unfilled half the time, as it reads the book twice ~50 ms
    /// apart and fills a buy only if the ask has not risen meanwhile.
    pub fn market_now_ms(&self) -> i64 {
        self.now_ms().div_euclid(MARKET_TICK_MS) * MARKET_TICK_MS
    }

    pub fn listing(&self, symbol: &str) -> Result<&Listing, ApiError> {
        self.listings
            .iter()
            .find(|l| l.symbol == symbol)
            .ok_or(ApiError::BadSymbol)
    }

    /// The listings a `symbol` / `symbols` query selects, and whether the answer is one
    /// object (`symbol`) rather than a list. Neither parameter selects all.
    pub fn select(&self, params: &Params) -> Result<(Vec<&Listing>, bool), ApiError> {
        match (params.optional("symbol"), params.symbols()?) {
            (Some(_), Some(_)) => Err(ApiError::Exclusive("symbol", "symbols")),
            (Some(symbol), None) => Ok((vec![self.listing(symbol)?], true)),
            (None, Some(symbols)) => {
                let chosen = symbols
                    .iter()
                    .map(|s| self.listing(s))
                    .collect::<Result<_, _>>()?;
                Ok((chosen, false))
            }
            (None, None) => Ok((self.listings.iter().collect(), false)),
        }
    }
}
