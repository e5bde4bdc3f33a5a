//! Login throttling, in memory per process: at most so many failed logins
//! per account and per IP address in a sliding window. IP addresses are
//! held here only, for the length of the window; they are never logged or
//! stored. (Issue #15 moves these counts into the database, so that several
//! instances share them.)
//!
//! An attempt is **reserved** before its password is hashed: it counts as a
//! failure from the moment it is let through, and is given back only when
//! the password was right (or the check never ran). So parallel guesses
//! cannot all pass the check before the first one is counted: at most the
//! limit is ever evaluated.
//!
//! The per-account limit does not lock the account's owner out. Once an
//! account has `per_account` failures, only attempts from addresses that
//! have no failure of their own in the window are still evaluated (each such
//! attempt that fails marks its address, which is then refused too), up to a
//! hard `account_ceiling` per account. An attacker on one address gets
//! `per_account` guesses; the owner, typing the right password from their
//! own address, still gets in.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use crate::rate_limit::Throttled;
use crate::rate_limit::Window;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failures per account after which addresses that failed are refused.
    pub per_account: usize,
    /// Failures per account after which every address is refused.
    pub account_ceiling: usize,
    pub per_ip: usize,
    pub window: Duration,
}

impl Default for Limits {
    /// 5 failures per account (20 from addresses without failures) and 20
    /// per IP address in 15 minutes.
    fn default() -> Limits {
        Limits { per_account: 5, account_ceiling: 20, per_ip: 20, window: Duration::from_secs(15 * 60) }
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

/// A login attempt let through and counted as a failure until
/// [`LoginThrottle::release`] gives it back. Dropping it keeps the failure.
#[derive(Debug)]
#[must_use = "a reserved attempt stays a failure unless released"]
pub struct Attempt {
    account: String,
    ip: Option<IpAddr>,
    at: Instant,
}

impl LoginThrottle {
    pub fn new(limits: Limits) -> LoginThrottle {
        let ceiling = limits.account_ceiling.max(limits.per_account);
        LoginThrottle {
            limits: Limits { account_ceiling: ceiling, ..limits },
            inner: Mutex::new(Inner { accounts: Window::new(ceiling), ips: Window::new(limits.per_ip) }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets a login for this account from this address be tried now, counted
    /// as a failure already, or says how long to wait. Check and count are
    /// one step under one lock.
    pub fn reserve(&self, account: &str, ip: Option<IpAddr>, now: Instant) -> Result<Attempt, Throttled> {
        let Limits { per_account, account_ceiling, per_ip, window } = self.limits;
        let account = account.to_lowercase();
        let mut inner = self.lock();
        if let Some(ip) = &ip {
            inner.ips.check_below(ip, per_ip, now, window)?;
        }
        // An address without failures may still try an account that others
        // have failed on, up to the ceiling; an unknown address never.
        let clean = ip.is_some_and(|ip| inner.ips.count(&ip, now, window) == 0);
        let limit = if clean { account_ceiling } else { per_account };
        inner.accounts.check_below(&account, limit, now, window)?;
        inner.accounts.record(account.clone(), now, window);
        if let Some(ip) = ip {
            inner.ips.record(ip, now, window);
        }
        Ok(Attempt { account, ip, at: now })
    }

    /// Gives a reserved attempt back: the password was right, or it was
    /// never checked (the database was unavailable). Other failures of the
    /// account stay: a login does not hand an attacker fresh guesses.
    pub fn release(&self, attempt: Attempt) {
        let mut inner = self.lock();
        inner.accounts.remove_one(&attempt.account, attempt.at);
        if let Some(ip) = &attempt.ip {
            inner.ips.remove_one(ip, attempt.at);
        }
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

    /// A failed attempt: reserved and kept.
    fn fail(t: &LoginThrottle, account: &str, ip: Option<IpAddr>, now: Instant) -> Result<(), Throttled> {
        t.reserve(account, ip, now).map(drop)
    }

    #[test]
    fn five_failures_per_account_from_one_address_then_wait() {
        let t = LoginThrottle::default();
        let start = Instant::now();
        for i in 0..5u8 {
            fail(&t, "a@x.nl", ip(1), start + Duration::from_secs(u64::from(i))).unwrap();
        }
        let blocked = t.reserve("A@x.nl", ip(1), start + Duration::from_secs(10)).unwrap_err();
        assert_eq!(blocked.retry_after, Duration::from_secs(15 * 60 - 10));
        assert_eq!(blocked.retry_after_secs(), 890);
        // An unknown address counts as one that failed.
        assert!(t.reserve("a@x.nl", None, start + Duration::from_secs(10)).is_err());
        // Another account from the same address is fine.
        assert!(t.reserve("b@x.nl", ip(1), start + Duration::from_secs(10)).is_ok());
        // Once the first failure is 15 minutes old, one more try is allowed.
        assert!(t.reserve("a@x.nl", ip(1), start + Duration::from_secs(15 * 60)).is_ok());
    }

    #[test]
    fn reservations_count_before_the_outcome_is_known() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        // Thirty attempts arrive before any has been hashed: five get through.
        let held: Vec<Attempt> = (0..30).filter_map(|_| t.reserve("a@x.nl", ip(1), now).ok()).collect();
        assert_eq!(held.len(), 5);
        // The right password among them gives its place back…
        let mut held = held.into_iter();
        t.release(held.next().unwrap());
        // …so exactly one more may be tried, and the others stay failures.
        assert!(t.reserve("a@x.nl", ip(1), now).is_ok());
        assert!(t.reserve("a@x.nl", ip(1), now).is_err());
    }

    #[test]
    fn a_released_attempt_is_no_failure() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..50 {
            let a = t.reserve("a@x.nl", ip(1), now).unwrap();
            t.release(a);
        }
        for _ in 0..5 {
            fail(&t, "a@x.nl", ip(1), now).unwrap();
        }
        assert!(t.reserve("a@x.nl", ip(1), now).is_err());
    }

    #[test]
    fn the_owner_gets_in_from_an_address_without_failures() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..5 {
            fail(&t, "a@x.nl", ip(66), now).unwrap();
        }
        assert!(t.reserve("a@x.nl", ip(66), now).is_err(), "the attacker's address");
        // The owner, from home: tried, and the right password gives it back.
        let owner = t.reserve("a@x.nl", ip(7), now).unwrap();
        t.release(owner);
        assert!(t.reserve("a@x.nl", ip(7), now).map(|a| t.release(a)).is_ok());
        // A fresh address that fails is refused from then on.
        fail(&t, "a@x.nl", ip(8), now).unwrap();
        assert!(t.reserve("a@x.nl", ip(8), now).is_err());
    }

    #[test]
    fn the_ceiling_holds_against_many_addresses() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..20u8 {
            fail(&t, "a@x.nl", ip(i), now).unwrap();
        }
        assert!(t.reserve("a@x.nl", ip(200), now).is_err());
        assert!(t.reserve("b@x.nl", ip(200), now).is_ok());
    }

    #[test]
    fn twenty_failures_per_address() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..20 {
            fail(&t, &format!("user{i}@x.nl"), ip(1), now).unwrap();
        }
        assert!(t.reserve("new@x.nl", ip(1), now).is_err());
        assert!(t.reserve("new@x.nl", ip(2), now).is_ok());
        assert!(t.reserve("new@x.nl", None, now).is_ok());
    }

    #[test]
    fn a_login_does_not_forget_the_accounts_failures() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..4 {
            fail(&t, "a@x.nl", ip(1), now).unwrap();
        }
        let ok = t.reserve("a@x.nl", ip(1), now).unwrap();
        t.release(ok);
        fail(&t, "a@x.nl", ip(1), now).unwrap();
        assert!(t.reserve("a@x.nl", ip(1), now).is_err());
    }

    #[test]
    fn memory_stays_bounded() {
        let t = LoginThrottle::new(Limits { window: Duration::from_secs(1), ..Limits::default() });
        let start = Instant::now();
        for i in 0..(SWEEP_AT * 3) {
            let now = start + Duration::from_millis(i as u64);
            fail(&t, &format!("u{i}@x.nl"), Some(IpAddr::from((i as u32).to_be_bytes())), now).unwrap();
        }
        let inner = t.lock();
        assert!(inner.accounts.len() <= SWEEP_AT + 1000);
        assert!(inner.ips.len() <= SWEEP_AT + 1000);
    }

    proptest! {
        /// Whatever the pattern of attempts from one address, an account is
        /// blocked exactly when it has `per_account` failures within the
        /// last window, and never more are let through.
        #[test]
        fn blocks_exactly_at_the_limit(gaps in proptest::collection::vec(0u64..400, 0..30), probe in 0u64..2000) {
            let limits = Limits { per_account: 5, account_ceiling: 20, per_ip: 1000, window: Duration::from_secs(900) };
            let t = LoginThrottle::new(limits);
            let start = Instant::now();
            let mut at = 0u64;
            let mut times: Vec<u64> = Vec::new();
            for g in gaps {
                at += g;
                let recent = times.iter().filter(|&&s| at - s < 900).count();
                let tried = fail(&t, "a@x.nl", ip(1), start + Duration::from_secs(at));
                prop_assert_eq!(tried.is_ok(), recent < 5);
                if tried.is_ok() {
                    times.push(at);
                }
            }
            let now = at + probe;
            let recent = times.iter().filter(|&&s| now - s < 900).count();
            let result = t.reserve("a@x.nl", ip(1), start + Duration::from_secs(now));
            prop_assert_eq!(result.is_err(), recent >= 5);
            if let Err(th) = result {
                prop_assert!(th.retry_after > Duration::ZERO && th.retry_after <= limits.window);
            }
        }
    }
}
