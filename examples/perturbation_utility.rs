//! What the cell key method costs in accuracy and time (BENCHMARKS.md):
//!
//!   cargo run --release --example perturbation_utility -- [RESPONSES]
//!
//! 1. On the demo (Eindhoven, geluk, seed 772, RESPONSES synthetic
//!    responses, default 3,000): every buurt's published mean of every 0–10
//!    question beside its exact mean, for buurten with n ≥ 40 — the mean and
//!    the largest absolute difference, and whether each such buurt is shown.
//! 2. Coverage of the published 95 % intervals in a simulation: samples of
//!    n from a demo-like population, each under fresh record keys; how often
//!    the interval holds the population's mean and share satisfied.
//! 3. The cost per release: building every table with and without the
//!    perturbation, in the same run.

use std::collections::BTreeMap;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use buurtpeil::area::{load_tree, AreaCode, AreaTree, Level};
use buurtpeil::db::{connect, DatabaseUrl};
use buurtpeil::insight::perturbation::PerturbationTable;
use buurtpeil::insight::{build_set, QuestionFigures, RawCounts, ResultSet};
use buurtpeil::questionnaire::{load_catalog, load_dir, QuestionKind, RawAnswer};
use buurtpeil::survey::Submission;

fn main() {
    let responses: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3000);
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("demo.db").display())).unwrap();
    let pool = connect(&url, 2).unwrap();
    let mut conn = pool.get().unwrap();
    buurtpeil::demo::load_areas(&mut conn).unwrap();
    let defs = load_dir(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("questionnaires")).unwrap();
    let catalog = load_catalog(&mut conn, &defs).unwrap();
    let geluk = catalog.current("geluk").unwrap().clone();
    let tree = load_tree(&mut conn).unwrap();
    buurtpeil::demo::seed_responses(&mut conn, &tree, &geluk, responses, 772).unwrap();
    let versions = std::slice::from_ref(&geluk);
    let raw = RawCounts::fetch(&mut conn, versions, None).unwrap();
    let build = |table: &PerturbationTable| build_set(&tree, &geluk, versions, &raw, &[], 10, &BTreeMap::new(), table);
    let (exact, perturbed) = (build(&PerturbationTable::exact()), build(&PerturbationTable::default()));
    demo_means(&exact, &perturbed, responses);
    coverage(&tree, &geluk);
    cost(build);
}

/// Published against exact means of the 0–10 questions, buurten n ≥ 40.
fn demo_means(exact: &ResultSet, perturbed: &ResultSet, responses: usize) {
    let scales: Vec<usize> = (0..exact.all.questions.len())
        .filter(|&q| matches!(exact.all.questions[q].kind, QuestionKind::Scale { min: 0, max: 10, .. }))
        .collect();
    let (mut diffs, mut buurten, mut hidden, mut within) = (Vec::new(), 0, 0, 0);
    for area in exact.all.at_level(Level::Buurt) {
        let Some((n, _)) = &area.figures else { continue };
        if *n < 40 {
            continue;
        }
        buurten += 1;
        for &q in &scales {
            let (Some(QuestionFigures::Scale(e)), shown) =
                (exact.all.figures(area.code.as_str(), q), perturbed.all.figures(area.code.as_str(), q))
            else {
                continue;
            };
            match shown {
                Some(QuestionFigures::Scale(p)) => {
                    let d = (p.mean - e.mean).abs();
                    within += usize::from(d <= 0.3);
                    diffs.push(d);
                }
                _ => hidden += 1,
            }
        }
    }
    let mean = diffs.iter().sum::<f64>() / diffs.len().max(1) as f64;
    let worst = diffs.iter().copied().fold(0.0, f64::max);
    println!(
        "demo ({responses} responses): {buurten} buurten with n >= 40, {} buurt means of 0-10 questions: \
         mean |published - exact| = {mean:.3}, worst = {worst:.3}, within 0.3: {within}/{}, hidden: {hidden}",
        diffs.len(),
        diffs.len()
    );
}

/// How often the published 95 % intervals hold the population's figures,
/// for samples of n respondents from a demo-like population.
fn coverage(tree: &AreaTree, geluk: &buurtpeil::questionnaire::Published) {
    // Life satisfaction as the demo draws it, roughly: mostly 6–9.
    let population = [0.01, 0.01, 0.02, 0.03, 0.05, 0.09, 0.14, 0.25, 0.24, 0.10, 0.06];
    let true_mean: f64 = population.iter().enumerate().map(|(v, p)| v as f64 * p).sum();
    let true_satisfied: f64 = population[7..].iter().sum::<f64>() * 100.0;
    let buurt = tree.at_level(Level::Buurt).next().unwrap().code.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    for n in [40, 100, 400] {
        for (name, table) in [("exact", PerturbationTable::exact()), ("perturbed", PerturbationTable::default())] {
            let trials = 2000;
            let (mut mean_in, mut share_in, mut width) = (0, 0, 0.0);
            for _ in 0..trials {
                let mut raw = RawCounts::default();
                for _ in 0..n {
                    let score = draw(&population, &mut rng);
                    add(&mut raw, geluk, &buurt, score);
                }
                let set = build_set(tree, geluk, std::slice::from_ref(geluk), &raw, &[], 10, &BTreeMap::new(), &table);
                let q = set.all.question_index("tevredenheid_leven").unwrap();
                let Some(QuestionFigures::Scale(s)) = set.all.figures(buurt.as_str(), q) else { continue };
                mean_in += usize::from(s.ci95[0] <= true_mean && true_mean <= s.ci95[1]);
                let [lo, hi] = s.share_7_plus_ci95.unwrap();
                share_in += usize::from(lo <= true_satisfied && true_satisfied <= hi);
                width += s.ci95[1] - s.ci95[0];
            }
            println!(
                "coverage n = {n} ({name}): mean {:.1} %, share satisfied {:.1} %, mean interval width {:.2}",
                100.0 * mean_in as f64 / trials as f64,
                100.0 * share_in as f64 / trials as f64,
                width / trials as f64
            );
        }
    }
}

fn draw(p: &[f64], rng: &mut ChaCha8Rng) -> i64 {
    let mut u: f64 = rng.gen();
    for (v, q) in p.iter().enumerate() {
        if u < *q {
            return v as i64;
        }
        u -= q;
    }
    (p.len() - 1) as i64
}

fn add(raw: &mut RawCounts, geluk: &buurtpeil::questionnaire::Published, buurt: &AreaCode, score: i64) {
    let given: BTreeMap<String, RawAnswer> = [
        ("tevredenheid_leven".to_string(), RawAnswer::Number(score as f64)),
        ("geluk".to_string(), RawAnswer::Number(7.0)),
    ]
    .into();
    let answers = geluk.definition.check_answers(&given).unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    raw.add(&Submission::new(geluk, buurt.clone(), answers), day);
}

/// Building every table from the kept counts, exact and perturbed.
fn cost(build: impl Fn(&PerturbationTable) -> ResultSet) {
    let runs = 30;
    let time = |table: &PerturbationTable| {
        let start = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(build(table));
        }
        start.elapsed().as_secs_f64() * 1000.0 / runs as f64
    };
    let (exact, perturbed) = (PerturbationTable::exact(), PerturbationTable::default());
    time(&perturbed);
    let (e, p) = (time(&exact), time(&perturbed));
    println!("release cost: {p:.2} ms perturbed vs {e:.2} ms exact per build of every table ({:.2}x)", p / e);
}
