//! Migrations run up, down and up again on both backends.

use buurtpeil::db::{revert_all_migrations, run_migrations};

use crate::helpers::*;
use crate::on_both_backends;

async fn migrations_go_up_down_and_up(backend: Backend) {
    let db = TestDb::new(backend);
    let mut conn = db.connect();
    assert!(run_migrations(&mut conn).unwrap() >= 1);
    assert_eq!(run_migrations(&mut conn).unwrap(), 0, "idempotent");
    revert_all_migrations(&mut conn).unwrap();
    assert!(run_migrations(&mut conn).unwrap() >= 1);
    assert_eq!(count(&mut conn, "responses"), 0);
}
on_both_backends!(migrations_go_up_down_and_up);
