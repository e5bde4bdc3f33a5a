//! Settings from the environment and flags, checked once at start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

mod proxies;
mod public_url;

pub use proxies::{TrustedProxies, TrustedProxiesError};
pub use public_url::{PublicUrl, PublicUrlError};

use crate::auth::SessionKey;
use crate::db::{DatabaseUrl, DbError};
use crate::insight::perturbation::{Parameters, PerturbationError, PerturbationTable};
use crate::talent::Renewal;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://buurtpeil.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_MIN_CELL: u64 = 10;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub bind: SocketAddr,
    /// k: no figure is shown for fewer respondents than this.
    pub min_cell: u64,
    pub questionnaires_dir: PathBuf,
    /// Database connections in the pool.
    pub pool_size: u32,
    /// Encrypts and signs session cookies (`BUURTPEIL_SESSION_KEY`); `None`
    /// makes a random one at start, so logins end when the server stops.
    pub session_key: Option<SessionKey>,
    /// When talent profiles must be confirmed again, and how long the
    /// resident then has (`BUURTPEIL_TALENT_RENEWAL_MONTHS`,
    /// `BUURTPEIL_TALENT_GRACE_DAYS`).
    pub talent_renewal: Renewal,
    /// SMTP for e-mails the server sends itself (a resident's private
    /// link); `None`: no such e-mails.
    pub mail: Option<MailSettings>,
    /// The cell key method's table (`BUURTPEIL_PERTURBATION_D`, `_V`,
    /// `_JS`; docs/privacy.md).
    pub perturbation: PerturbationTable,
    /// New responses reach public figures at most this often
    /// (`BUURTPEIL_RELEASE_EVERY`, seconds; 0: at once).
    pub release_every: Duration,
    /// Responses one client address may start per buurt and hour through
    /// an open link (`BUURTPEIL_OPEN_LINK_PER_HOUR`).
    pub open_link_per_hour: usize,
    /// Where residents and professionals reach the server
    /// (`BUURTPEIL_PUBLIC_URL`); every link shown or sent starts with it.
    /// `None`: the `--bind` address (`local_url`), allowed only without mail.
    pub public_url: Option<PublicUrl>,
    /// Whose `Forwarded` / `X-Forwarded-*` headers count
    /// (`BUURTPEIL_TRUSTED_PROXIES`); nobody's by default.
    pub trusted_proxies: TrustedProxies,
    /// The municipality's time zone, in which every date is decided
    /// (`BUURTPEIL_TIME_ZONE`, default Europe/Amsterdam).
    pub time_zone: chrono_tz::Tz,
}

/// By default public figures take in new responses once a day.
pub const DEFAULT_RELEASE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// Where and as whom the server sends e-mail (`SMTP_URL`,
/// `BUURTPEIL_MAIL_FROM`).
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub smtp_url: String,
    pub from: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("--bind / BUURTPEIL_BIND {0:?} is not an address like 127.0.0.1:8080")]
    Bind(String),
    #[error("BUURTPEIL_MIN_CELL {0:?} must be a whole number from 3 to 1000 (the default is 10)")]
    MinCell(String),
    #[error("{0} {1:?} must be a whole number from 1 to {2}")]
    Renewal(&'static str, String, u32),
    #[error("{0} {1:?} is not a number")]
    NotANumber(&'static str, String),
    #[error("BUURTPEIL_PERTURBATION_*: {0}")]
    Perturbation(#[from] PerturbationError),
    #[error("BUURTPEIL_OPEN_LINK_PER_HOUR {0:?} must be a whole number from 1 to 100000 (the default is 10)")]
    OpenLinkPerHour(String),
    #[error("BUURTPEIL_RELEASE_EVERY {0:?} must be a whole number of seconds from 0 (every change) to 31536000 (a year); the default is 86400 (a day)")]
    ReleaseEvery(String),
    #[error(transparent)]
    PublicUrl(#[from] PublicUrlError),
    #[error(transparent)]
    TrustedProxies(#[from] TrustedProxiesError),
    #[error(
        "SMTP_URL is set but BUURTPEIL_PUBLIC_URL is not: e-mails carry links, so set the address residents reach \
         buurtpeil at, like BUURTPEIL_PUBLIC_URL=https://buurtpeil.gemeente.nl"
    )]
    PublicUrlRequired,
    #[error(transparent)]
    TimeZone(#[from] crate::clock::TimeZoneError),
}

impl Config {
    /// The address a browser on this machine reaches the server at: the
    /// bind address, with 127.0.0.1 (or ::1) for "every interface".
    pub fn local_url(&self) -> String {
        let ip = match self.bind.ip() {
            std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.bind.port()))
    }

    /// What every link starts with: the configured public URL, else the
    /// `--bind` address.
    pub fn links_base(&self) -> PublicUrl {
        self.public_url.clone().unwrap_or_else(|| {
            PublicUrl::parse(&self.local_url()).expect("an http:// URL of an IP address and a port is a public URL")
        })
    }

    /// Sets the public URL and the trusted proxies from their raw settings
    /// (empty counts as unset).
    pub fn with_addresses(mut self, public_url: Option<&str>, proxies: Option<&str>) -> Result<Config, ConfigError> {
        self.public_url = public_url.filter(|s| !s.trim().is_empty()).map(PublicUrl::parse).transpose()?;
        self.trusted_proxies = TrustedProxies::parse(proxies.unwrap_or(""))?;
        Ok(self)
    }

    /// Checks the settings together, once they are all set: mail needs a
    /// public URL, since every e-mail carries a link.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.mail.is_some() && self.public_url.is_none() {
            return Err(ConfigError::PublicUrlRequired);
        }
        Ok(())
    }

    pub fn new(
        database_url: &str,
        bind: &str,
        min_cell: Option<&str>,
        questionnaires_dir: PathBuf,
    ) -> Result<Config, ConfigError> {
        let database_url = DatabaseUrl::parse(database_url)?;
        let bind = bind.parse().map_err(|_| ConfigError::Bind(bind.to_owned()))?;
        let min_cell = match min_cell {
            None => DEFAULT_MIN_CELL,
            Some(raw) => raw
                .trim()
                .parse()
                .ok()
                .filter(|k| (3..=1000).contains(k))
                .ok_or_else(|| ConfigError::MinCell(raw.to_owned()))?,
        };
        Ok(Config {
            database_url,
            bind,
            min_cell,
            questionnaires_dir,
            pool_size: 8,
            session_key: None,
            talent_renewal: Renewal::default(),
            mail: None,
            perturbation: PerturbationTable::default(),
            release_every: DEFAULT_RELEASE_EVERY,
            open_link_per_hour: crate::survey::open_link::DEFAULT_PER_HOUR,
            public_url: None,
            trusted_proxies: TrustedProxies::default(),
            time_zone: crate::clock::DEFAULT_ZONE,
        })
    }

    /// Sets the time zone from its raw setting (`None` or empty: the default).
    pub fn with_time_zone(mut self, raw: Option<&str>) -> Result<Config, ConfigError> {
        self.time_zone = crate::clock::parse_zone(raw)?;
        Ok(self)
    }

    /// Sets how figures are perturbed and released from the raw settings;
    /// `None` keeps each default (D = 4, V = 2, js = 3, once a day).
    pub fn with_publication(
        mut self,
        max_deviation: Option<&str>,
        variance: Option<&str>,
        small: Option<&str>,
        release_every: Option<&str>,
        open_link_per_hour: Option<&str>,
    ) -> Result<Config, ConfigError> {
        fn number<T: std::str::FromStr>(name: &'static str, raw: Option<&str>, default: T) -> Result<T, ConfigError> {
            match raw {
                None => Ok(default),
                Some(r) => r.trim().parse().map_err(|_| ConfigError::NotANumber(name, r.to_owned())),
            }
        }
        let d = Parameters::default();
        let parameters = Parameters {
            max_deviation: number("BUURTPEIL_PERTURBATION_D", max_deviation, d.max_deviation)?,
            variance: number("BUURTPEIL_PERTURBATION_V", variance, d.variance)?,
            small: number("BUURTPEIL_PERTURBATION_JS", small, d.small)?,
        };
        if !parameters.variance.is_finite() {
            return Err(ConfigError::NotANumber("BUURTPEIL_PERTURBATION_V", format!("{}", parameters.variance)));
        }
        self.perturbation = PerturbationTable::new(parameters)?;
        if let Some(raw) = release_every {
            let seconds: u64 = raw
                .trim()
                .parse()
                .ok()
                .filter(|s| *s <= 365 * 24 * 60 * 60)
                .ok_or_else(|| ConfigError::ReleaseEvery(raw.to_owned()))?;
            self.release_every = Duration::from_secs(seconds);
        }
        if let Some(raw) = open_link_per_hour {
            self.open_link_per_hour = raw
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| ConfigError::OpenLinkPerHour(raw.to_owned()))?;
        }
        Ok(self)
    }

    /// Sets the renewal of talent profiles from the raw settings (months
    /// 1–120, grace days 1–365); `None` keeps the default.
    pub fn with_talent_renewal(
        mut self,
        months: Option<&str>,
        grace_days: Option<&str>,
    ) -> Result<Config, ConfigError> {
        let read = |name: &'static str, raw: Option<&str>, max: u32, default: u32| match raw {
            None => Ok(default),
            Some(r) => r
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| ConfigError::Renewal(name, r.to_owned(), max)),
        };
        let d = Renewal::default();
        self.talent_renewal = Renewal {
            months: read("BUURTPEIL_TALENT_RENEWAL_MONTHS", months, 120, d.months)?,
            grace_days: read("BUURTPEIL_TALENT_GRACE_DAYS", grace_days, 365, d.grace_days)?,
        };
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_every_setting() {
        let ok = Config::new("sqlite://x.db", "127.0.0.1:0", Some("10"), "q".into()).unwrap();
        assert_eq!(ok.min_cell, 10);
        assert!(matches!(Config::new("sqlite://x.db", "nowhere", None, "q".into()), Err(ConfigError::Bind(_))));
        for bad in ["0", "1", "ten", "-5", "100000"] {
            assert!(matches!(Config::new("x.db", "127.0.0.1:0", Some(bad), "q".into()), Err(ConfigError::MinCell(_))));
        }
        assert!(Config::new("mysql://db", "127.0.0.1:0", None, "q".into()).is_err());
        let r = ok.clone().with_talent_renewal(Some("6"), None).unwrap().talent_renewal;
        assert_eq!((r.months, r.grace_days), (6, 30));
        for bad in ["0", "x", "121"] {
            assert!(ok.clone().with_talent_renewal(Some(bad), None).is_err());
        }
        assert!(ok.with_talent_renewal(None, Some("366")).is_err());
    }

    #[test]
    fn links_come_from_the_public_url_which_mail_requires() {
        let base = Config::new("sqlite://x.db", "0.0.0.0:9000", None, "q".into()).unwrap();
        assert_eq!(base.links_base().as_str(), "http://127.0.0.1:9000");
        let set = base.clone().with_addresses(Some("https://buurtpeil.gemeente.nl/"), Some("10.0.0.1")).unwrap();
        assert_eq!(set.links_base().as_str(), "https://buurtpeil.gemeente.nl");
        assert!(set.trusted_proxies.contains("10.0.0.1".parse().unwrap()));
        assert!(base.clone().with_addresses(Some(" "), Some("")).unwrap().public_url.is_none());
        assert!(matches!(base.clone().with_addresses(Some("evil.example"), None), Err(ConfigError::PublicUrl(_))));
        assert!(matches!(base.clone().with_addresses(None, Some("x")), Err(ConfigError::TrustedProxies(_))));
        let mail = MailSettings { smtp_url: "smtp://127.0.0.1:25".into(), from: "a@b.nl".into() };
        let mut mailing = base.clone();
        mailing.mail = Some(mail.clone());
        let e = mailing.check().unwrap_err().to_string();
        assert!(e.contains("BUURTPEIL_PUBLIC_URL"), "{e}");
        let mut mailing = set;
        mailing.mail = Some(mail);
        assert!(mailing.check().is_ok() && base.check().is_ok());
    }

    #[test]
    fn the_local_url_is_where_a_browser_here_finds_the_server() {
        let url = |bind: &str| Config::new("sqlite://x.db", bind, None, "q".into()).unwrap().local_url();
        assert_eq!(url("127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(url("0.0.0.0:9000"), "http://127.0.0.1:9000");
        assert_eq!(url("192.168.1.20:80"), "http://192.168.1.20:80");
        assert_eq!(url("[::]:8443"), "http://[::1]:8443");
    }
}
