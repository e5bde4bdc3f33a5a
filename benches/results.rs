//! Results as a request gets them — from the kept result set, with the JSON
//! and its ETag — against recomputing them from scratch (grouped scan, safe
//! tables) and against a plain `SELECT buurt, COUNT(*), AVG(value) … GROUP
//! BY buurt` on the same database, at 100,000 and 1,000,000 responses over
//! Eindhoven's 116 buurten; and the rebuild from the kept counts that
//! follows a commit.
//!
//!   cargo bench --bench results                      # SQLite
//!   BUURTPEIL_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench --bench results                    # and PostgreSQL
//!   BUURTPEIL_BENCH_BACKENDS=postgres …              # only one of them
//!
//! Under `cargo test` the same code runs once on a tiny data set.

use std::collections::BTreeMap;

use buurtpeil::area::{load_tree, AreaCode, AreaTree, Level};
use buurtpeil::db::{connect, AnyConnection, DatabaseUrl, Pool};
use buurtpeil::insight::live::Context;
use buurtpeil::insight::perturbation::PerturbationTable;
use buurtpeil::insight::weighting::{load_margins, Placement};
use buurtpeil::insight::{build_set, LiveResults, RawCounts};
use buurtpeil::questionnaire::{
    load_dir, parse_toml, publish, read_catalog, Catalog, Published, QuestionKind, RawAnswer, OTHER,
};
use buurtpeil::survey::{store_batch, Submission, Writer};
use criterion::{criterion_group, criterion_main, Criterion};
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Double, Integer, Text};
use diesel::{Connection, PgConnection, RunQueryDsl};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SCORE: &str = r#"
slug = "score"
kind = "anonymous"
title = { nl = "Rapportcijfer", en = "Mark" }
[[questions]]
id = "score"
type = "scale"
required = true
text = { nl = "Welk cijfer geeft u uw buurt?", en = "Which mark do you give your neighbourhood?" }
min_label = { nl = "slecht", en = "bad" }
max_label = { nl = "uitstekend", en = "excellent" }
"#;

struct Data {
    pool: Pool,
    tree: AreaTree,
    questionnaire: Published,
    _dir: Option<tempfile::TempDir>,
}

fn fill(conn: &mut AnyConnection, tree: &AreaTree, p: &Published, n: usize) {
    let buurten: Vec<&AreaCode> = tree.at_level(Level::Buurt).map(|a| &a.code).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
    let today = buurtpeil::clock::today();
    let mut batch = Vec::with_capacity(20_000);
    for i in 0..n {
        // Uneven over buurten, as real response is.
        let b = ((rng.gen::<f64>().powi(2)) * buurten.len() as f64) as usize;
        let mut raw = BTreeMap::new();
        for q in p.definition.questions() {
            let answer = match &q.kind {
                QuestionKind::Scale { min, max, .. } | QuestionKind::Number { min, max, .. } => {
                    RawAnswer::Number(f64::from(rng.gen_range(*min..=*max)))
                }
                QuestionKind::SingleChoice { .. } | QuestionKind::YesNo | QuestionKind::MultipleChoice { .. } => {
                    let options: Vec<_> = q.kind.choices().into_iter().filter(|c| c.value != OTHER).collect();
                    let pick = options[rng.gen_range(0..options.len())].value.clone();
                    if matches!(q.kind, QuestionKind::MultipleChoice { .. }) {
                        RawAnswer::List(vec![pick])
                    } else {
                        RawAnswer::Text(pick)
                    }
                }
                _ => continue,
            };
            raw.insert(q.id.to_string(), answer);
        }
        let raw = p.definition.drop_hidden(&raw);
        let answers = p.definition.check_answers(&raw).expect("generated answers are valid");
        batch.push(Submission::new(p, buurten[b.min(buurten.len() - 1)].clone(), answers));
        if batch.len() == 20_000 || i + 1 == n {
            store_batch(conn, &batch, today).expect("stored");
            batch.clear();
        }
    }
}

fn prepare(url: &str, dir: Option<tempfile::TempDir>, slug_source: Option<&str>, n: usize) -> Data {
    let pool = connect(&DatabaseUrl::parse(url).unwrap(), 2).unwrap();
    let mut conn = pool.get().unwrap();
    buurtpeil::demo::load_areas(&mut conn).unwrap();
    let def = match slug_source {
        Some(src) => parse_toml("score.toml", src).unwrap(),
        None => load_dir(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/questionnaires")))
            .unwrap()
            .into_iter()
            .find(|d| d.slug.as_str() == "geluk")
            .unwrap(),
    };
    let questionnaire = publish(&mut conn, &def, buurtpeil::questionnaire::Approval::Designer).unwrap();
    let tree = load_tree(&mut conn).unwrap();
    // Population margins for every buurt: geluk's results are weighted.
    buurtpeil::demo::load_margins(&mut conn, &tree, 772).unwrap();
    fill(&mut conn, &tree, &questionnaire, n);
    if let AnyConnection::Postgresql(c) = &mut *conn {
        c.batch_execute("VACUUM ANALYZE").unwrap();
    }
    drop(conn);
    Data { pool, tree, questionnaire, _dir: dir }
}

/// A fresh database per data set: a SQLite file, or a PostgreSQL database
/// created from the admin URL.
fn database(backend: &str, label: &str) -> (String, Option<tempfile::TempDir>) {
    match backend {
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            (format!("sqlite://{}", dir.path().join("bench.db").display()), Some(dir))
        }
        _ => {
            let admin = std::env::var("BUURTPEIL_BENCH_PG_URL").unwrap();
            let name = format!("bp_bench_{label}_{}", std::process::id());
            let mut c = PgConnection::establish(&admin).unwrap();
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
            c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
            (format!("{}/{name}", admin.rsplit_once('/').unwrap().0), None)
        }
    }
}

#[derive(diesel::QueryableByName)]
#[allow(dead_code)]
struct Plain {
    #[diesel(sql_type = Text)]
    buurt: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Double)]
    mean: f64,
}

/// The baseline: one plain grouped aggregate of one score.
fn plain_group_by(conn: &mut AnyConnection, version: i32, question: &str) -> Vec<Plain> {
    let sql = "SELECT buurt, COUNT(*) AS n, CAST(AVG(value) AS DOUBLE PRECISION) AS mean FROM answers \
               WHERE questionnaire_version_id = $1 AND question_id = $2 GROUP BY buurt";
    let sqlite_sql = sql.replace("$1", "?").replace("$2", "?");
    buurtpeil::on_backend!(conn, |c| {
        let q = if matches!(c.backend_name(), "sqlite") { sqlite_sql.as_str() } else { sql };
        diesel::sql_query(q).bind::<Integer, _>(version).bind::<Text, _>(question).load::<Plain>(c)
    })
    .unwrap()
}

trait BackendName {
    fn backend_name(&self) -> &'static str;
}
impl BackendName for diesel::SqliteConnection {
    fn backend_name(&self) -> &'static str {
        "sqlite"
    }
}
impl BackendName for PgConnection {
    fn backend_name(&self) -> &'static str {
        "postgres"
    }
}

/// The grouped scan of the answers, per respondent cell.
fn fetch(conn: &mut AnyConnection, data: &Data) -> RawCounts {
    let placement = Placement::of(&data.questionnaire.definition);
    RawCounts::fetch(conn, std::slice::from_ref(&data.questionnaire), placement).unwrap()
}

/// From scratch: the grouped scan of the answers, the margins, and every
/// safe table with its weighted figures.
fn recompute(data: &Data) -> usize {
    let mut conn = data.pool.get().unwrap();
    let raw = fetch(&mut conn, data);
    let margins = load_margins(&mut conn).unwrap();
    let versions = std::slice::from_ref(&data.questionnaire);
    let set =
        build_set(&data.tree, &data.questionnaire, versions, &raw, &[], 10, &margins, &PerturbationTable::default());
    set.all.at_level(Level::Buurt).filter(|a| a.figures.is_some()).count()
}

/// What a request does: the kept result set (its waves read from the
/// database) and the JSON of one level with its ETag, rendered once per set.
fn served(data: &Data, live: &LiveResults, catalog: &Catalog) -> usize {
    let waves =
        buurtpeil::survey::wave::list(&mut data.pool.get().unwrap(), data.questionnaire.definition.slug.as_str())
            .unwrap();
    let table = PerturbationTable::default();
    let cx = Context {
        catalog,
        tree: &data.tree,
        area_generation: 0,
        waves,
        min_cell: 10,
        perturbation: &table,
        release_every: std::time::Duration::ZERO,
    };
    let set = live.get(&data.pool, data.questionnaire.definition.slug.as_str(), cx).unwrap().unwrap();
    // As the API does: rendered once per set, then served as it is.
    let output = set.output("results None Buurt", || buurtpeil::web::results_json(&set.all, Level::Buurt).to_string());
    output.body.len() + output.tag.len()
}

fn results(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    // BUURTPEIL_BENCH_SIZES=100000 (a comma list) measures other sizes.
    let chosen: Option<Vec<usize>> = std::env::var("BUURTPEIL_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect());
    let sizes: &[usize] = match &chosen {
        Some(sizes) if full && !sizes.is_empty() => sizes,
        _ if full => &[100_000, 1_000_000],
        _ => &[2_000],
    };
    let mut backends = vec!["sqlite"];
    if std::env::var("BUURTPEIL_BENCH_PG_URL").is_ok() {
        backends.push("postgres");
    }
    if let Ok(only) = std::env::var("BUURTPEIL_BENCH_BACKENDS") {
        backends.retain(|b| only.split(',').any(|o| o.trim() == *b));
    }
    for backend in backends {
        for &n in sizes {
            // One score: the same work as the baseline's, plus everything
            // the results need (distribution, CI, median, suppression).
            let (url, dir) = database(backend, &format!("score_{n}"));
            let data = prepare(&url, dir, Some(SCORE), n);
            let mut group = c.benchmark_group(format!("results/{backend}/{n}/score"));
            group.sample_size(10);
            bench_all(&mut group, &data, &["score".to_string()]);
            group.finish();
        }
        // The whole geluk questionnaire: all its closed questions at once,
        // against as many plain GROUP BYs (at the first size: filling 1M
        // responses of ten questions takes longer than the measurement).
        let n = sizes[0];
        let (url, dir) = database(backend, &format!("geluk_{n}"));
        let data = prepare(&url, dir, None, n);
        let closed: Vec<String> = data
            .questionnaire
            .definition
            .questions()
            .filter(|q| !q.kind.is_free_text() && q.kind.is_answerable())
            .map(|q| q.id.to_string())
            .collect();
        let mut group = c.benchmark_group(format!("results/{backend}/{n}/geluk"));
        group.sample_size(10);
        bench_all(&mut group, &data, &closed);
        group.finish();
    }
}

fn bench_all(group: &mut criterion::BenchmarkGroup<criterion::measurement::WallTime>, data: &Data, closed: &[String]) {
    group.bench_function(format!("plain_group_by_x{}", closed.len()), |b| {
        b.iter(|| {
            let mut conn = data.pool.get().unwrap();
            closed.iter().map(|q| plain_group_by(&mut conn, data.questionnaire.id, q).len()).sum::<usize>()
        })
    });
    group.bench_function("recompute", |b| b.iter(|| recompute(data)));
    // As before weighting: no margins.
    group.bench_function("recompute_unweighted", |b| {
        b.iter(|| {
            let versions = std::slice::from_ref(&data.questionnaire);
            let raw = RawCounts::fetch(&mut data.pool.get().unwrap(), versions, None).unwrap();
            let versions = std::slice::from_ref(&data.questionnaire);
            build_set(
                &data.tree,
                &data.questionnaire,
                versions,
                &raw,
                &[],
                10,
                &Default::default(),
                &PerturbationTable::default(),
            )
            .waves
            .len()
        })
    });
    // After a commit: the tables rebuilt from the kept counts, no scan.
    let raw = fetch(&mut data.pool.get().unwrap(), data);
    let margins = load_margins(&mut data.pool.get().unwrap()).unwrap();
    let versions = std::slice::from_ref(&data.questionnaire);
    let table = PerturbationTable::default();
    group.bench_function("rebuild_from_kept_counts", |b| {
        b.iter(|| build_set(&data.tree, &data.questionnaire, versions, &raw, &[], 10, &margins, &table).waves.len())
    });
    // The same without perturbation: the cost of the cell key method per release.
    let exact = PerturbationTable::exact();
    group.bench_function("rebuild_from_kept_counts_exact", |b| {
        b.iter(|| build_set(&data.tree, &data.questionnaire, versions, &raw, &[], 10, &margins, &exact).waves.len())
    });
    let plain = RawCounts::fetch(&mut data.pool.get().unwrap(), versions, None).unwrap();
    group.bench_function("rebuild_unweighted", |b| {
        b.iter(|| {
            build_set(&data.tree, &data.questionnaire, versions, &plain, &[], 10, &Default::default(), &table)
                .waves
                .len()
        })
    });
    let writer = Writer::start(data.pool.clone()).unwrap();
    let live = LiveResults::new(&writer);
    let catalog = read_catalog(&mut data.pool.get().unwrap()).unwrap();
    served(data, &live, &catalog);
    group.bench_function("served", |b| b.iter(|| served(data, &live, &catalog)));
}

criterion_group!(benches, results);
criterion_main!(benches);
