//! `GET /api/v3/depth` and `GET /api/v3/ticker/bookTicker`: an order book around the
//! current price, so freqtrade's order-book pricing and dry-run fills have levels to
//! read. The book is a pure function of the instant: level sizes change each second.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::error::ApiError;
use crate::exchange::{Exchange, Listing, OneOrMany};
use crate::fixed;
use crate::hash;
use crate::params::Params;

pub const DEFAULT_DEPTH: usize = 100;
/// Binance truncates larger depth requests to this.
pub const MAX_DEPTH: usize = 5000;

/// Half the spread and the gap between levels, as shares of the price.
const HALF_SPREAD: f64 = 0.00002;
const LEVEL_GAP: f64 = 0.00001;

/// Bids (best first, descending) and asks (best first, ascending): (price ticks, lots).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Book {
    pub bids: Vec<(i64, i64)>,
    pub asks: Vec<(i64, i64)>,
}

impl Book {
    /// The book of `listing` at `now`, `depth` levels a side, centred on the last price.
    pub fn at(listing: &Listing, now: i64, depth: usize) -> Self {
        let series = &listing.series;
        let last = series.ticks_at(now);
        let share = |ratio: f64| ((last as f64 * ratio).round() as i64).max(1);
        let (half, gap) = (share(HALF_SPREAD), share(LEVEL_GAP));
        let key = hash::mix(hash::fnv1a(&listing.symbol) ^ now.div_euclid(1000) as u64);
        let side = |best: i64, direction: i64, salt: i64| {
            (0_i64..)
                .take(depth)
                .map(|level| (best + direction * level * gap, level))
                .take_while(|&(price, _)| price >= 1)
                .map(|(price, level)| {
                    let value = 200.0 + 4_800.0 * hash::unit(hash::hash(key, 2 * level + salt));
                    (price, series.lots_worth(value, price))
                })
                .collect()
        };
        Self {
            bids: side((last - half).max(1), -1, 0),
            asks: side(last + half, 1, 1),
        }
    }

    /// The best bid and ask, each (price ticks, lots).
    pub fn top(listing: &Listing, now: i64) -> ((i64, i64), (i64, i64)) {
        let book = Self::at(listing, now, 1);
        let first = |levels: &[(i64, i64)]| levels.first().copied().unwrap_or((1, 1));
        (first(&book.bids), first(&book.asks))
    }
}

/// The depth answer, in Binance's field order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Depth {
    last_update_id: i64,
    bids: Vec<[String; 2]>,
    asks: Vec<[String; 2]>,
}

/// The best bid and ask of one symbol.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BookTicker {
    symbol: String,
    bid_price: String,
    bid_qty: String,
    ask_price: String,
    ask_qty: String,
}

fn levels(listing: &Listing, levels: &[(i64, i64)]) -> Vec<[String; 2]> {
    let (price, qty) = (listing.market.price_decimals, listing.market.qty_decimals);
    levels
        .iter()
        .map(|&(p, q)| [fixed::format_steps(p, price), fixed::format_steps(q, qty)])
        .collect()
}

pub async fn depth(
    State(exchange): State<Arc<Exchange>>,
    params: Params,
) -> Result<Json<Depth>, ApiError> {
    let listing = exchange.listing(params.required("symbol")?)?;
    let depth = match params.integer("limit")? {
        None => DEFAULT_DEPTH,
        Some(0) => return Err(ApiError::InvalidParam("limit")),
        Some(n) => usize::try_from(n).unwrap_or(MAX_DEPTH).min(MAX_DEPTH),
    };
    let now = exchange.market_now_ms();
    let book = Book::at(listing, now, depth);
    Ok(Json(Depth {
        last_update_id: now,
        bids: levels(listing, &book.bids),
        asks: levels(listing, &book.asks),
    }))
}

fn book_ticker(listing: &Listing, now: i64) -> BookTicker {
    let ((bid, bid_qty), (ask, ask_qty)) = Book::top(listing, now);
    let (price, qty) = (listing.market.price_decimals, listing.market.qty_decimals);
    BookTicker {
        symbol: listing.symbol.clone(),
        bid_price: fixed::format_steps(bid, price),
        bid_qty: fixed::format_steps(bid_qty, qty),
        ask_price: fixed::format_steps(ask, price),
        ask_qty: fixed::format_steps(ask_qty, qty),
    }
}

pub async fn book_tickers(
    State(exchange): State<Arc<Exchange>>,
    params: Params,
) -> Result<Json<OneOrMany<BookTicker>>, ApiError> {
    let (listings, single) = exchange.select(&params)?;
    let now = exchange.market_now_ms();
    Ok(Json(OneOrMany::new(
        listings.iter().map(|l| book_ticker(l, now)).collect(),
        single,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;

    const NOW: i64 = 1_767_225_600_000;

    #[test]
    fn book_is_ordered_around_the_price() {
        let exchange = Exchange::new(SimConfig::default());
        for listing in &exchange.listings {
            let book = Book::at(listing, NOW, 50);
            let last = listing.series.ticks_at(NOW);
            assert_eq!((book.bids.len(), book.asks.len()), (50, 50));
            assert!(book.bids[0].0 < last && last < book.asks[0].0);
            assert!(book.bids.windows(2).all(|w| w[0].0 > w[1].0));
            assert!(book.asks.windows(2).all(|w| w[0].0 < w[1].0));
            assert!(
                book.bids
                    .iter()
                    .chain(&book.asks)
                    .all(|&(p, q)| p >= 1 && q >= 1)
            );
            assert_eq!(book, Book::at(listing, NOW, 50));
            assert_eq!(Book::top(listing, NOW), (book.bids[0], book.asks[0]));
        }
    }
}
