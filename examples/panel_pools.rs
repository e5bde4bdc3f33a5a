//! Writes deterministic volunteer pools and quota files in the Sortition
//! Foundation format for the panel benchmarks (BENCHMARKS.md):
//!
//!   cargo run --release --example panel_pools -- OUT_DIR
//!
//! creates OUT_DIR/pool-300-30, pool-1000-60 and pool-2000-150, each with
//! `people.csv` (id, gender, age, buurt, education) and `features.csv`
//! (quotas proportional to the population: floor and ceiling of share × k).
//! The pool is skewed the way real volunteer pools are: older and
//! higher-educated residents answer far more often.

use std::fmt::Write as _;
use std::path::PathBuf;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// (value, share of the population, relative willingness to volunteer)
type Values = &'static [(&'static str, f64, f64)];

const GENDER: Values = &[("vrouw", 0.505, 0.9), ("man", 0.495, 1.1)];
const AGE: Values = &[
    ("16-24", 0.14, 0.35),
    ("25-34", 0.16, 0.6),
    ("35-44", 0.15, 0.8),
    ("45-54", 0.16, 1.0),
    ("55-64", 0.16, 1.4),
    ("65-74", 0.13, 1.9),
    ("75+", 0.10, 1.3),
];
const BUURT: Values = &[
    ("Binnenstad", 0.09, 1.4),
    ("Bergen", 0.11, 1.2),
    ("Witte Dame", 0.07, 1.0),
    ("Fellenoord", 0.12, 0.6),
    ("Woensel-West", 0.16, 0.5),
    ("Stratum", 0.18, 1.1),
    ("Gestel", 0.14, 1.3),
    ("Tongelre", 0.13, 0.9),
];
const EDUCATION: Values = &[("laag", 0.28, 0.4), ("middel", 0.37, 0.9), ("hoog", 0.35, 2.0)];
const FEATURES: [(&str, Values); 4] = [("gender", GENDER), ("age", AGE), ("buurt", BUURT), ("education", EDUCATION)];

/// The benchmark sizes: (pool, panel).
pub const SIZES: [(usize, u32); 3] = [(300, 30), (1000, 60), (2000, 150)];

fn pick(rng: &mut ChaCha8Rng, values: Values) -> &'static str {
    let total: f64 = values.iter().map(|(_, s, w)| s * w).sum();
    let mut x = rng.gen::<f64>() * total;
    for (v, s, w) in values {
        x -= s * w;
        if x < 0.0 {
            return v;
        }
    }
    values[values.len() - 1].0
}

fn people_csv(n: usize, seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = String::from("id,gender,age,buurt,education\n");
    for i in 0..n {
        let row: Vec<&str> = FEATURES.iter().map(|(_, values)| pick(&mut rng, values)).collect();
        writeln!(out, "p{:05},{}", i + 1, row.join(",")).expect("string");
    }
    out
}

fn features_csv(k: u32) -> String {
    let mut out = String::from("feature,value,min,max\n");
    for (feature, values) in FEATURES {
        for (value, share, _) in values {
            let ideal = share * f64::from(k);
            writeln!(out, "{feature},{value},{},{}", ideal.floor(), ideal.ceil()).expect("string");
        }
    }
    out
}

fn main() -> std::io::Result<()> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "target/panel-pools".into()));
    for (n, k) in SIZES {
        let dir = out.join(format!("pool-{n}-{k}"));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("people.csv"), people_csv(n, n as u64))?;
        std::fs::write(dir.join("features.csv"), features_csv(k))?;
        println!("{}: {n} volunteers, panel {k}", dir.display());
    }
    Ok(())
}
