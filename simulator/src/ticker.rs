//! `GET /api/v3/ticker/24hr` and `GET /api/v3/ticker/price`: rolling 24-hour statistics
//! and the last price, consistent with the klines and the book at the same instant.
//! Fields are in Binance's order.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::book::Book;
use crate::error::ApiError;
use crate::exchange::{Exchange, Listing, OneOrMany};
use crate::fixed;
use crate::params::Params;
use crate::series::MINUTE_MS;

const WINDOW_MS: i64 = 24 * 60 * MINUTE_MS;

/// `type=FULL` (the default) of the 24hr ticker.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayStats {
    symbol: String,
    price_change: String,
    price_change_percent: String,
    weighted_avg_price: String,
    prev_close_price: String,
    last_price: String,
    last_qty: String,
    bid_price: String,
    bid_qty: String,
    ask_price: String,
    ask_qty: String,
    open_price: String,
    high_price: String,
    low_price: String,
    volume: String,
    quote_volume: String,
    open_time: i64,
    close_time: i64,
    first_id: i64,
    last_id: i64,
    count: i64,
}

/// `type=MINI` of the 24hr ticker.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MiniDayStats {
    symbol: String,
    open_price: String,
    high_price: String,
    low_price: String,
    last_price: String,
    volume: String,
    quote_volume: String,
    open_time: i64,
    close_time: i64,
    first_id: i64,
    last_id: i64,
    count: i64,
}

impl From<DayStats> for MiniDayStats {
    fn from(full: DayStats) -> Self {
        Self {
            symbol: full.symbol,
            open_price: full.open_price,
            high_price: full.high_price,
            low_price: full.low_price,
            last_price: full.last_price,
            volume: full.volume,
            quote_volume: full.quote_volume,
            open_time: full.open_time,
            close_time: full.close_time,
            first_id: full.first_id,
            last_id: full.last_id,
            count: full.count,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum AnyDayStats {
    Full(Box<DayStats>),
    Mini(MiniDayStats),
}

/// The last price of one symbol.
#[derive(Debug, Serialize)]
pub struct Price {
    symbol: String,
    price: String,
}

/// Statistics over the 24 hours before the minute holding `now`, up to `now`.
fn day_stats_of(listing: &Listing, now: i64) -> Option<DayStats> {
    let open_time = now.div_euclid(MINUTE_MS) * MINUTE_MS - WINDOW_MS;
    let series = &listing.series;
    let bar = series.bar(open_time, i64::MAX, now)?;
    let (price, qty) = (listing.market.price_decimals, listing.market.qty_decimals);
    let p = |ticks: i64| fixed::format_steps(ticks, price);
    let q = |lots: i64| fixed::format_steps(lots, qty);
    let ((bid, bid_qty), (ask, ask_qty)) = Book::top(listing, now);
    let percent = (bar.close - bar.open) as f64 / bar.open as f64 * 100.0;
    let average = if bar.volume > 0 {
        bar.quote_volume / series.qty_of(bar.volume)
    } else {
        0.0
    };
    let last_id = now / 100;
    Some(DayStats {
        symbol: listing.symbol.clone(),
        price_change: p(bar.close - bar.open),
        price_change_percent: format!("{percent:.3}"),
        weighted_avg_price: fixed::format_f64(average),
        prev_close_price: p(bar.open),
        last_price: p(bar.close),
        last_qty: q(series.lots_worth(100.0, bar.close)),
        bid_price: p(bid),
        bid_qty: q(bid_qty),
        ask_price: p(ask),
        ask_qty: q(ask_qty),
        open_price: p(bar.open),
        high_price: p(bar.high),
        low_price: p(bar.low),
        volume: q(bar.volume),
        quote_volume: fixed::format_f64(bar.quote_volume),
        open_time,
        close_time: now,
        first_id: last_id - bar.trades + 1,
        last_id,
        count: bar.trades,
    })
}

pub async fn day_stats(
    State(exchange): State<Arc<Exchange>>,
    params: Params,
) -> Result<Json<OneOrMany<AnyDayStats>>, ApiError> {
    let mini = match params.optional("type") {
        None | Some("FULL") => false,
        Some("MINI") => true,
        Some(_) => return Err(ApiError::InvalidParam("type")),
    };
    let (listings, single) = exchange.select(&params)?;
    let now = exchange.market_now_ms();
    let stats = listings
        .iter()
        .filter_map(|l| day_stats_of(l, now))
        .map(|s| {
            if mini {
                AnyDayStats::Mini(s.into())
            } else {
                AnyDayStats::Full(Box::new(s))
            }
        })
        .collect();
    Ok(Json(OneOrMany::new(stats, single)))
}

pub async fn prices(
    State(exchange): State<Arc<Exchange>>,
    params: Params,
) -> Result<Json<OneOrMany<Price>>, ApiError> {
    let (listings, single) = exchange.select(&params)?;
    let now = exchange.market_now_ms();
    let prices = listings
        .iter()
        .map(|l| Price {
            symbol: l.symbol.clone(),
            price: fixed::format_steps(l.series.ticks_at(now), l.market.price_decimals),
        })
        .collect();
    Ok(Json(OneOrMany::new(prices, single)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::SimConfig;

    const NOW: i64 = 1_767_225_600_000 + 12_345;

    #[test]
    fn day_stats_agree_with_book_and_klines() {
        let exchange = Exchange::new(SimConfig::default());
        let listing = exchange.listing("ETHUSDT").unwrap();
        let full = serde_json::to_value(day_stats_of(listing, NOW).unwrap()).unwrap();
        let last = fixed::format_steps(listing.series.ticks_at(NOW), 2);
        assert_eq!(full["lastPrice"], json!(last));
        assert_eq!(full["openTime"], json!(1_767_225_600_000 - WINDOW_MS));
        let number = |key: &str| full[key].as_str().unwrap().parse::<f64>().unwrap();
        assert!(
            number("lowPrice") <= number("lastPrice") && number("lastPrice") <= number("highPrice")
        );
        assert!(number("bidPrice") < number("askPrice"));
        assert_eq!(full.as_object().unwrap().len(), 21);
        let mini =
            serde_json::to_value(MiniDayStats::from(day_stats_of(listing, NOW).unwrap())).unwrap();
        assert!(mini.get("bidPrice").is_none() && mini["lastPrice"] == full["lastPrice"]);
        let text = serde_json::to_string(&day_stats_of(listing, NOW).unwrap()).unwrap();
        assert!(text.starts_with(r#"{"symbol":"ETHUSDT","priceChange":"#));
    }
}
