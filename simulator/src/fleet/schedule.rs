//! When each simulated bot opens and closes its trades: a pure function of (seed, bot,
//! trade id, start time), so nothing per trade is stored and any trade can be recomputed
//! on any request.
//!
//! Bot `n` opens trade `k` (1-based, as freqtrade numbers them) at
//! `start + phase_n + (k - 1) * period` and holds it `hold_k`, drawn in `[0.5, 1.5) * hold`.
//! Every [`LONG_EVERY`]th trade holds `3 * (period + hold_k)` instead, so it closes after the
//! trades opened after it: a sync that pages closed trades by offset misses it (the
//! "offset trap"), one that syncs by trade id does not.

use std::time::Duration;

use crate::hash;

/// Every this many trades one holds long enough to close after its successors.
pub const LONG_EVERY: u64 = 5;

/// Salt of the per-bot keys, so the fleet's draws differ from the price paths' of the
/// same seed.
const FLEET_SALT: u64 = 0x666c_6565_7473_696d; // "fleetsim"

/// Longest period or hold accepted (about ten years): keeps every sum far from overflow.
const MAX_SPAN_MS: i64 = 10 * 366 * 24 * 3_600_000;

/// The fleet-wide trading rhythm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    start_ms: i64,
    period_ms: i64,
    hold_ms: i64,
    seed: u64,
    /// No trade is held longer: every trade opened at or before `now - max_hold_ms` has
    /// closed, whatever the forced exits.
    max_hold_ms: i64,
}

/// A bot's constants, computed once at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BotPlan {
    /// Keys the bot's per-trade draws (hold, order ids).
    pub key: u64,
    /// When trade 1 opens.
    pub first_open_ms: i64,
}

/// When one trade opens and (unless exited early) closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub open_ms: i64,
    pub close_ms: i64,
}

fn clamp_ms(span: Duration) -> i64 {
    i64::try_from(span.as_millis())
        .unwrap_or(MAX_SPAN_MS)
        .clamp(1, MAX_SPAN_MS)
}

impl Schedule {
    /// Periods and holds are clamped to 1 ms .. ~10 years, so no request can divide by
    /// zero or overflow.
    pub fn new(start_ms: i64, period: Duration, hold: Duration, seed: u64) -> Self {
        let period_ms = clamp_ms(period);
        let hold_ms = clamp_ms(hold);
        Schedule {
            start_ms,
            period_ms,
            hold_ms,
            seed,
            // 3 * (period + 1.5 * hold), plus rounding slack.
            max_hold_ms: 3 * period_ms + 5 * hold_ms + 3,
        }
    }

    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    /// The most trades one bot can have open at once.
    pub fn max_open_trades(&self) -> u64 {
        (self.max_hold_ms / self.period_ms + 1).unsigned_abs()
    }

    pub fn bot(&self, n: u32) -> BotPlan {
        let key = hash::hash(hash::mix(self.seed ^ FLEET_SALT), i64::from(n));
        // The phase spreads the bots' trades (and so the load) over one period.
        let phase = hash::mix(key) % self.period_ms.unsigned_abs();
        BotPlan {
            key,
            first_open_ms: self.start_ms + phase as i64,
        }
    }

    /// How many trades the bot has opened by `now_ms`: ids `1..=opened`.
    pub fn opened(&self, bot: &BotPlan, now_ms: i64) -> u64 {
        if now_ms < bot.first_open_ms {
            0
        } else {
            ((now_ms - bot.first_open_ms) / self.period_ms).unsigned_abs() + 1
        }
    }

    /// Trades `1..=settled` are closed at `now_ms` for certain; only the later ones need
    /// looking at.
    pub fn settled(&self, bot: &BotPlan, now_ms: i64) -> u64 {
        self.opened(bot, now_ms.saturating_sub(self.max_hold_ms))
    }

    /// Trade `id`'s open time and natural close time. `id` is at least 1.
    pub fn slot(&self, bot: &BotPlan, id: u64) -> Slot {
        let index = i64::try_from(id.saturating_sub(1)).unwrap_or(i64::MAX);
        let open_ms = bot
            .first_open_ms
            .saturating_add(index.saturating_mul(self.period_ms));
        let draw = hash::unit(hash::hash(bot.key, index));
        let hold = ((self.hold_ms as f64 * (0.5 + draw)).round() as i64).max(1);
        let hold = if id.is_multiple_of(LONG_EVERY) {
            3 * (self.period_ms + hold)
        } else {
            hold
        };
        Slot {
            open_ms,
            close_ms: open_ms.saturating_add(hold),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_795_562_691_000;

    fn schedule() -> Schedule {
        Schedule::new(T0, Duration::from_secs(90), Duration::from_secs(45), 1)
    }

    #[test]
    fn deterministic() {
        let (a, b) = (schedule(), schedule());
        for n in 0..50 {
            assert_eq!(a.bot(n), b.bot(n));
            for id in 1..50 {
                assert_eq!(a.slot(&a.bot(n), id), b.slot(&b.bot(n), id));
            }
        }
        let other = Schedule::new(T0, Duration::from_secs(90), Duration::from_secs(45), 2);
        assert_ne!(a.bot(0), other.bot(0));
    }

    #[test]
    fn phases_spread_within_one_period() {
        let s = schedule();
        let phases: Vec<i64> = (0..1000).map(|n| s.bot(n).first_open_ms - T0).collect();
        assert!(phases.iter().all(|p| (0..90_000).contains(p)));
        // Not all in one place: both halves of the period are used.
        assert!(phases.iter().any(|p| *p < 45_000) && phases.iter().any(|p| *p >= 45_000));
    }

    #[test]
    fn open_before_close_and_ids_ascend_by_open_time() {
        let s = schedule();
        for n in 0..100 {
            let bot = s.bot(n);
            let mut previous_open = i64::MIN;
            for id in 1..200 {
                let slot = s.slot(&bot, id);
                assert!(slot.open_ms < slot.close_ms);
                assert!(slot.close_ms - slot.open_ms <= s.max_hold_ms);
                assert!(slot.open_ms > previous_open, "ids ascend by open time");
                previous_open = slot.open_ms;
                let hold = slot.close_ms - slot.open_ms;
                if id % LONG_EVERY != 0 {
                    assert!((22_500..=67_500).contains(&hold), "hold {hold} ms");
                }
            }
        }
    }

    #[test]
    fn every_fifth_trade_closes_after_the_next() {
        let s = schedule();
        for n in 0..100 {
            let bot = s.bot(n);
            for id in (LONG_EVERY..200).step_by(LONG_EVERY as usize) {
                assert!(s.slot(&bot, id).close_ms > s.slot(&bot, id + 1).close_ms);
            }
        }
    }

    #[test]
    fn opened_and_settled_agree_with_slots() {
        let s = schedule();
        let bot = s.bot(7);
        assert_eq!(s.opened(&bot, bot.first_open_ms - 1), 0);
        assert_eq!(s.opened(&bot, bot.first_open_ms), 1);
        for step in 0..400 {
            let now = bot.first_open_ms + step * 7_919;
            let opened = s.opened(&bot, now);
            assert!(s.slot(&bot, opened).open_ms <= now);
            assert!(s.slot(&bot, opened + 1).open_ms > now);
            let settled = s.settled(&bot, now);
            assert!((1..=settled).all(|id| s.slot(&bot, id).close_ms <= now));
        }
    }

    #[test]
    fn degenerate_config_is_clamped() {
        let s = Schedule::new(T0, Duration::ZERO, Duration::ZERO, 0);
        let bot = s.bot(u32::MAX);
        assert_eq!(s.opened(&bot, T0 + 10), 11);
        let slot = s.slot(&bot, u64::MAX);
        assert!(slot.open_ms <= slot.close_ms);
        assert!(s.max_open_trades() >= 1);
    }
}
