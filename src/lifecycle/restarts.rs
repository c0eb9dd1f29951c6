//! How often the reconciler may start again a bot whose process was lost (an engine
//! restart, an out-of-memory kill, a crash): at most `limit` times within any
//! `window`; past that it gives the bot up, which stays in error until someone starts,
//! stops or deletes it. A bot already in error is started again only if this control
//! plane saw it fail while running: what it finds in error when it starts (an earlier
//! give-up, a failure from before an upgrade) is left alone. Kept in memory.

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

/// What this control plane knows of one bot's losses.
#[derive(Debug, Default)]
struct Record {
    /// Restarts within the window.
    restarts: VecDeque<Instant>,
    /// Seen failing (live) since its last start, stop or deletion request.
    failed: bool,
    /// Out of restarts: not started again until someone asks for it.
    given_up: bool,
}

/// The restarts each bot had within the window, and what was seen of it.
#[derive(Debug, Default)]
pub struct RestartBudget {
    policy: RestartPolicy,
    recent: Mutex<HashMap<BotId, Record>>,
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
    /// `None` when the limit is reached: then the bot is given up.
    pub fn take(&self, bot: BotId, now: Instant) -> Option<u32> {
        let Ok(mut recent) = self.recent.lock() else {
            return None;
        };
        let record = recent.entry(bot).or_default();
        self.forget_old(&mut record.restarts, now);
        if record.given_up || record.restarts.len() >= self.policy.limit as usize {
            record.given_up = true;
            return None;
        }
        record.restarts.push_back(now);
        u32::try_from(record.restarts.len()).ok()
    }

    /// Whether `bot`, in error, may be started again at `now`: seen failing, not given
    /// up, restarts left.
    pub fn allows_failed(&self, bot: BotId, now: Instant) -> bool {
        let Ok(mut recent) = self.recent.lock() else {
            return false;
        };
        let Some(record) = recent.get_mut(&bot) else {
            return false;
        };
        self.forget_old(&mut record.restarts, now);
        record.failed && !record.given_up && record.restarts.len() < self.policy.limit as usize
    }

    /// `bot` failed (a live event).
    pub fn saw_failure(&self, bot: BotId) {
        if let Ok(mut recent) = self.recent.lock() {
            recent.entry(bot).or_default().failed = true;
        }
    }

    /// Someone asked `bot` to start, stop or be deleted: what was seen of its failures
    /// no longer counts (its restarts within the window still do).
    pub fn asked(&self, bot: BotId) {
        if let Ok(mut recent) = self.recent.lock()
            && let Some(record) = recent.get_mut(&bot)
        {
            record.failed = false;
            record.given_up = false;
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
        // Another bot has its own count.
        assert_eq!(budget.take(b, start + Duration::from_secs(20)), Some(1));
        // The first restart leaves the window: one more is allowed, and it is the
        // second within the window.
        let later = start + Duration::from_secs(60);
        assert_eq!(budget.take(a, later), Some(2));
        assert_eq!(budget.take(a, later), None);
    }

    #[test]
    fn a_bot_out_of_restarts_is_given_up_until_someone_asks_for_it() {
        let budget = RestartBudget::new(RestartPolicy {
            limit: 1,
            window: Duration::from_secs(60),
        });
        let a = bot();
        let start = Instant::now();
        assert_eq!(budget.take(a, start), Some(1));
        budget.saw_failure(a);
        assert!(!budget.allows_failed(a, start), "no restart left");
        assert_eq!(budget.take(a, start), None);
        // Given up: not even once the window has passed.
        let later = start + Duration::from_secs(120);
        assert!(!budget.allows_failed(a, later));
        assert_eq!(budget.take(a, later), None);
        // Started by someone, then seen failing again: it may be restarted.
        budget.asked(a);
        budget.saw_failure(a);
        assert!(budget.allows_failed(a, later));
        assert_eq!(budget.take(a, later), Some(1));
    }

    #[test]
    fn a_bot_in_error_is_restarted_only_if_seen_failing() {
        let budget = RestartBudget::new(RestartPolicy::default());
        let a = bot();
        assert!(
            !budget.allows_failed(a, Instant::now()),
            "found in error at start"
        );
        budget.saw_failure(a);
        assert!(budget.allows_failed(a, Instant::now()));
    }

    #[test]
    fn a_limit_of_zero_never_restarts() {
        let budget = RestartBudget::new(RestartPolicy {
            limit: 0,
            window: Duration::from_secs(60),
        });
        let a = bot();
        budget.saw_failure(a);
        assert!(!budget.allows_failed(a, Instant::now()));
        assert_eq!(budget.take(a, Instant::now()), None);
    }
}
