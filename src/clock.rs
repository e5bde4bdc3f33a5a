//! The municipality's calendar. Every date buurtpeil decides — the day of a
//! response, whether a wave is open, ages for a draw, when identified
//! answers and talent profiles expire, the day a version was published — is
//! the date in one configured time zone (`BUURTPEIL_TIME_ZONE`, by default
//! `Europe/Amsterdam`), never the zone of the machine (UTC in the container
//! image), so nothing shifts by a day around midnight.
//!
//! [`today`] is the one way to ask for the date. It reads the clock
//! installed at start ([`install`]); a [`Clock`] can also be made on its
//! own, with a fixed instant, where a test needs to decide the moment.

use std::sync::RwLock;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// The zone when `BUURTPEIL_TIME_ZONE` is not set.
pub const DEFAULT_ZONE: Tz = chrono_tz::Europe::Amsterdam;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "BUURTPEIL_TIME_ZONE {0:?} is not a time zone: give an IANA name such as Europe/Amsterdam (the default), \
     Europe/Brussels or UTC"
)]
pub struct TimeZoneError(pub String);

/// Parses a time zone setting; empty means the default.
pub fn parse_zone(raw: Option<&str>) -> Result<Tz, TimeZoneError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(DEFAULT_ZONE),
        Some(name) => name.parse::<Tz>().map_err(|_| TimeZoneError(name.to_owned())),
    }
}

/// Where "now" comes from: the system clock, or a fixed instant (tests),
/// read in the municipality's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    zone: Tz,
    fixed: Option<DateTime<Utc>>,
}

impl Clock {
    /// The system clock in this zone.
    pub const fn system(zone: Tz) -> Clock {
        Clock { zone, fixed: None }
    }

    /// Always this instant, in this zone.
    pub const fn fixed(zone: Tz, at: DateTime<Utc>) -> Clock {
        Clock { zone, fixed: Some(at) }
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    pub fn now_utc(&self) -> DateTime<Utc> {
        self.fixed.unwrap_or_else(Utc::now)
    }

    /// Now, on the municipality's wall clock.
    pub fn now(&self) -> DateTime<Tz> {
        self.local(self.now_utc())
    }

    /// Today's date in the municipality.
    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    /// An instant on the municipality's wall clock (for showing times).
    pub fn local(&self, at: DateTime<Utc>) -> DateTime<Tz> {
        at.with_timezone(&self.zone)
    }
}

static CLOCK: RwLock<Clock> = RwLock::new(Clock::system(DEFAULT_ZONE));

/// Sets the clock every date is decided by; done once at start.
pub fn install(clock: Clock) {
    *CLOCK.write().unwrap_or_else(|e| e.into_inner()) = clock;
}

/// The installed clock.
pub fn current() -> Clock {
    *CLOCK.read().unwrap_or_else(|e| e.into_inner())
}

/// Today's date in the municipality's zone.
pub fn today() -> NaiveDate {
    current().today()
}

/// An instant on the municipality's wall clock.
pub fn local(at: DateTime<Utc>) -> DateTime<Tz> {
    current().local(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn half_past_eleven_utc_in_winter_is_tomorrow_in_amsterdam() {
        let at = utc(2027, 1, 14, 23, 30);
        assert_eq!(Clock::fixed(DEFAULT_ZONE, at).today(), date(2027, 1, 15));
        assert_eq!(Clock::fixed(DEFAULT_ZONE, at).now().format("%H:%M").to_string(), "00:30");
        assert_eq!(Clock::fixed(chrono_tz::UTC, at).today(), date(2027, 1, 14), "the container's zone");
        // Summer time: 22:30 UTC is already 00:30 the next day.
        assert_eq!(Clock::fixed(DEFAULT_ZONE, utc(2027, 7, 14, 22, 30)).today(), date(2027, 7, 15));
        assert_eq!(Clock::fixed(DEFAULT_ZONE, utc(2027, 7, 14, 21, 59)).today(), date(2027, 7, 14));
        // New year's eve.
        assert_eq!(Clock::fixed(DEFAULT_ZONE, utc(2026, 12, 31, 23, 0)).today(), date(2027, 1, 1));
    }

    #[test]
    fn the_zone_setting_is_checked() {
        assert_eq!(parse_zone(None), Ok(DEFAULT_ZONE));
        assert_eq!(parse_zone(Some("  ")), Ok(DEFAULT_ZONE));
        assert_eq!(parse_zone(Some("Europe/Brussels")), Ok(chrono_tz::Europe::Brussels));
        assert_eq!(parse_zone(Some(" UTC ")), Ok(chrono_tz::UTC));
        for bad in ["Amsterdam", "CET+1", "Europe/Amsterdam; rm -rf", "+01:00"] {
            let err = parse_zone(Some(bad)).unwrap_err().to_string();
            assert!(err.contains("BUURTPEIL_TIME_ZONE") && err.contains("Europe/Amsterdam"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_installed_clock_starts_in_amsterdam() {
        // Other tests run beside this one, so it only reads.
        assert_eq!(current().zone(), DEFAULT_ZONE);
        let before = Clock::system(DEFAULT_ZONE).today();
        let got = today();
        assert!(got == before || got == Clock::system(DEFAULT_ZONE).today());
    }
}
