//! Login throttling: after [`PER_USER`] failed logins for one username, or
//! [`PER_CLIENT`] from one client address, within [`WINDOW`], further attempts are
//! refused (429 with `Retry-After`) until the oldest of those failures is older than
//! the window, whether the password is right or not, so guessing is slowed to a
//! handful of tries per window.
//!
//! Only failures count: a script that logs in often, correctly, is never held up (a
//! rate limiter on every attempt, such as `governor`'s, would hold it up). Kept in
//! memory per instance: behind several instances an attacker gets that many times the
//! tries.

use std::borrow::Borrow;
use std::collections::VecDeque;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;

/// Failed logins of one username within [`WINDOW`] after which it must wait.
pub const PER_USER: usize = 5;
/// Failed logins from one client address within [`WINDOW`] after which it must wait.
pub const PER_CLIENT: usize = 20;
pub const WINDOW: Duration = Duration::from_secs(300);

/// Usernames and addresses remembered at once; the least recently failing go first.
const REMEMBERED: usize = 10_000;

/// The recent failures of one key: at most `limit` instants, oldest first.
struct Failures<K: Hash + Eq> {
    limit: usize,
    recent: Mutex<LruCache<K, VecDeque<Instant>>>,
}

impl<K: Hash + Eq> Failures<K> {
    fn new(limit: usize) -> Self {
        let capacity = NonZeroUsize::new(REMEMBERED).unwrap_or(NonZeroUsize::MIN);
        Self {
            limit,
            recent: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// How long `key` must wait before trying again, if it must.
    fn wait<Q>(&self, key: &Q, now: Instant) -> Option<Duration>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let recent = self.recent.lock().ok()?;
        let failures = recent.peek(key)?;
        if failures.len() < self.limit {
            return None;
        }
        let oldest = *failures.front()?;
        (oldest + WINDOW)
            .checked_duration_since(now)
            .filter(|wait| !wait.is_zero())
    }

    fn fail(&self, key: K, now: Instant) {
        let Ok(mut recent) = self.recent.lock() else {
            return;
        };
        let failures = recent.get_or_insert_mut(key, VecDeque::new);
        failures.retain(|at| now.saturating_duration_since(*at) < WINDOW);
        if failures.len() == self.limit {
            failures.pop_front();
        }
        failures.push_back(now);
    }

    fn forget<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Ok(mut recent) = self.recent.lock() {
            recent.pop(key);
        }
    }
}

/// The failed logins an instance has seen.
pub struct LoginThrottle {
    users: Failures<String>,
    clients: Failures<IpAddr>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            users: Failures::new(PER_USER),
            clients: Failures::new(PER_CLIENT),
        }
    }
}

impl LoginThrottle {
    /// How long an attempt for `username` from `client` must wait, if it must.
    pub fn wait(&self, username: &str, client: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let user = self.users.wait(username, now);
        let client = client.and_then(|client| self.clients.wait(&client, now));
        user.max(client)
    }

    /// Counts a failed attempt.
    pub fn failed(&self, username: &str, client: Option<IpAddr>, now: Instant) {
        self.users.fail(username.to_owned(), now);
        if let Some(client) = client {
            self.clients.fail(client, now);
        }
    }

    /// The username's failures are forgotten once its password was given (the
    /// address's are not: it may be trying many names).
    pub fn succeeded(&self, username: &str) {
        self.users.forget(username);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn a_username_waits_after_its_failures_until_the_oldest_is_out_of_the_window() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for i in 0..PER_USER {
            assert_eq!(throttle.wait("alice", HOME, start), None, "attempt {i}");
            throttle.failed("alice", HOME, start + Duration::from_secs(i as u64));
        }
        let now = start + Duration::from_secs(10);
        assert_eq!(
            throttle.wait("alice", HOME, now),
            Some(WINDOW - Duration::from_secs(10))
        );
        assert_eq!(throttle.wait("bob", HOME, now), None, "others go on");
        assert_eq!(throttle.wait("alice", HOME, start + WINDOW), None);
    }

    #[test]
    fn an_address_trying_many_names_waits_too() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..PER_CLIENT {
            throttle.failed(&format!("user{i}"), HOME, now);
        }
        assert_eq!(throttle.wait("someone-new", HOME, now), Some(WINDOW));
        let elsewhere = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 7)));
        assert_eq!(throttle.wait("someone-new", elsewhere, now), None);
    }

    #[test]
    fn a_success_forgets_the_username_but_not_the_address() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..PER_USER - 1 {
            throttle.failed("alice", HOME, now);
        }
        throttle.succeeded("alice");
        throttle.failed("alice", HOME, now);
        assert_eq!(throttle.wait("alice", HOME, now), None);
        for _ in 0..PER_CLIENT {
            throttle.failed("alice", HOME, now);
            throttle.succeeded("alice");
        }
        assert!(throttle.wait("alice", HOME, now).is_some());
    }
}
