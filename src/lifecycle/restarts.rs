//! How often the reconciler may start again a bot whose process was lost (an engine
//! restart, an out-of-memory kill, a crash): at most `limit` times within any
//! `window`, so a bot that keeps dying stays in error instead of looping. Counted in
//! memory: a restarted control plane starts counting afresh.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anytrade_aggregates::values::BotId;

/// The limit a user sets (`runtime.restart_limit` within `runtime.restart_window_secs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Restarts allowed within `window`; 0 never restarts a lost bot.
    pub limit: u32,
    pub window: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            limit: 3,
            window: Duration::from_secs(600),
        }
    }
}

impl std::fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "at most {} within {} s",
            self.limit,
            self.window.as_secs()
        )
    }
}

/// The restarts each bot had within the window.
#[derive(Debug, Default)]
pub struct RestartBudget {
    policy: RestartPolicy,
    recent: Mutex<HashMap<BotId, VecDeque<Instant>>>,
}

impl RestartBudget {
    pub fn new(policy: RestartPolicy) -> Self {
        Self {
            policy,
            recent: Mutex::default(),
        }
    }

    pub fn policy(&self) -> RestartPolicy {
        self.policy
    }

    /// Counts a restart of `bot` at `now` and returns its number within the window, or
    /// `None` when the limit is reached (nothing is counted then).
    pub fn take(&self, bot: BotId, now: Instant) -> Option<u32> {
        let Ok(mut recent) = self.recent.lock() else {
            return None;
        };
        let times = recent.entry(bot).or_default();
        self.forget_old(times, now);
        if times.len() >= self.policy.limit as usize {
            return None;
        }
        times.push_back(now);
        u32::try_from(times.len()).ok()
    }

    /// Whether `bot` may be restarted at `now`.
    pub fn allows(&self, bot: BotId, now: Instant) -> bool {
        let Ok(mut recent) = self.recent.lock() else {
            return false;
        };
        match recent.get_mut(&bot) {
            Some(times) => {
                self.forget_old(times, now);
                times.len() < self.policy.limit as usize
            }
            None => self.policy.limit > 0,
        }
    }

    fn forget_old(&self, times: &mut VecDeque<Instant>, now: Instant) {
        while times
            .front()
            .is_some_and(|at| now.duration_since(*at) >= self.policy.window)
        {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bot() -> BotId {
        BotId::from(uuid::Uuid::new_v4())
    }

    #[test]
    fn restarts_are_counted_up_to_the_limit_within_the_window() {
        let budget = RestartBudget::new(RestartPolicy {
            limit: 2,
            window: Duration::from_secs(60),
        });
        let (a, b) = (bot(), bot());
        let start = Instant::now();
        assert_eq!(budget.take(a, start), Some(1));
        assert_eq!(budget.take(a, start + Duration::from_secs(10)), Some(2));
        assert!(!budget.allows(a, start + Duration::from_secs(20)));
        assert_eq!(budget.take(a, start + Duration::from_secs(20)), None);
        // Another bot has its own count.
        assert_eq!(budget.take(b, start + Duration::from_secs(20)), Some(1));
        // The first restart leaves the window: one more is allowed, and it is the
        // second within the window.
        let later = start + Duration::from_secs(60);
        assert!(budget.allows(a, later));
        assert_eq!(budget.take(a, later), Some(2));
        assert_eq!(budget.take(a, later), None);
    }

    #[test]
    fn a_limit_of_zero_never_restarts() {
        let budget = RestartBudget::new(RestartPolicy {
            limit: 0,
            window: Duration::from_secs(60),
        });
        let a = bot();
        assert!(!budget.allows(a, Instant::now()));
        assert_eq!(budget.take(a, Instant::now()), None);
    }
}
