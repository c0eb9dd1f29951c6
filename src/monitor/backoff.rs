//! When to leave a bot alone: after it answered 429 (for as long as it asked), and,
//! for workers that may skip polls, after failures (doubling waits, capped).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use anytrade_aggregates::values::BotId;
use tokio::time::Instant;

/// The longest wait after failures, in intervals: 2, 4, 8, then 16.
const MAX_DOUBLINGS: u32 = 4;

#[derive(Default)]
pub struct Backoff {
    bots: Mutex<HashMap<BotId, Entry>>,
}

#[derive(Clone, Copy)]
struct Entry {
    failures: u32,
    until: Instant,
}

impl Backoff {
    /// Whether `bot` is to be left alone now.
    pub fn is_waiting(&self, bot: BotId) -> bool {
        self.bots
            .lock()
            .is_ok_and(|bots| bots.get(&bot).is_some_and(|e| e.until > Instant::now()))
    }

    /// The bot answered 429: wait `retry_after`, or `fallback` when it named none.
    pub fn rate_limited(&self, bot: BotId, retry_after: Option<Duration>, fallback: Duration) {
        let until = Instant::now() + retry_after.unwrap_or(fallback);
        if let Ok(mut bots) = self.bots.lock() {
            let entry = bots.entry(bot).or_insert(Entry { failures: 0, until });
            entry.until = entry.until.max(until);
        }
    }

    /// The bot failed again: skip it for `interval` times 2, 4, 8, then 16.
    pub fn failed(&self, bot: BotId, interval: Duration) {
        if let Ok(mut bots) = self.bots.lock() {
            let entry = bots.entry(bot).or_insert(Entry {
                failures: 0,
                until: Instant::now(),
            });
            entry.failures += 1;
            let doublings = entry.failures.min(MAX_DOUBLINGS);
            entry.until = Instant::now() + interval * 2u32.pow(doublings);
        }
    }

    /// The bot answered: no more waiting.
    pub fn succeeded(&self, bot: BotId) {
        if let Ok(mut bots) = self.bots.lock() {
            bots.remove(&bot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_double_after_failures_and_end_on_success() {
        let backoff = Backoff::default();
        let bot = BotId::new();
        let interval = Duration::from_secs(60);
        assert!(!backoff.is_waiting(bot));
        backoff.failed(bot, interval);
        assert!(backoff.is_waiting(bot));
        tokio::time::advance(Duration::from_secs(121)).await;
        assert!(
            !backoff.is_waiting(bot),
            "2 intervals after the first failure"
        );
        backoff.failed(bot, interval);
        tokio::time::advance(Duration::from_secs(200)).await;
        assert!(backoff.is_waiting(bot), "4 intervals after the second");
        for _ in 0..10 {
            backoff.failed(bot, interval);
        }
        tokio::time::advance(Duration::from_secs(16 * 60 + 1)).await;
        assert!(!backoff.is_waiting(bot), "capped at 16 intervals");
        backoff.failed(bot, interval);
        backoff.succeeded(bot);
        assert!(!backoff.is_waiting(bot));
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_waits_as_long_as_the_bot_asks() {
        let backoff = Backoff::default();
        let bot = BotId::new();
        backoff.rate_limited(bot, Some(Duration::from_secs(7)), Duration::from_secs(30));
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(backoff.is_waiting(bot));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(!backoff.is_waiting(bot));
        backoff.rate_limited(bot, None, Duration::from_secs(30));
        tokio::time::advance(Duration::from_secs(29)).await;
        assert!(backoff.is_waiting(bot));
    }
}
