//! Storage: one connection type over SQLite and PostgreSQL, pooled, with the
//! migrations of both backends embedded.

mod pool;
pub mod schema;

pub use pool::{connect, probe_write, AnyConnection, Backend, DatabaseUrl, DbError, Pool, PooledConn, POOL_WAIT};

use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// Runs the same diesel code on the concrete connection of either backend,
/// for the few statements `MultiConnection` cannot express (batch inserts).
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Sqlite($c) => $body,
            $crate::db::AnyConnection::Postgresql($c) => $body,
        }
    };
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Runs every pending migration of the connection's backend; returns how
/// many ran.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<usize, DbError> {
    let ran = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| DbError::Migration(e.to_string()))?;
    Ok(ran.len())
}

/// Reverts every migration (used by the up/down/up test).
pub fn revert_all_migrations(conn: &mut AnyConnection) -> Result<(), DbError> {
    match conn {
        AnyConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        AnyConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    }
    .map_err(|e| DbError::Migration(e.to_string()))
}
