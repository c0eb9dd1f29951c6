//! The synthetic price path: a pure function of (seed, symbol, instant).
//!
//! Log-price is the log of the base price plus a sum of sines (periods from minutes to
//! months, period and phase drawn from the seed and symbol) plus piecewise-linear value
//! noise. So any instant, past or present, has one price; the path is continuous; it
//! moves about 1 % within half an hour, enough for a simple strategy to enter and exit;
//! and, being a bounded sum, it never drifts away: it stays within about ±30 % of the base.

use std::f64::consts::TAU;

use crate::hash;

/// (period in seconds, amplitude in log-price) of each wave.
const WAVES: [(i64, f64); 7] = [
    (300, 0.0025),
    (1_380, 0.005),
    (7_200, 0.008),
    (39_600, 0.015),
    (190_800, 0.03),
    (1_209_600, 0.06),
    (7_776_000, 0.15),
];

/// (knot spacing in ms, amplitude in log-price) of each value-noise layer.
const NOISE: [(i64, f64); 2] = [(60_000, 0.0015), (3_600_000, 0.006)];

/// One wave with its per-symbol period (ms) and phase.
#[derive(Clone, Copy, Debug)]
struct Wave {
    period_ms: i64,
    amplitude: f64,
    phase: f64,
}

/// The price path of one symbol.
#[derive(Clone, Debug)]
pub struct PricePath {
    log_base: f64,
    waves: Vec<Wave>,
    noise_key: u64,
}

impl PricePath {
    pub fn new(seed: u64, symbol: &str, base_price: f64) -> Self {
        let key = hash::mix(seed ^ hash::fnv1a(symbol));
        let waves = WAVES
            .iter()
            .zip(0_i64..)
            .map(|(&(period_s, amplitude), i)| {
                // Periods vary by ±15 % per symbol, so pairs do not move in lockstep.
                let stretch = 0.85 + 0.3 * hash::unit(hash::hash(key, 2 * i));
                Wave {
                    period_ms: ((period_s * 1000) as f64 * stretch).round() as i64,
                    amplitude,
                    phase: TAU * hash::unit(hash::hash(key, 2 * i + 1)),
                }
            })
            .collect();
        Self {
            log_base: base_price.ln(),
            waves,
            noise_key: hash::mix(key),
        }
    }

    /// The price at `t_ms` (ms since epoch).
    pub fn at(&self, t_ms: i64) -> f64 {
        let waves: f64 = self
            .waves
            .iter()
            .map(|w| {
                // Reduce in integers first: sin of a huge argument loses precision.
                let turn = t_ms.rem_euclid(w.period_ms) as f64 / w.period_ms as f64;
                w.amplitude * (TAU * turn + w.phase).sin()
            })
            .sum();
        let noise: f64 = NOISE
            .iter()
            .zip(0_i64..)
            .map(|(&(knot_ms, amplitude), i)| {
                amplitude * value_noise(hash::hash(self.noise_key, i), t_ms, knot_ms)
            })
            .sum();
        (self.log_base + waves + noise).exp()
    }
}

/// Random values in `[-1, 1]` at every multiple of `knot_ms`, linearly interpolated.
fn value_noise(key: u64, t_ms: i64, knot_ms: i64) -> f64 {
    let knot = t_ms.div_euclid(knot_ms);
    let frac = t_ms.rem_euclid(knot_ms) as f64 / knot_ms as f64;
    let at = |k: i64| 2.0 * hash::unit(hash::hash(key, k)) - 1.0;
    let (a, b) = (at(knot), at(knot.saturating_add(1)));
    a + (b - a) * frac
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_767_225_600_000; // 2026-01-01

    #[test]
    fn deterministic_per_seed_and_symbol() {
        let a = PricePath::new(1, "BTCUSDT", 60_000.0);
        let b = PricePath::new(1, "BTCUSDT", 60_000.0);
        assert_eq!(a.at(T0).to_bits(), b.at(T0).to_bits());
        assert_ne!(a.at(T0), PricePath::new(2, "BTCUSDT", 60_000.0).at(T0));
        assert_ne!(
            a.at(T0) / 60_000.0,
            PricePath::new(1, "ETHUSDT", 60_000.0).at(T0) / 60_000.0
        );
    }

    #[test]
    fn continuous_and_bounded() {
        let path = PricePath::new(9, "SOLUSDT", 150.0);
        // |ln(price / base)| is at most the sum of all amplitudes.
        let bound = (WAVES.iter().chain(&NOISE).map(|&(_, a)| a).sum::<f64>()).exp();
        let mut previous = path.at(T0);
        for s in 1..200_000 {
            let price = path.at(T0 + s * 1000);
            assert!(price > 150.0 / bound && price < 150.0 * bound);
            // One second never moves the price by more than 0.05 %.
            assert!((price / previous - 1.0).abs() < 0.0005, "jump at {s}s");
            previous = price;
        }
        // Far past and far future are served too.
        assert!(
            path.at(0).is_finite()
                && path.at(i64::MAX).is_finite()
                && path.at(i64::MIN).is_finite()
        );
    }

    #[test]
    fn moves_enough_to_trade() {
        // Within every hour the price spans well over the 0.3 % that a 0.1 % ROI plus
        // 0.1 % fee each way needs.
        let path = PricePath::new(1, "BTCUSDT", 60_000.0);
        for hour in 0..48 {
            let prices: Vec<f64> = (0..60)
                .map(|m| path.at(T0 + hour * 3_600_000 + m * 60_000))
                .collect();
            let (lo, hi) = prices
                .iter()
                .fold((f64::MAX, 0.0_f64), |(lo, hi), &p| (lo.min(p), hi.max(p)));
            assert!(
                hi / lo - 1.0 > 0.003,
                "hour {hour} spans only {}",
                hi / lo - 1.0
            );
        }
    }
}
