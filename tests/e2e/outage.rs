//! The database going away or refusing writes: every request that needs it
//! answers 503 with `Retry-After` (never a 500), `/healthz` says so, and the
//! server recovers by itself once the database is back. PostgreSQL made
//! read-only, and every connection of the server cut, by its administrator.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::helpers::*;

fn admin(db: &TestDb, sql: &str) {
    let url = std::env::var("BUURTPEIL_TEST_PG_URL").unwrap();
    let name = db.url.rsplit('/').next().unwrap();
    let mut conn = PgConnection::establish(&url).unwrap();
    conn.batch_execute(&sql.replace("{db}", name)).unwrap();
}

const CUT: &str =
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}' AND pid <> pg_backend_pid()";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_or_cut_database_answers_503_and_recovers() {
    let app = spawn_app(Backend::Postgres).await;
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
    app.submit_many("BU07721110", 3, 7).await;

    admin(&app.db, "ALTER DATABASE {db} SET default_transaction_read_only = on");
    admin(&app.db, CUT);
    let health = app.get("/healthz").await;
    assert_eq!(health.status().as_u16(), 503, "a read-only database is not ready for writes");
    assert_eq!(health.headers()["retry-after"], "5");
    for _ in 0..3 {
        let (status, body) = app.submit("geluk", &geluk("BU07721110", 7)).await;
        assert_eq!(status, 503, "{body}");
    }

    admin(&app.db, "ALTER DATABASE {db} RESET default_transaction_read_only");
    admin(&app.db, CUT);
    let mut healthy = false;
    for _ in 0..20 {
        if app.get("/healthz").await.status().as_u16() == 200 {
            healthy = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(healthy, "healthy again once the database takes writes");
    app.submit_many("BU07721110", 1, 7).await;
    assert_eq!(count(&mut app.db.connect(), "responses"), 4, "what was acknowledged is kept, nothing more");
}
