//! Sliding-window rate limits in memory: at most so many events per key
//! within a window. Keys (addresses, accounts) are held here only, for the
//! length of the window; never logged or stored.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Too many failures: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

impl Throttled {
    /// Whole seconds, rounded up, at least 1: for `Retry-After`.
    pub fn retry_after_secs(&self) -> u64 {
        let secs = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        secs.max(1)
    }
}

/// Event times per key (failed logins, open-link responses), oldest first,
/// at most `limit` kept per key.
pub struct Window<K> {
    failures: HashMap<K, VecDeque<Instant>>,
    limit: usize,
}

/// Past this many keys, expired ones are swept out on the next failure.
pub const SWEEP_AT: usize = 10_000;

impl<K: Eq + Hash + Clone> Window<K> {
    pub fn new(limit: usize) -> Self {
        Window { failures: HashMap::new(), limit }
    }

    fn expire(list: &mut VecDeque<Instant>, now: Instant, window: Duration) {
        while list.front().is_some_and(|t| now.saturating_duration_since(*t) >= window) {
            list.pop_front();
        }
    }

    pub fn check(&mut self, key: &K, now: Instant, window: Duration) -> Result<(), Throttled> {
        let Some(list) = self.failures.get_mut(key) else { return Ok(()) };
        Self::expire(list, now, window);
        if list.len() >= self.limit {
            // Blocked until the oldest counted failure leaves the window.
            let oldest = list[list.len() - self.limit];
            return Err(Throttled { retry_after: window.saturating_sub(now.saturating_duration_since(oldest)) });
        }
        if list.is_empty() {
            self.failures.remove(key);
        }
        Ok(())
    }

    /// Events of the key within the window.
    pub fn count(&mut self, key: &K, now: Instant, window: Duration) -> usize {
        let Some(list) = self.failures.get_mut(key) else { return 0 };
        Self::expire(list, now, window);
        let n = list.len();
        if n == 0 {
            self.failures.remove(key);
        }
        n
    }

    /// Like `check`, against a limit lower than the one the window keeps.
    pub fn check_below(&mut self, key: &K, limit: usize, now: Instant, window: Duration) -> Result<(), Throttled> {
        let limit = limit.clamp(1, self.limit);
        let n = self.count(key, now, window);
        if n >= limit {
            let oldest = self.failures[key][n - limit];
            return Err(Throttled { retry_after: window.saturating_sub(now.saturating_duration_since(oldest)) });
        }
        Ok(())
    }

    /// Takes back one event recorded at `at` (a reservation given back).
    pub fn remove_one(&mut self, key: &K, at: Instant) {
        if let Some(list) = self.failures.get_mut(key) {
            if let Some(i) = list.iter().rposition(|t| *t == at) {
                list.remove(i);
            }
            if list.is_empty() {
                self.failures.remove(key);
            }
        }
    }

    pub fn record(&mut self, key: K, now: Instant, window: Duration) {
        if self.failures.len() >= SWEEP_AT && !self.failures.contains_key(&key) {
            self.failures.retain(|_, list| {
                Self::expire(list, now, window);
                !list.is_empty()
            });
        }
        let list = self.failures.entry(key).or_default();
        Self::expire(list, now, window);
        list.push_back(now);
        while list.len() > self.limit {
            list.pop_front();
        }
    }

    pub fn clear(&mut self, key: &K) {
        self.failures.remove(key);
    }

    /// Keys held now (for tests of the memory bound).
    pub fn len(&self) -> usize {
        self.failures.len()
    }

    pub fn is_empty(&self) -> bool {
        self.failures.is_empty()
    }
}
