//! How many responses one client may start through a questionnaire's open
//! link per buurt: an attacker who plants known responses to subtract them
//! again needs many, and needs them in one buurt (docs/privacy.md says what
//! this does not stop: many addresses, patience). Held in memory, per
//! process; addresses are never logged or stored.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::rate_limit::{Throttled, Window};

/// At most `per_window` responses per client address and buurt.
pub struct OpenLinkLimit {
    window: Duration,
    inner: Mutex<Window<(IpAddr, String)>>,
}

/// By default 10 responses per address and buurt in an hour: a household
/// behind one address fits, a planted batch does not.
pub const DEFAULT_PER_HOUR: usize = 10;

impl OpenLinkLimit {
    pub fn new(per_window: usize, window: Duration) -> OpenLinkLimit {
        OpenLinkLimit { window, inner: Mutex::new(Window::new(per_window.max(1))) }
    }

    pub fn per_hour(n: usize) -> OpenLinkLimit {
        OpenLinkLimit::new(n, Duration::from_secs(60 * 60))
    }

    /// Counts one more response from `client` in `buurt`, or says how long
    /// to wait. Without a client address (a Unix socket) nothing is counted.
    pub fn admit(&self, client: Option<IpAddr>, buurt: &str, now: Instant) -> Result<(), Throttled> {
        let Some(ip) = client else { return Ok(()) };
        let key = (ip, buurt.to_owned());
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.check(&key, now, self.window)?;
        inner.record(key, now, self.window);
        Ok(())
    }
}

impl Default for OpenLinkLimit {
    fn default() -> OpenLinkLimit {
        OpenLinkLimit::per_hour(DEFAULT_PER_HOUR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_per_address_and_buurt_then_wait() {
        let limit = OpenLinkLimit::default();
        let (a, b) = (Some(IpAddr::from([192, 0, 2, 1])), Some(IpAddr::from([192, 0, 2, 2])));
        let now = Instant::now();
        for _ in 0..10 {
            assert!(limit.admit(a, "BU07721110", now).is_ok());
        }
        let wait = limit.admit(a, "BU07721110", now).unwrap_err();
        assert_eq!(wait.retry_after_secs(), 3600);
        // Another buurt, another address, no address: not counted together.
        assert!(limit.admit(a, "BU07721120", now).is_ok());
        assert!(limit.admit(b, "BU07721110", now).is_ok());
        assert!(limit.admit(None, "BU07721110", now).is_ok());
        assert!(limit.admit(a, "BU07721110", now + Duration::from_secs(3600)).is_ok());
    }
}
