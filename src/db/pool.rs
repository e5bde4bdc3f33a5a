use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

/// A connection to either backend; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL {0:?} is not understood: use sqlite://FILE or postgres://USER:PASSWORD@HOST/DB")]
    BadUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("cannot get a database connection: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
}

impl DbError {
    /// Whether the database cannot be reached or cannot write now (connection
    /// lost or refused, pool exhausted, disk full, read-only, locked): a 503
    /// to try again later, not a fault of the request.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            DbError::Pool(_) | DbError::Connect(_) => true,
            DbError::Query(Error::DatabaseError(kind, info)) => {
                matches!(kind, DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand)
                    || unavailable_message(info.message())
            }
            DbError::Query(Error::BrokenTransactionManager) => true,
            DbError::Query(_) | DbError::BadUrl(_) | DbError::Migration(_) => false,
        }
    }
}

/// The messages SQLite and PostgreSQL give when they cannot take work now.
fn unavailable_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "database or disk is full",
        "disk i/o error",
        "readonly database",
        "read-only transaction",
        "database is locked",
        "no space left on device",
        "could not extend file",
        "terminating connection",
        "server closed the connection",
        "connection to server",
        "the database system is",
        "could not connect",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

/// Whether the database takes a write now: one tiny committed update of
/// `health_probe`, so a full disk or a read-only database is noticed before
/// a resident's answers are refused.
pub fn probe_write(conn: &mut AnyConnection) -> Result<(), DbError> {
    conn.batch_execute("UPDATE health_probe SET probes = probes + 1 WHERE id = 1").map_err(DbError::Query)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed `DATABASE_URL`: `sqlite://path`, `sqlite:path`, a bare path, or
/// `postgres://…` / `postgresql://…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    target: String,
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, DbError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self { backend: Backend::Postgres, target: url.to_owned() });
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            return Err(DbError::BadUrl(url.to_owned()));
        }
        Ok(Self { backend: Backend::Sqlite, target: path.to_owned() })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL without a password, for logs and messages.
    pub fn redacted(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.target),
            Backend::Postgres => match (self.target.find("://"), self.target.rfind('@')) {
                (Some(s), Some(at)) if at > s => {
                    let creds = &self.target[s + 3..at];
                    let user = creds.split(':').next().unwrap_or("");
                    format!("{}{}:***{}", &self.target[..s + 3], user, &self.target[at..])
                }
                _ => self.target.clone(),
            },
        }
    }

    pub fn establish(&self) -> Result<AnyConnection, DbError> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.target)
                .map(AnyConnection::Postgresql)
                .map_err(|e| DbError::Connect(e.to_string())),
            Backend::Sqlite => {
                let mut conn =
                    SqliteConnection::establish(&self.target).map_err(|e| DbError::Connect(e.to_string()))?;
                // WAL lets results be read while submissions are written; the
                // busy timeout makes writers wait instead of failing "locked".
                // Memory-mapped reads and statement
                // journals in memory keep scans and inserts off the disk
                // path. Checkpoints come every 10,000 pages rather than 1,000:
                // new rows land on a few hot pages (see the migrations), so a
                // rarer checkpoint copies each of them once instead of ten
                // times. The WAL file is cut back to 64 MB after each.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -8192; PRAGMA mmap_size = 268435456; \
                     PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 10000; \
                     PRAGMA journal_size_limit = 67108864;",
                )
                .map_err(|e| DbError::Connect(e.to_string()))?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }
}

/// An r2d2 manager that reports the real connection error (the derived
/// MultiConnection `establish` hides it) and sets SQLite's pragmas.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = DbError;

    fn connect(&self) -> Result<AnyConnection, DbError> {
        self.url.establish()
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::Query)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}

/// How long a request waits for a free connection before it is told to try
/// again later.
pub const POOL_WAIT: Duration = Duration::from_secs(3);

/// Opens a pool and runs pending migrations, so every entry point starts on
/// an up-to-date schema.
pub fn connect(url: &DatabaseUrl, size: u32) -> Result<Pool, DbError> {
    let pool = r2d2::Pool::builder()
        .max_size(size)
        // During an outage requests answer 503 after this, not after 10 s.
        .connection_timeout(POOL_WAIT)
        .build(Manager { url: url.clone() })
        .map_err(|e| DbError::Connect(e.to_string()))?;
    let mut conn = pool.get()?;
    super::run_migrations(&mut conn)?;
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The errors SQLite gives for a full disk and a read-only database,
    /// and a lost connection, are "unavailable"; bad SQL is not.
    #[test]
    fn full_and_read_only_databases_are_unavailable() {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        c.batch_execute("CREATE TABLE t (x TEXT)").unwrap();
        c.batch_execute("PRAGMA max_page_count = 2").unwrap();
        let full = (0..200)
            .find_map(|_| c.batch_execute("INSERT INTO t VALUES (hex(randomblob(2000)))").err())
            .expect("the page limit fills up");
        assert!(DbError::Query(full).is_unavailable());
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        c.batch_execute("CREATE TABLE t (x TEXT); PRAGMA query_only = 1").unwrap();
        let read_only = c.batch_execute("INSERT INTO t VALUES ('a')").unwrap_err();
        assert!(DbError::Query(read_only).is_unavailable(), "read-only");
        let bad = c.batch_execute("SELECT nope FROM nowhere").unwrap_err();
        assert!(!DbError::Query(bad).is_unavailable());
        assert!(DbError::Connect("refused".into()).is_unavailable());
    }

    #[test]
    fn parses_urls() {
        assert_eq!(DatabaseUrl::parse("sqlite://x.db").unwrap().backend(), Backend::Sqlite);
        assert_eq!(DatabaseUrl::parse("x.db").unwrap().backend(), Backend::Sqlite);
        assert_eq!(DatabaseUrl::parse("postgres://a:b@h/d").unwrap().backend(), Backend::Postgres);
        assert!(DatabaseUrl::parse("mysql://h/d").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }

    #[test]
    fn redacts_passwords() {
        let url = DatabaseUrl::parse("postgres://app:secret@db:5432/app").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/app");
    }
}
