//! Candles of one market, built from one-minute bars of the price path, in whole ticks
//! and lots.
//!
//! The minute is the atom: a candle of any interval aggregates the minute bars it spans,
//! so a 5m candle is exactly its five 1m candles, a candle's close is the next candle's
//! open, and low <= open, close <= high always holds.

use crate::config::Market;
use crate::hash;
use crate::price::PricePath;

pub const MINUTE_MS: i64 = 60_000;

/// Largest wick beyond open/close in one minute, as a share of price.
const MAX_WICK: f64 = 0.0003;
/// Mean traded value per minute, in quote units.
const QUOTE_PER_MINUTE: f64 = 25_000.0;

/// OHLCV over a span: prices in ticks, volumes in lots of the market.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub volume: i64,
    pub quote_volume: f64,
    pub trades: i64,
    pub taker_buy_volume: i64,
    pub taker_buy_quote_volume: f64,
}

impl Bar {
    fn flat(price: i64) -> Self {
        Self {
            open: price,
            high: price,
            low: price,
            close: price,
            volume: 0,
            quote_volume: 0.0,
            trades: 0,
            taker_buy_volume: 0,
            taker_buy_quote_volume: 0.0,
        }
    }

    /// Extends this bar by the one that follows it.
    fn extend(&mut self, next: &Bar) {
        self.high = self.high.max(next.high);
        self.low = self.low.min(next.low);
        self.close = next.close;
        self.volume = self.volume.saturating_add(next.volume);
        self.quote_volume += next.quote_volume;
        self.trades = self.trades.saturating_add(next.trades);
        self.taker_buy_volume = self.taker_buy_volume.saturating_add(next.taker_buy_volume);
        self.taker_buy_quote_volume += next.taker_buy_quote_volume;
    }
}

/// A market's price path with its tick and lot sizes.
#[derive(Clone, Debug)]
pub struct Series {
    path: PricePath,
    key: u64,
    tick: f64,
    lot: f64,
}

impl Series {
    pub fn new(seed: u64, market: &Market) -> Self {
        let symbol = market.symbol();
        Self {
            path: PricePath::new(seed, &symbol, market.base_price),
            key: hash::mix(seed ^ hash::fnv1a(&symbol) ^ 0x5eed),
            tick: 10f64.powi(-(market.price_decimals as i32)),
            lot: 10f64.powi(-(market.qty_decimals as i32)),
        }
    }

    /// The price at `t_ms`, rounded to whole ticks (at least one).
    pub fn ticks_at(&self, t_ms: i64) -> i64 {
        ((self.path.at(t_ms) / self.tick).round() as i64).max(1)
    }

    /// A price in ticks as a float price.
    pub fn price_of(&self, ticks: i64) -> f64 {
        ticks as f64 * self.tick
    }

    /// A value in quote units as a whole number of lots at `price_ticks`, at least one.
    pub fn lots_worth(&self, quote: f64, price_ticks: i64) -> i64 {
        ((quote / (self.price_of(price_ticks) * self.lot)).round() as i64).max(1)
    }

    /// A volume in lots as a float quantity.
    pub fn qty_of(&self, lots: i64) -> f64 {
        lots as f64 * self.lot
    }

    /// The bar over `[from, to)`, as known at `now`: minutes after `now` are not there
    /// yet and the minute holding `now` is partial. `from` must be a whole minute; `None`
    /// when `from` is after `now`.
    pub fn bar(&self, from: i64, to: i64, now: i64) -> Option<Bar> {
        if from > now {
            return None;
        }
        let end = to.min(now);
        let mut open = self.ticks_at(from);
        let mut bar = Bar::flat(open);
        let mut minute = from;
        while minute < end {
            let next = minute.saturating_add(MINUTE_MS);
            let part = if next <= now {
                self.minute_bar(minute, open, self.ticks_at(next), 1.0)
            } else {
                let elapsed = (now - minute) as f64 / MINUTE_MS as f64;
                self.minute_bar(minute, open, self.ticks_at(now), elapsed)
            };
            bar.extend(&part);
            open = part.close;
            minute = next;
        }
        Some(bar)
    }

    /// One minute from `open` to `close`; `elapsed < 1` is the running minute, which has
    /// no wicks yet and the volume traded so far.
    fn minute_bar(&self, minute: i64, open: i64, close: i64, elapsed: f64) -> Bar {
        let index = minute.div_euclid(MINUTE_MS);
        let draw = |salt: i64| {
            hash::unit(hash::hash(
                self.key,
                index.wrapping_mul(8).wrapping_add(salt),
            ))
        };
        let complete = elapsed >= 1.0;
        let wick = |price: i64, salt| {
            if complete {
                (price as f64 * MAX_WICK * draw(salt)).round() as i64
            } else {
                0
            }
        };
        let high = open.max(close) + wick(open.max(close), 0);
        let low = (open.min(close) - wick(open.min(close), 1)).max(1);
        let typical = self.price_of(open + high + low + close) / 4.0;
        let quote = QUOTE_PER_MINUTE * (0.3 + 1.4 * draw(2)) * elapsed;
        let volume = ((quote / (typical * self.lot)).round() as i64).max(0);
        let quote_volume = self.qty_of(volume) * typical;
        let taker_share = 0.35 + 0.3 * draw(3);
        let taker_buy_volume = (volume as f64 * taker_share).round() as i64;
        Bar {
            open,
            high,
            low,
            close,
            volume,
            quote_volume,
            trades: ((20.0 + 400.0 * draw(4)) * elapsed).round() as i64,
            taker_buy_volume,
            taker_buy_quote_volume: self.qty_of(taker_buy_volume) * typical,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_767_225_600_000; // 2026-01-01, a whole day
    const FAR: i64 = i64::MAX / 2;

    fn btc() -> Series {
        Series::new(1, &"BTC/USDT".parse().unwrap())
    }

    #[test]
    fn ohlc_consistent_and_continuous() {
        let series = btc();
        for interval in [MINUTE_MS, 5 * MINUTE_MS, 3_600_000] {
            let mut previous: Option<Bar> = None;
            for i in 0..200 {
                let open = T0 + i * interval;
                let bar = series.bar(open, open + interval, FAR).unwrap();
                assert!(bar.low <= bar.open.min(bar.close) && bar.open.max(bar.close) <= bar.high);
                assert!(bar.low >= 1 && bar.volume > 0 && bar.trades > 0);
                assert!(bar.taker_buy_volume <= bar.volume);
                if let Some(p) = previous {
                    assert_eq!(p.close, bar.open, "gap at candle {i} of {interval} ms");
                }
                previous = Some(bar);
            }
        }
    }

    #[test]
    fn larger_candles_aggregate_minutes() {
        let series = btc();
        let five = series.bar(T0, T0 + 5 * MINUTE_MS, FAR).unwrap();
        let minutes: Vec<Bar> = (0..5)
            .map(|i| {
                series
                    .bar(T0 + i * MINUTE_MS, T0 + (i + 1) * MINUTE_MS, FAR)
                    .unwrap()
            })
            .collect();
        assert_eq!(five.open, minutes[0].open);
        assert_eq!(five.close, minutes[4].close);
        assert_eq!(five.high, minutes.iter().map(|b| b.high).max().unwrap());
        assert_eq!(five.low, minutes.iter().map(|b| b.low).min().unwrap());
        assert_eq!(five.volume, minutes.iter().map(|b| b.volume).sum::<i64>());
    }

    #[test]
    fn running_candle_follows_now() {
        let series = btc();
        let now = T0 + 2 * MINUTE_MS + 30_000;
        let running = series.bar(T0, T0 + 5 * MINUTE_MS, now).unwrap();
        assert_eq!(running.close, series.ticks_at(now));
        let closed = series.bar(T0, T0 + 2 * MINUTE_MS, FAR).unwrap();
        assert!(running.volume > closed.volume);
        assert_eq!(
            series.bar(T0, T0 + MINUTE_MS, T0).unwrap(),
            Bar::flat(series.ticks_at(T0))
        );
        assert_eq!(series.bar(T0 + 1, T0 + MINUTE_MS, T0), None);
        // Same instant, same answer.
        assert_eq!(running, series.bar(T0, T0 + 5 * MINUTE_MS, now).unwrap());
    }
}
