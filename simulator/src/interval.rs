//! Kline intervals and where their candles open.

use crate::series::MINUTE_MS;

const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// A candle length, with the offset its candles are aligned to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    pub ms: i64,
    /// Binance weeks open on Monday; 1970-01-01 was a Thursday.
    offset_ms: i64,
}

impl Interval {
    /// Binance's interval names, from 1m to 1w. `1s` and `1M` are not served: the minute
    /// is the simulator's atom, and months have no fixed length.
    pub fn parse(name: &str) -> Option<Self> {
        let (ms, offset_ms) = match name {
            "1m" => (MINUTE_MS, 0),
            "3m" => (3 * MINUTE_MS, 0),
            "5m" => (5 * MINUTE_MS, 0),
            "15m" => (15 * MINUTE_MS, 0),
            "30m" => (30 * MINUTE_MS, 0),
            "1h" => (HOUR_MS, 0),
            "2h" => (2 * HOUR_MS, 0),
            "4h" => (4 * HOUR_MS, 0),
            "6h" => (6 * HOUR_MS, 0),
            "8h" => (8 * HOUR_MS, 0),
            "12h" => (12 * HOUR_MS, 0),
            "1d" => (DAY_MS, 0),
            "3d" => (3 * DAY_MS, 0),
            "1w" => (7 * DAY_MS, 4 * DAY_MS),
            _ => return None,
        };
        Some(Self { ms, offset_ms })
    }

    /// Open time of the candle holding `t`.
    pub fn open_at_or_before(self, t: i64) -> i64 {
        t.saturating_sub(self.offset_ms)
            .div_euclid(self.ms)
            .saturating_mul(self.ms)
            .saturating_add(self.offset_ms)
    }

    /// First open time at or after `t`.
    pub fn open_at_or_after(self, t: i64) -> i64 {
        let open = self.open_at_or_before(t);
        if open < t {
            open.saturating_add(self.ms)
        } else {
            open
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment() {
        let five = Interval::parse("5m").unwrap();
        assert_eq!(five.open_at_or_before(1_000_000), 900_000);
        assert_eq!(five.open_at_or_after(1_000_000), 1_200_000);
        assert_eq!(five.open_at_or_after(900_000), 900_000);
        assert_eq!(five.open_at_or_before(-1), -300_000);
        let week = Interval::parse("1w").unwrap();
        // 2026-01-05 was a Monday.
        assert_eq!(
            week.open_at_or_before(1_767_571_200_000 + 3 * DAY_MS),
            1_767_571_200_000
        );
        assert_eq!(
            week.open_at_or_before(1_767_571_200_000 - 1),
            1_767_571_200_000 - 7 * DAY_MS
        );
        assert_eq!(five.open_at_or_before(i64::MIN), i64::MIN);
        assert!(
            Interval::parse("1s").is_none()
                && Interval::parse("1M").is_none()
                && Interval::parse("").is_none()
        );
    }
}
