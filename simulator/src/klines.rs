//! `GET /api/v3/klines`: candles of any past range, and the running one, paged as
//! Binance pages them (at most 1000 a request).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::exchange::{Exchange, Listing};
use crate::fixed;
use crate::interval::Interval;
use crate::params::Params;

pub const DEFAULT_LIMIT: usize = 500;
pub const MAX_LIMIT: i64 = 1000;

/// What a klines request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub interval: Interval,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub limit: usize,
}

impl Page {
    /// Open times of the candles answered, as Binance pages them: from the listing up to
    /// the running candle; with `startTime` the first `limit` opening at or after it,
    /// otherwise the last `limit` opening at or before `endTime` (or now).
    pub fn open_times(&self, listed_at: i64, now: i64) -> Vec<i64> {
        let step = self.interval.ms;
        let mut first = self.interval.open_at_or_before(listed_at);
        if let Some(start) = self.start {
            first = first.max(self.interval.open_at_or_after(start));
        }
        let mut last = self.interval.open_at_or_before(now);
        if let Some(end) = self.end {
            last = last.min(self.interval.open_at_or_before(end));
        }
        if first > last {
            return Vec::new();
        }
        let available = last.saturating_sub(first) / step + 1;
        let count = available.min(i64::try_from(self.limit).unwrap_or(i64::MAX));
        let begin = if self.start.is_some() {
            first
        } else {
            last - (count - 1) * step
        };
        (0..count).map(|i| begin + i * step).collect()
    }

    fn parse(params: &Params) -> Result<Self, ApiError> {
        let interval =
            Interval::parse(params.required("interval")?).ok_or(ApiError::BadInterval)?;
        let start = params.integer("startTime")?;
        let end = params.integer("endTime")?;
        if let (Some(start), Some(end)) = (start, end)
            && start > end
        {
            return Err(ApiError::StartAfterEnd);
        }
        let limit = params.limit(MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
        Ok(Self {
            interval,
            start,
            end,
            limit,
        })
    }
}

/// One kline as Binance sends it: times and trade count as numbers, amounts as strings.
pub fn kline(listing: &Listing, interval: Interval, open: i64, now: i64) -> Option<Value> {
    let close_time = open + interval.ms;
    let bar = listing.series.bar(open, close_time, now)?;
    let (price, qty) = (listing.market.price_decimals, listing.market.qty_decimals);
    Some(json!([
        open,
        fixed::format_steps(bar.open, price),
        fixed::format_steps(bar.high, price),
        fixed::format_steps(bar.low, price),
        fixed::format_steps(bar.close, price),
        fixed::format_steps(bar.volume, qty),
        close_time - 1,
        fixed::format_f64(bar.quote_volume),
        bar.trades,
        fixed::format_steps(bar.taker_buy_volume, qty),
        fixed::format_f64(bar.taker_buy_quote_volume),
        "0",
    ]))
}

pub async fn klines(
    State(exchange): State<Arc<Exchange>>,
    params: Params,
) -> Result<Json<Vec<Value>>, ApiError> {
    let symbol = params.required("symbol")?.to_owned();
    let page = Page::parse(&params)?;
    exchange.listing(&symbol)?;
    let now = exchange.market_now_ms();
    // A 1000-candle page of 1w candles walks ten million minutes: keep it off the
    // async workers.
    let rows = tokio::task::spawn_blocking(move || {
        let listing = exchange.listing(&symbol)?;
        Ok::<_, ApiError>(
            page.open_times(exchange.listed_at_ms, now)
                .into_iter()
                .filter_map(|open| kline(listing, page.interval, open, now))
                .collect(),
        )
    })
    .await
    .map_err(|_| ApiError::Internal)??;
    Ok(Json(rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Clock, SimConfig};

    const LISTED: i64 = 1_577_836_800_000; // 2020-01-01
    const NOW: i64 = 1_767_225_600_000 + 90_000; // 2026-01-01 00:01:30
    const MIN: i64 = 60_000;

    fn page(start: Option<i64>, end: Option<i64>, limit: usize) -> Page {
        Page {
            interval: Interval::parse("1m").unwrap(),
            start,
            end,
            limit,
        }
    }

    #[test]
    fn latest_candles_include_the_running_one() {
        let times = page(None, None, 3).open_times(LISTED, NOW);
        assert_eq!(times, vec![NOW - 90_000 - MIN, NOW - 90_000, NOW - 30_000]);
    }

    #[test]
    fn start_pages_forward_end_pages_backward() {
        let start = NOW - 90_000 - 10 * MIN;
        assert_eq!(
            page(Some(start), None, 2).open_times(LISTED, NOW),
            vec![start, start + MIN]
        );
        // A start inside a candle begins at the next one.
        assert_eq!(
            page(Some(start + 1), None, 1).open_times(LISTED, NOW),
            vec![start + MIN]
        );
        assert_eq!(
            page(None, Some(start), 2).open_times(LISTED, NOW),
            vec![start - MIN, start]
        );
        let both = page(Some(start), Some(start + 3 * MIN + 5), 1000).open_times(LISTED, NOW);
        assert_eq!(
            both,
            vec![start, start + MIN, start + 2 * MIN, start + 3 * MIN]
        );
        // Paging by the last open time + 1 candle never repeats or skips.
        let first = page(Some(start), None, 4).open_times(LISTED, NOW);
        let next = page(Some(first[3] + MIN), None, 4).open_times(LISTED, NOW);
        assert_eq!(next[0], first[3] + MIN);
    }

    #[test]
    fn nothing_before_listing_or_after_now() {
        assert_eq!(
            page(Some(0), None, 2).open_times(LISTED, NOW),
            vec![LISTED, LISTED + MIN]
        );
        assert!(
            page(Some(NOW + MIN), None, 5)
                .open_times(LISTED, NOW)
                .is_empty()
        );
        assert!(
            page(None, Some(LISTED - 1), 5)
                .open_times(LISTED, NOW)
                .is_empty()
        );
        assert_eq!(
            page(Some(0), None, 1000).open_times(LISTED, NOW).len(),
            1000
        );
        assert_eq!(
            page(None, Some(i64::MAX), 2).open_times(LISTED, NOW).len(),
            2
        );
    }

    #[test]
    fn bad_parameters_name_themselves() {
        let parse =
            |pairs: &[(&str, &str)]| Page::parse(&Params::from_pairs(pairs.iter().copied()));
        assert_eq!(parse(&[]), Err(ApiError::MissingParam("interval")));
        assert_eq!(parse(&[("interval", "7m")]), Err(ApiError::BadInterval));
        assert_eq!(
            parse(&[("interval", "1m"), ("limit", "1001")]),
            Err(ApiError::InvalidParam("limit"))
        );
        assert_eq!(
            parse(&[("interval", "1m"), ("startTime", "5"), ("endTime", "4")]),
            Err(ApiError::StartAfterEnd)
        );
        let err = parse(&[("interval", "1m"), ("startTime", "x")]).unwrap_err();
        assert!(err.to_string().contains("'startTime'"));
        assert_eq!(parse(&[("interval", "1h")]).unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn rows_have_binance_shape() {
        let config = SimConfig {
            clock: Clock::Fixed(NOW),
            ..SimConfig::default()
        };
        let exchange = Exchange::new(config);
        let listing = exchange.listing("BTCUSDT").unwrap();
        let interval = Interval::parse("1m").unwrap();
        let row = kline(listing, interval, NOW - 90_000, NOW).unwrap();
        let row = row.as_array().unwrap();
        assert_eq!(row.len(), 12);
        assert_eq!(row[0], json!(NOW - 90_000));
        assert_eq!(row[6], json!(NOW - 90_000 + MIN - 1));
        assert!(row[1].as_str().unwrap().split_once('.').unwrap().1.len() == 8);
        assert!(row[8].is_i64());
        assert_eq!(row[11], json!("0"));
        // The next row opens where this one closed.
        let next = kline(listing, interval, NOW - 30_000, NOW).unwrap();
        assert_eq!(row[4], next[1]);
    }
}
