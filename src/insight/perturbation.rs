//! The cell key method (ABS: Thompson, Broadfoot & Elazar 2013; Destatis:
//! Giessing & Tent 2019): every published count is the true count plus
//! noise looked up in a perturbation table with a key that only the
//! respondents behind the figure determine. The same respondents always
//! give the same noise, so asking again teaches nothing; one more
//! respondent gives a fresh draw, so inserting and subtracting, or
//! differencing two releases, leaves an attacker with noise of variance at
//! least 2V (docs/privacy.md).
//!
//! Every stored response holds a random record key (`responses.record_key`,
//! uniform in 0..2³¹, never published). An area's key is the sum of its
//! respondents' record keys (kept per version, buurt and day in
//! `response_counts.key_sum`, so it rolls up the area tree like the counts);
//! a figure's cell key mixes the area's key with what the figure is about
//! (question, value, which kind of figure). Mixing in the area's key, not
//! only the cell's own respondents', redraws every figure of an area when
//! one respondent joins it: one new response changes all of them, not just
//! the cell it went to, so a before/after difference does not point at it.

use serde::Serialize;

/// How much noise, per installation (`BUURTPEIL_PERTURBATION_D`, `_V`,
/// `_JS`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Parameters {
    /// Largest deviation: |noise| ≤ D.
    pub max_deviation: u32,
    /// Variance of the noise of every non-zero count.
    pub variance: f64,
    /// Published counts from 1 to js − 1 never appear: a small count becomes
    /// 0 or at least js (a published 0 may hide one or two respondents).
    pub small: u32,
}

impl Default for Parameters {
    fn default() -> Parameters {
        Parameters { max_deviation: 4, variance: 2.0, small: 3 }
    }
}

impl Parameters {
    /// The method note's text (`*_perturbation_text` with `{d}`, `{v}`,
    /// `{js}` and `{below}` filled in), in the reader's language.
    pub fn explained(&self, lang: crate::i18n::Lang) -> String {
        if self.variance == 0.0 {
            return lang.text("export_m_perturbation_none");
        }
        let v = format!("{}", self.variance);
        lang.text("export_m_perturbation_text")
            .replace("{d}", &self.max_deviation.to_string())
            .replace("{v}", &if lang == crate::i18n::Lang::Nl { v.replace('.', ",") } else { v })
            .replace("{js}", &self.small.to_string())
            .replace("{below}", &self.small.saturating_sub(1).to_string())
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PerturbationError {
    #[error("the largest deviation D must be a whole number from 1 to 20 (the default is 4), not {0}")]
    MaxDeviation(u32),
    #[error("the small-count threshold js must be a whole number from 1 to D (the default is 3), not {0}")]
    Small(u32),
    #[error(
        "no perturbation table has mean 0, variance {variance} and |noise| ≤ {max_deviation} for a count of {count} \
         with published counts never between 1 and {below}: choose a variance from {lowest:.2} to {highest:.2}"
    )]
    Infeasible { variance: f64, max_deviation: u32, count: u64, below: u32, lowest: f64, highest: f64 },
}

/// What a figure is, so that figures about the same respondents get
/// independent noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Figure {
    /// An area's respondents.
    Respondents = 1,
    /// Those who gave a value (scales, numbers).
    Value = 2,
    /// Those who chose an option.
    Option = 3,
    /// Those who answered a multiple choice.
    Answered = 4,
    /// The shift of a mean (magnitude perturbation).
    Mean = 5,
    /// A weighted count of a value or option.
    WeightedCount = 6,
    /// The weighted total of those who answered.
    WeightedTotal = 7,
    /// The shift of a weighted mean.
    WeightedMean = 8,
}

/// The sum of the record keys of some respondents (wrapping): the same
/// respondents, the same key, whatever path counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AreaKey(pub u64);

impl AreaKey {
    pub fn add(&mut self, other: AreaKey) {
        self.0 = self.0.wrapping_add(other.0);
    }

    /// The cell key in [0, 1) of one figure of these respondents.
    pub fn cell(&self, figure: Figure, question: &str, index: i64) -> f64 {
        let mut h = mix(self.0 ^ 0x6a09_e667_f3bc_c908);
        h = mix(h ^ figure as u64);
        h = mix(h ^ fnv1a(question.as_bytes()));
        h = mix(h ^ index as u64);
        // 53 random bits: exactly representable, uniform in [0, 1).
        (h >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// SplitMix64's finaliser: stable across processes and versions (unlike
/// std's randomly keyed hasher), and every input bit reaches every output bit.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// The noise distribution of one true count: deviations with their
/// cumulative probabilities.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    deviations: Vec<i64>,
    cumulative: Vec<f64>,
    probabilities: Vec<f64>,
}

/// Maps (true count, cell key) to the published count.
#[derive(Debug, Clone, PartialEq)]
pub struct PerturbationTable {
    parameters: Parameters,
    /// Row i for a true count of i + 1; larger counts use the last row.
    rows: Vec<Row>,
}

impl PerturbationTable {
    /// The table of maximum entropy for the parameters: for each count n,
    /// p(d) ∝ exp(a·d − b·d²) over the allowed deviations (|d| ≤ D, n + d
    /// = 0 or ≥ js), with a and b such that the mean is 0 and the variance
    /// V. Destatis' `ptable` builds its tables the same way.
    pub fn new(parameters: Parameters) -> Result<PerturbationTable, PerturbationError> {
        let d = parameters.max_deviation;
        if !(1..=20).contains(&d) {
            return Err(PerturbationError::MaxDeviation(d));
        }
        if !(1..=d).contains(&parameters.small) {
            return Err(PerturbationError::Small(parameters.small));
        }
        let last = u64::from(d + parameters.small);
        let rows = (1..=last).map(|n| row(n, parameters)).collect::<Result<_, _>>()?;
        Ok(PerturbationTable { parameters, rows })
    }

    /// No noise at all: for tests of the arithmetic of the estimates, and
    /// nothing else (an installation cannot choose it).
    pub fn exact() -> PerturbationTable {
        let zero = Row { deviations: vec![0], cumulative: vec![1.0], probabilities: vec![1.0] };
        PerturbationTable { parameters: Parameters { max_deviation: 0, variance: 0.0, small: 1 }, rows: vec![zero] }
    }

    pub fn parameters(&self) -> Parameters {
        self.parameters
    }

    /// Variance of the noise of a non-zero count.
    pub fn variance(&self) -> f64 {
        self.parameters.variance
    }

    /// The noise of a true count `n` under cell key `key` in [0, 1); 0 for 0.
    pub fn noise(&self, n: u64, key: f64) -> i64 {
        if n == 0 {
            return 0;
        }
        let row = &self.rows[(n as usize - 1).min(self.rows.len() - 1)];
        let at = row.cumulative.partition_point(|&c| c <= key).min(row.deviations.len() - 1);
        row.deviations[at]
    }

    /// The published count of a true count `n`.
    pub fn perturb(&self, n: u64, key: f64) -> u64 {
        (n as i64 + self.noise(n, key)).max(0) as u64
    }

    /// The noise of a magnitude: a deviation of the largest count's row
    /// (mean 0, variance V, |d| ≤ D), for scaling by the caller.
    pub fn shift(&self, key: f64) -> f64 {
        self.noise(u64::MAX, key) as f64
    }

    /// The distribution of the noise of a true count, for tests and docs.
    pub fn distribution(&self, n: u64) -> Vec<(i64, f64)> {
        let row = &self.rows[(n.max(1) as usize - 1).min(self.rows.len() - 1)];
        row.deviations.iter().copied().zip(row.probabilities.iter().copied()).collect()
    }
}

impl Default for PerturbationTable {
    fn default() -> PerturbationTable {
        PerturbationTable::new(Parameters::default()).expect("the default parameters are feasible")
    }
}

/// The row of one true count: maximum entropy with mean 0 and variance V,
/// found by bisection (the mean grows with a; the variance falls with b).
fn row(n: u64, p: Parameters) -> Result<Row, PerturbationError> {
    let max = i64::from(p.max_deviation);
    let deviations: Vec<i64> =
        (-max..=max).filter(|&d| n as i64 + d == 0 || n as i64 + d >= i64::from(p.small)).collect();
    let xs: Vec<f64> = deviations.iter().map(|&d| d as f64).collect();
    let weights = |a: f64, b: f64| -> Vec<f64> {
        let logs: Vec<f64> = xs.iter().map(|x| a * x - b * x * x).collect();
        let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = logs.iter().map(|l| (l - top).exp()).collect();
        let sum: f64 = w.iter().sum();
        w.into_iter().map(|w| w / sum).collect()
    };
    let moments = |w: &[f64]| -> (f64, f64) {
        let mean: f64 = w.iter().zip(&xs).map(|(w, x)| w * x).sum();
        let var: f64 = w.iter().zip(&xs).map(|(w, x)| w * (x - mean).powi(2)).sum();
        (mean, var)
    };
    // For a given b, the a that makes the mean 0.
    let centred = |b: f64| -> Vec<f64> {
        let (mut lo, mut hi) = (-60.0, 60.0);
        for _ in 0..200 {
            let mid = (lo + hi) / 2.0;
            if moments(&weights(mid, b)).0 < 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        weights((lo + hi) / 2.0, b)
    };
    let (mut lo, mut hi) = (-6.0, 6.0);
    let (highest, lowest) = (moments(&centred(lo)).1, moments(&centred(hi)).1);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if moments(&centred(mid)).1 > p.variance {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let probabilities = centred((lo + hi) / 2.0);
    let (mean, var) = moments(&probabilities);
    if mean.abs() > 1e-9 || (var - p.variance).abs() > 1e-6 {
        return Err(PerturbationError::Infeasible {
            variance: p.variance,
            max_deviation: p.max_deviation,
            count: n,
            below: p.small,
            lowest,
            highest,
        });
    }
    let mut cumulative = Vec::with_capacity(probabilities.len());
    let mut seen = 0.0;
    for q in &probabilities {
        seen += q;
        cumulative.push(seen);
    }
    if let Some(last) = cumulative.last_mut() {
        *last = 1.0;
    }
    Ok(Row { deviations, cumulative, probabilities })
}

/// The noise of one area's figures in one table: the installation's table
/// and the area's key.
#[derive(Debug, Clone, Copy)]
pub struct AreaNoise<'a> {
    pub table: &'a PerturbationTable,
    pub key: AreaKey,
}

static EXACT: std::sync::LazyLock<PerturbationTable> = std::sync::LazyLock::new(PerturbationTable::exact);

impl AreaNoise<'_> {
    /// No noise: for tests of the estimates' arithmetic.
    pub fn exact() -> AreaNoise<'static> {
        AreaNoise { table: &EXACT, key: AreaKey::default() }
    }

    /// Whether this adds no noise at all.
    pub fn is_exact(&self) -> bool {
        self.table.variance() == 0.0
    }

    pub fn variance(&self) -> f64 {
        self.table.variance()
    }

    /// The published count of a true count `n` of one figure.
    pub fn count(&self, figure: Figure, question: &str, index: i64, n: u64) -> u64 {
        self.table.perturb(n, self.key.cell(figure, question, index))
    }

    /// The noise of a true count `n` of one figure.
    pub fn deviation(&self, figure: Figure, question: &str, index: i64, n: u64) -> f64 {
        self.table.noise(n, self.key.cell(figure, question, index)) as f64
    }

    /// A magnitude's deviation (mean 0, variance V, |d| ≤ D), to be scaled.
    pub fn shift(&self, figure: Figure, question: &str) -> f64 {
        self.table.shift(self.key.cell(figure, question, 0))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn every_row_has_mean_zero_variance_v_and_bounded_noise() {
        for parameters in [
            Parameters::default(),
            Parameters { max_deviation: 5, variance: 3.0, small: 3 },
            Parameters { max_deviation: 3, variance: 1.0, small: 1 },
            Parameters { max_deviation: 2, variance: 1.0, small: 2 },
        ] {
            let t = PerturbationTable::new(parameters).unwrap();
            for n in 1..40 {
                let dist = t.distribution(n);
                let total: f64 = dist.iter().map(|(_, p)| p).sum();
                let mean: f64 = dist.iter().map(|(d, p)| *d as f64 * p).sum();
                let var: f64 = dist.iter().map(|(d, p)| (*d as f64).powi(2) * p).sum();
                assert!((total - 1.0).abs() < 1e-9 && mean.abs() < 1e-9, "{parameters:?} n={n}");
                assert!((var - parameters.variance).abs() < 1e-6, "{parameters:?} n={n}: {var}");
                for (d, p) in dist {
                    assert!(d.unsigned_abs() <= u64::from(parameters.max_deviation));
                    let published = n as i64 + d;
                    assert!(p < 1e-12 || published == 0 || published >= i64::from(parameters.small));
                }
            }
        }
    }

    #[test]
    fn small_counts_mostly_vanish() {
        // js = 3, V = 2: one respondent is published as 0 (two in three) or 3.
        let t = PerturbationTable::default();
        let one: Vec<(i64, f64)> = t.distribution(1).into_iter().filter(|(_, p)| *p > 1e-9).collect();
        assert_eq!(one.len(), 2);
        assert!((one[0].1 - 2.0 / 3.0).abs() < 1e-6 && one[0].0 == -1 && one[1].0 == 2);
    }

    #[test]
    fn parameters_that_cannot_hold_are_refused_with_the_range() {
        let e = PerturbationTable::new(Parameters { max_deviation: 4, variance: 1.0, small: 3 }).unwrap_err();
        assert!(e.to_string().contains("choose a variance from 2.00"), "{e}");
        assert!(PerturbationTable::new(Parameters { max_deviation: 0, variance: 1.0, small: 1 }).is_err());
        assert!(PerturbationTable::new(Parameters { max_deviation: 3, variance: 1.0, small: 4 }).is_err());
    }

    #[test]
    fn cell_keys_are_stable_and_differ_per_figure() {
        let k = AreaKey(123_456_789);
        assert_eq!(k.cell(Figure::Value, "geluk", 7), k.cell(Figure::Value, "geluk", 7));
        assert_ne!(k.cell(Figure::Value, "geluk", 7), k.cell(Figure::Value, "geluk", 8));
        assert_ne!(k.cell(Figure::Value, "geluk", 7), k.cell(Figure::Mean, "geluk", 7));
        assert_ne!(k.cell(Figure::Value, "geluk", 7), AreaKey(123_456_790).cell(Figure::Value, "geluk", 7));
        // A fixed value: the key must not change between releases of the code.
        assert_eq!((AreaKey(1).cell(Figure::Respondents, "", 0) * 1e6).floor(), 216_172.0);
    }

    proptest! {
        /// Over uniform cell keys the noise has mean 0 and variance V, and
        /// never exceeds D; zeros stay zero.
        #[test]
        fn noise_over_random_keys_has_the_table_moments(n in 1u64..200, seed in any::<u64>()) {
            let t = PerturbationTable::default();
            prop_assert_eq!(t.perturb(0, 0.5), 0);
            let draws = 20_000;
            let (mut sum, mut sq) = (0.0, 0.0);
            for i in 0..draws {
                let d = t.noise(n, AreaKey(seed.wrapping_add(i)).cell(Figure::Value, "q", 0));
                prop_assert!(d.abs() <= 4);
                prop_assert!(n as i64 + d == 0 || n as i64 + d >= 3);
                sum += d as f64;
                sq += (d * d) as f64;
            }
            let mean = sum / f64::from(draws as u32);
            let var = sq / f64::from(draws as u32) - mean * mean;
            prop_assert!(mean.abs() < 0.05, "mean {}", mean);
            prop_assert!((var - 2.0).abs() < 0.1, "variance {}", var);
        }
    }
}
