//! Weighting against what results read already: `RawCounts::fetch` (the grouped
//! scan of the answers) is the baseline; then counting respondents' cells,
//! raking every area (116 buurten, 20 wijken, the gemeente), and counting
//! every answer per cell, on the demo's geluk responses (with age band and
//! gender) over Eindhoven.
//!
//!   cargo bench --bench weighting                    # SQLite, 100,000 responses
//!   BUURTPEIL_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench --bench weighting                  # and PostgreSQL
//!
//! Under `cargo test` the same code runs once on a tiny data set.

use buurtpeil::area::{load_tree, AreaTree};
use buurtpeil::db::{connect, DatabaseUrl, Pool};
use buurtpeil::insight::weighting::{
    answers_by_cell, cells_for_area, load_margins, margins_for_area, respondent_cells, weights_for_area, Placement,
    RakeSettings,
};
use buurtpeil::insight::RawCounts;
use buurtpeil::questionnaire::{load_catalog, load_dir, Published};
use criterion::{criterion_group, criterion_main, Criterion};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

struct Data {
    pool: Pool,
    tree: AreaTree,
    geluk: Published,
    _dir: Option<tempfile::TempDir>,
}

fn prepare(url: &str, dir: Option<tempfile::TempDir>, n: usize) -> Data {
    let pool = connect(&DatabaseUrl::parse(url).unwrap(), 2).unwrap();
    let mut conn = pool.get().unwrap();
    buurtpeil::demo::load_areas(&mut conn).unwrap();
    let tree = load_tree(&mut conn).unwrap();
    buurtpeil::demo::load_margins(&mut conn, &tree, 772).unwrap();
    let defs = load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires")).unwrap();
    let geluk = load_catalog(&mut conn, &defs).unwrap().current("geluk").unwrap().clone();
    buurtpeil::demo::seed_responses(&mut conn, &tree, &geluk, n, 772).unwrap();
    drop(conn);
    Data { pool, tree, geluk, _dir: dir }
}

fn weigh_every_area(data: &Data) -> usize {
    let mut conn = data.pool.get().unwrap();
    let margins = load_margins(&mut conn).unwrap();
    let cells = respondent_cells(&mut conn, &data.geluk.definition, &[data.geluk.id], None).unwrap();
    let settings = RakeSettings::default();
    data.tree
        .all()
        .filter(|a| {
            let code = a.code.as_str();
            weights_for_area(
                margins_for_area(&data.tree, code, &margins).as_ref(),
                &cells_for_area(&data.tree, code, &cells),
                &settings,
            )
            .is_weighted()
        })
        .count()
}

fn weighting(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 100_000 } else { 500 };
    let mut backends = vec!["sqlite"];
    if std::env::var("BUURTPEIL_BENCH_PG_URL").is_ok() {
        backends.push("postgres");
    }
    for backend in backends {
        let data = match backend {
            "sqlite" => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                prepare(&url, Some(dir), n)
            }
            _ => {
                let admin = std::env::var("BUURTPEIL_BENCH_PG_URL").unwrap();
                let name = format!("bp_bench_weighting_{}", std::process::id());
                let mut conn = PgConnection::establish(&admin).unwrap();
                conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}")).unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                prepare(&format!("{base}/{name}"), None, n)
            }
        };
        let mut group = c.benchmark_group(format!("weighting/{backend}/{n}"));
        group.sample_size(10);
        // What results read: the grouped scan, with each answer's stored
        // respondent cell.
        let placement = Placement::of(&data.geluk.definition);
        let versions = std::slice::from_ref(&data.geluk);
        group.bench_function("RawCounts::fetch (baseline)", |b| {
            b.iter(|| {
                RawCounts::fetch(&mut data.pool.get().unwrap(), versions, placement.clone()).unwrap().answers.len()
            })
        });
        group.bench_function("respondent_cells", |b| {
            b.iter(|| {
                respondent_cells(&mut data.pool.get().unwrap(), &data.geluk.definition, &[data.geluk.id], None)
                    .unwrap()
                    .len()
            })
        });
        group.bench_function("weigh_every_area", |b| b.iter(|| weigh_every_area(&data)));
        group.bench_function("answers_by_cell", |b| {
            b.iter(|| {
                answers_by_cell(&mut data.pool.get().unwrap(), &data.geluk.definition, &[data.geluk.id], None)
                    .unwrap()
                    .len()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, weighting);
criterion_main!(benches);
