//! Login throttling, in memory: at most so many failed logins per account
//! and per IP address in a sliding window. IP addresses are held here only,
//! for the length of the window; they are never logged or stored.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use crate::rate_limit::Throttled;
use crate::rate_limit::Window;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_account: usize,
    pub per_ip: usize,
    pub window: Duration,
}

impl Default for Limits {
    /// 5 failures per account and 20 per IP address in 15 minutes.
    fn default() -> Limits {
        Limits { per_account: 5, per_ip: 20, window: Duration::from_secs(15 * 60) }
    }
}

struct Inner {
    accounts: Window<String>,
    ips: Window<IpAddr>,
}

/// Counts failed logins. The account key is the e-mail address as typed
/// (lower-cased), known or not, so throttling tells nobody which exist.
pub struct LoginThrottle {
    limits: Limits,
    inner: Mutex<Inner>,
}

impl LoginThrottle {
    pub fn new(limits: Limits) -> LoginThrottle {
        LoginThrottle {
            limits,
            inner: Mutex::new(Inner { accounts: Window::new(limits.per_account), ips: Window::new(limits.per_ip) }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a login for this account from this address may be tried now.
    pub fn check(&self, account: &str, ip: Option<IpAddr>, now: Instant) -> Result<(), Throttled> {
        let w = self.limits.window;
        let mut inner = self.lock();
        let a = inner.accounts.check(&account.to_lowercase(), now, w);
        let i = match ip {
            Some(ip) => inner.ips.check(&ip, now, w),
            None => Ok(()),
        };
        match (a, i) {
            (Err(x), Err(y)) => Err(if x.retry_after >= y.retry_after { x } else { y }),
            (Err(x), _) | (_, Err(x)) => Err(x),
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, account: &str, ip: Option<IpAddr>, now: Instant) {
        let w = self.limits.window;
        let mut inner = self.lock();
        inner.accounts.record(account.to_lowercase(), now, w);
        if let Some(ip) = ip {
            inner.ips.record(ip, now, w);
        }
    }

    /// A successful login forgets the account's failures (not the address's).
    pub fn record_success(&self, account: &str) {
        self.lock().accounts.clear(&account.to_lowercase());
    }
}

impl Default for LoginThrottle {
    fn default() -> LoginThrottle {
        LoginThrottle::new(Limits::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rate_limit::SWEEP_AT;
    use proptest::prelude::*;

    fn ip(n: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, n]))
    }

    #[test]
    fn five_failures_per_account_then_wait() {
        let t = LoginThrottle::default();
        let start = Instant::now();
        for i in 0..5 {
            assert!(t.check("a@x.nl", ip(i), start).is_ok());
            t.record_failure("a@x.nl", ip(i), start + Duration::from_secs(u64::from(i)));
        }
        let blocked = t.check("A@x.nl", ip(99), start + Duration::from_secs(10)).unwrap_err();
        assert_eq!(blocked.retry_after, Duration::from_secs(15 * 60 - 10));
        assert_eq!(blocked.retry_after_secs(), 890);
        // Another account from the same addresses is fine.
        assert!(t.check("b@x.nl", ip(0), start + Duration::from_secs(10)).is_ok());
        // Once the first failure is 15 minutes old, one more try is allowed.
        assert!(t.check("a@x.nl", ip(99), start + Duration::from_secs(15 * 60)).is_ok());
    }

    #[test]
    fn twenty_failures_per_address() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..20 {
            t.record_failure(&format!("user{i}@x.nl"), ip(1), now);
        }
        assert!(t.check("new@x.nl", ip(1), now).is_err());
        assert!(t.check("new@x.nl", ip(2), now).is_ok());
        assert!(t.check("new@x.nl", None, now).is_ok());
    }

    #[test]
    fn success_clears_the_account() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..4 {
            t.record_failure("a@x.nl", ip(1), now);
        }
        t.record_success("a@x.nl");
        for _ in 0..4 {
            t.record_failure("a@x.nl", ip(2), now);
        }
        assert!(t.check("a@x.nl", ip(3), now).is_ok());
    }

    #[test]
    fn memory_stays_bounded() {
        let t = LoginThrottle::new(Limits { per_account: 5, per_ip: 20, window: Duration::from_secs(1) });
        let start = Instant::now();
        for i in 0..(SWEEP_AT * 3) {
            let now = start + Duration::from_millis(i as u64);
            t.record_failure(&format!("u{i}@x.nl"), Some(IpAddr::from((i as u32).to_be_bytes())), now);
        }
        let inner = t.lock();
        assert!(inner.accounts.len() <= SWEEP_AT + 1000);
        assert!(inner.ips.len() <= SWEEP_AT + 1000);
    }

    proptest! {
        /// Whatever the pattern of failures, an account is blocked exactly
        /// when it has `per_account` failures within the last window.
        #[test]
        fn blocks_exactly_at_the_limit(gaps in proptest::collection::vec(0u64..400, 0..30), probe in 0u64..2000) {
            let limits = Limits { per_account: 5, per_ip: 1000, window: Duration::from_secs(900) };
            let t = LoginThrottle::new(limits);
            let start = Instant::now();
            let mut at = 0u64;
            let mut times = Vec::new();
            for g in gaps {
                at += g;
                times.push(at);
                t.record_failure("a@x.nl", None, start + Duration::from_secs(at));
            }
            let now = at + probe;
            let recent = times.iter().filter(|&&s| now - s < 900).count();
            let result = t.check("a@x.nl", None, start + Duration::from_secs(now));
            prop_assert_eq!(result.is_err(), recent >= 5);
            if let Err(th) = result {
                prop_assert!(th.retry_after > Duration::ZERO && th.retry_after <= limits.window);
            }
        }
    }
}
