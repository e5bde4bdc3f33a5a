//! Settings from the environment and flags, checked once at start.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::auth::SessionKey;
use crate::db::{DatabaseUrl, DbError};

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
    /// Mail server for invitations (`SMTP_URL`) and the From of the
    /// e-mails (`BUURTPEIL_MAIL_FROM`); the council's pages send only when
    /// both are set.
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("--bind / BUURTPEIL_BIND {0:?} is not an address like 127.0.0.1:8080")]
    Bind(String),
    #[error("BUURTPEIL_MIN_CELL {0:?} must be a whole number from 3 to 1000 (the default is 10)")]
    MinCell(String),
}

impl Config {
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
            smtp_url: None,
            mail_from: None,
        })
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
    }
}
