//! Estimates from counted answers, as CBS reports them: means with a 95 %
//! interval, medians and quartiles, shares with a Wilson interval.
//!
//! Every estimator reads a [`Sample`]: per answer value the summed weight of
//! those who gave it, how many respondents that is, and the effective sample
//! size. Unweighted, every weight is 1 and the effective size is n. This is
//! the seam for weighting to the population: a raking step hands weighted
//! sums and Kish's effective size here, and every interval widens by itself.

use serde::Serialize;

/// What one cell's estimates are computed from.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    /// (value, summed weight), each value once, in ascending order.
    pub mass: &'a [(f64, f64)],
    /// Respondents counted (the figure tested against the threshold).
    pub n: u64,
    /// Effective sample size: n unweighted, (Σw)² / Σw² weighted.
    pub n_eff: f64,
    /// When `mass` holds perturbed counts (docs/privacy.md): the published
    /// mean and the variances the perturbation adds; None for exact counts.
    pub noise: Option<Noise>,
}

/// What the cell key method did to a sample: its mean is the true one
/// shifted by noise from the cell key (magnitude perturbation), and every
/// value's count carries noise of variance `count_var` (in `mass` units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    pub mean: f64,
    /// Variance of the mean's shift.
    pub mean_var: f64,
    /// Variance of the noise on each non-zero value's count.
    pub count_var: f64,
}

impl<'a> Sample<'a> {
    /// Counts used as they are: every respondent weighs 1.
    pub fn unweighted(mass: &'a [(f64, f64)]) -> Sample<'a> {
        let n = mass.iter().map(|(_, w)| *w).sum::<f64>().round() as u64;
        Sample { mass, n, n_eff: n as f64, noise: None }
    }

    fn total(&self) -> f64 {
        self.mass.iter().map(|(_, w)| w).sum()
    }

    /// Summed weight of the values in `range` as a share of all.
    fn share_where(&self, keep: impl Fn(f64) -> bool) -> f64 {
        let total = self.total();
        if total <= 0.0 {
            return 0.0;
        }
        self.mass.iter().filter(|(v, _)| keep(*v)).map(|(_, w)| w).sum::<f64>() / total
    }

    /// A share of the weight (values where `keep`), with its interval
    /// widened by the noise on the counts: the part's and the rest's
    /// non-zero values each carry `count_var`.
    fn share(&self, keep: impl Fn(f64) -> bool) -> Share {
        let p = self.share_where(&keep);
        let Some(noise) = self.noise else { return Share::of(p, self.n_eff) };
        let total = self.total();
        let (inside, outside) =
            self.mass.iter().filter(|(_, w)| *w > 0.0).fold((0.0, 0.0), |(i, o), (v, _)| match keep(*v) {
                true => (i + 1.0, o),
                false => (i, o + 1.0),
            });
        let added = noise.count_var * (inside * (1.0 - p).powi(2) + outside * p * p) / (total * total);
        Share::with_noise(p, self.n_eff, added)
    }

    /// Mean and its sampling variance (s² / n_eff), plus what the
    /// perturbation adds; the mean is the published (shifted) one then.
    pub fn moments(&self) -> Option<Moments> {
        let total = self.total();
        if total <= 0.0 {
            return None;
        }
        let computed = self.mass.iter().map(|(v, w)| v * w).sum::<f64>() / total;
        let mean = self.noise.map_or(computed, |n| n.mean);
        let spread = self.mass.iter().map(|(v, w)| w * (v - mean).powi(2)).sum::<f64>() / total;
        // The weighted variance with the usual n / (n − 1) correction on
        // the respondents counted; over n_eff below, so that an interval
        // widens by √deff (docs/weighting.md).
        let var = if self.n > 1 { spread * self.n as f64 / (self.n - 1) as f64 } else { f64::NAN };
        // The spread is read off perturbed counts too; the interval allows
        // for their noise as if the mean were computed from them (without
        // this the 95 % interval of 40 respondents covers 93 %; BENCHMARKS.md).
        let added = self.noise.map_or(0.0, |n| {
            let spread_noise: f64 =
                self.mass.iter().filter(|(_, w)| *w > 0.0).map(|(v, _)| (v - mean).powi(2)).sum::<f64>();
            n.mean_var + n.count_var * spread_noise / (total * total)
        });
        Some(Moments { n_eff: self.n_eff, estimate: mean, var_of_estimate: var / self.n_eff + added })
    }

    /// The value below which a share `p` of the weight lies; where it falls
    /// exactly between two values, their midpoint (so an even count takes
    /// the middle of the two middle values, as a median does).
    pub fn quantile(&self, p: f64) -> Option<f64> {
        let total = self.total();
        if total <= 0.0 {
            return None;
        }
        let target = p * total;
        let mut seen = 0.0;
        for (i, (v, w)) in self.mass.iter().enumerate() {
            seen += w;
            if (seen - target).abs() < 1e-9 * total.max(1.0) {
                let next = self.mass[i + 1..].iter().find(|(_, w)| *w > 0.0).map_or(*v, |(nv, _)| *nv);
                return Some((v + next) / 2.0);
            }
            if seen > target {
                return Some(*v);
            }
        }
        self.mass.last().map(|(v, _)| *v)
    }
}

/// An estimate (a mean, or a share as a fraction) with what its interval
/// and any comparison need; unrounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    pub n_eff: f64,
    pub estimate: f64,
    /// Sampling variance of the estimate (its standard error squared).
    pub var_of_estimate: f64,
}

impl Moments {
    /// A share as the mean of a yes/no variable, for comparisons.
    pub fn of_share(p: f64, n_eff: f64) -> Moments {
        let var = if n_eff > 1.0 { p * (1.0 - p) / (n_eff - 1.0) } else { f64::NAN };
        Moments { n_eff, estimate: p, var_of_estimate: var }
    }

    /// 95 % interval of a mean (Student t on n_eff − 1 degrees of freedom).
    pub fn ci95(&self) -> [f64; 2] {
        // (Rounding noise in a weighted n_eff must not cost a whole degree
        // of freedom.)
        let df = ((self.n_eff + 1e-6).floor() as u64).saturating_sub(1).max(1);
        let half = t_975(df) * self.var_of_estimate.sqrt();
        [self.estimate - half, self.estimate + half]
    }
}

/// A share of respondents, in whole per cent for display, with its 95 %
/// Wilson interval in per cent (one decimal) and the exact fraction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Share {
    pub percent: u32,
    pub ci95: [f64; 2],
    #[serde(skip)]
    pub exact: Moments,
}

impl Share {
    pub fn of(p: f64, n_eff: f64) -> Share {
        Share::with_noise(p, n_eff, 0.0)
    }

    /// A share whose estimate carries `added` variance from perturbation:
    /// the Wilson interval on the effective size that has the sampling and
    /// the added variance together.
    pub fn with_noise(p: f64, n_eff: f64, added: f64) -> Share {
        let p = p.clamp(0.0, 1.0);
        let spread = (p * (1.0 - p)).max(1.0 / n_eff.max(1.0));
        let n = if added > 0.0 { n_eff * spread / (spread + n_eff * added) } else { n_eff };
        let [lo, hi] = wilson(p, n);
        let mut exact = Moments::of_share(p, n_eff);
        exact.var_of_estimate += added;
        Share { percent: (p * 100.0 + 0.5).floor() as u32, ci95: [round1(lo * 100.0), round1(hi * 100.0)], exact }
    }
}

/// Summary of answers on a scale `min..=max`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleSummary {
    pub n: u64,
    pub mean: f64,
    /// 95 % confidence interval of the mean (Student t).
    pub ci95: [f64; 2],
    pub median: f64,
    /// Share (whole %) scoring 7–10 on a 0–10 scale ("tevreden", as CBS
    /// groups it); absent for other ranges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_7_plus: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_7_plus_ci95: Option<[f64; 2]>,
    /// Share (whole %) scoring 0–4 ("ontevreden"); 0–10 scales only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_0_4: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_0_4_ci95: Option<[f64; 2]>,
    /// Share (whole %) per value from min to max.
    pub distribution: Vec<u32>,
    #[serde(skip)]
    pub exact: Moments,
    #[serde(skip)]
    pub satisfied: Option<Share>,
    #[serde(skip)]
    pub unsatisfied: Option<Share>,
}

/// Summary of a number question (years, hours): no distribution, whose
/// rare extreme values could single someone out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumberSummary {
    pub n: u64,
    pub mean: f64,
    pub ci95: [f64; 2],
    pub median: f64,
    /// First and third quartile.
    pub quartiles: [f64; 2],
    #[serde(skip)]
    pub exact: Moments,
}

/// Shares per option, in the definition's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChoiceSummary {
    pub n: u64,
    pub options: Vec<Share>,
}

impl ChoiceSummary {
    /// Whole percentages per option, as the tables show them.
    pub fn shares(&self) -> Vec<u32> {
        self.options.iter().map(|s| s.percent).collect()
    }
}

pub fn percent(part: u64, whole: u64) -> u32 {
    if whole == 0 {
        0
    } else {
        ((part as f64 * 100.0 / whole as f64) + 0.5).floor() as u32
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn rounded(ci: [f64; 2]) -> [f64; 2] {
    [round2(ci[0]), round2(ci[1])]
}

impl ScaleSummary {
    /// `counts[i]` is how many answered `min + i`. None when nobody did.
    pub fn from_counts(min: i32, counts: &[u64]) -> Option<ScaleSummary> {
        let mass: Vec<(f64, f64)> =
            counts.iter().enumerate().map(|(i, &c)| (f64::from(min) + i as f64, c as f64)).collect();
        ScaleSummary::estimate(&Sample::unweighted(&mass), min, counts.len())
    }

    /// `sample.mass` holds every value of the scale once (`width` of them).
    pub fn estimate(sample: &Sample, min: i32, width: usize) -> Option<ScaleSummary> {
        let exact = sample.moments()?;
        let total = sample.total();
        let cbs = min == 0 && width == 11;
        let group = |keep: &dyn Fn(f64) -> bool| cbs.then(|| sample.share(keep));
        let satisfied = group(&|v| v >= 7.0);
        let unsatisfied = group(&|v| v <= 4.0);
        Some(ScaleSummary {
            n: sample.n,
            mean: round2(exact.estimate),
            ci95: rounded(exact.ci95()),
            median: sample.quantile(0.5)?,
            share_7_plus: satisfied.map(|s| s.percent),
            share_7_plus_ci95: satisfied.map(|s| s.ci95),
            share_0_4: unsatisfied.map(|s| s.percent),
            share_0_4_ci95: unsatisfied.map(|s| s.ci95),
            distribution: sample.mass.iter().map(|(_, w)| (w * 100.0 / total + 0.5).floor() as u32).collect(),
            exact,
            satisfied,
            unsatisfied,
        })
    }
}

impl NumberSummary {
    pub fn estimate(sample: &Sample) -> Option<NumberSummary> {
        let exact = sample.moments()?;
        Some(NumberSummary {
            n: sample.n,
            mean: round2(exact.estimate),
            ci95: rounded(exact.ci95()),
            median: sample.quantile(0.5)?,
            quartiles: [sample.quantile(0.25)?, sample.quantile(0.75)?],
            exact,
        })
    }
}

impl ChoiceSummary {
    /// Shares of `n` respondents (`weight` of them in summed weight) per
    /// option; for a multiple choice they add up to more than 100 %.
    pub fn estimate(chosen: &[f64], n: u64, weight: f64, n_eff: f64) -> Option<ChoiceSummary> {
        ChoiceSummary::with_noise(chosen, n, weight, n_eff, 0.0)
    }

    /// Shares from perturbed counts, each count (and the total) carrying
    /// noise of variance `count_var` in `chosen`'s units.
    pub fn with_noise(chosen: &[f64], n: u64, weight: f64, n_eff: f64, count_var: f64) -> Option<ChoiceSummary> {
        (n > 0 && weight > 0.0).then(|| ChoiceSummary {
            n,
            options: chosen
                .iter()
                .map(|&c| {
                    let p = (c / weight).min(1.0);
                    Share::with_noise(p, n_eff, count_var * (1.0 + p * p) / (weight * weight))
                })
                .collect(),
        })
    }

    pub fn from_counts_of(counts: &[u64], n: u64) -> Option<ChoiceSummary> {
        let chosen: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
        ChoiceSummary::estimate(&chosen, n, n as f64, n as f64)
    }
}

/// Wilson score interval of a proportion, as fractions.
pub fn wilson(p: f64, n: f64) -> [f64; 2] {
    if n <= 0.0 {
        return [0.0, 1.0];
    }
    let z: f64 = 1.959_963_985;
    let z2n = z * z / n;
    let centre = (p + z2n / 2.0) / (1.0 + z2n);
    let half = z * (p * (1.0 - p) / n + z2n / (4.0 * n)).sqrt() / (1.0 + z2n);
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

/// The 97.5 % quantile of Student's t with `df` degrees of freedom: a table
/// for small df, then the Cornish–Fisher expansion (error < 1e-4).
pub fn t_975(df: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df as usize - 1],
        _ => {
            let z: f64 = 1.959_963_985;
            let d = df as f64;
            z + (z.powi(3) + z) / (4.0 * d) + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn summarises_a_small_sample() {
        // values 6, 7, 7, 8, 9 on 0–10
        let mut counts = vec![0u64; 11];
        for v in [6, 7, 7, 8, 9] {
            counts[v] += 1;
        }
        let s = ScaleSummary::from_counts(0, &counts).unwrap();
        assert_eq!(s.n, 5);
        assert_eq!(s.mean, 7.4);
        assert_eq!(s.median, 7.0);
        assert_eq!(s.share_7_plus, Some(80));
        assert_eq!(s.share_0_4, Some(0));
        // sd = 1.1402, t(4) = 2.776 → half-width 1.4156
        assert_eq!(s.ci95, [5.98, 8.82]);
        assert_eq!(s.distribution[7], 40);
        // Wilson for 4 of 5: 37.6 %–96.4 %
        assert_eq!(s.share_7_plus_ci95, Some([37.6, 96.4]));
    }

    #[test]
    fn even_n_takes_the_middle_of_two() {
        let s = ScaleSummary::from_counts(1, &[1, 0, 1, 0, 0]).unwrap(); // values 1 and 3
        assert_eq!(s.median, 2.0);
        assert_eq!(s.share_7_plus, None);
        assert_eq!(s.share_0_4, None);
    }

    #[test]
    fn numbers_have_quartiles_from_their_values() {
        // 1..=8 hours, once each: quartiles between 2|3 and 6|7.
        let mass: Vec<(f64, f64)> = (1..=8).map(|v| (f64::from(v), 1.0)).collect();
        let s = NumberSummary::estimate(&Sample::unweighted(&mass)).unwrap();
        assert_eq!((s.n, s.mean, s.median, s.quartiles), (8, 4.5, 4.5, [2.5, 6.5]));
        // sd = 2.449, t(7) = 2.365 → ±2.05
        assert_eq!(s.ci95, [2.45, 6.55]);
    }

    #[test]
    fn wilson_matches_a_textbook_value() {
        // 81 of 263 (Newcombe 1998): 25.5 %–36.3 %
        let [lo, hi] = wilson(81.0 / 263.0, 263.0);
        assert!((lo - 0.2553).abs() < 5e-4 && (hi - 0.3662).abs() < 5e-4, "{lo} {hi}");
        let s = ChoiceSummary::from_counts_of(&[81, 182], 263).unwrap();
        assert_eq!(s.shares(), vec![31, 69]);
    }

    #[test]
    fn weights_enter_through_the_sample() {
        // Two answers of 10 and 0, the first weighing three times as much:
        // the mean moves to 7.5 and the interval uses the effective size.
        let mass = [(0.0, 0.5), (10.0, 1.5)];
        let n_eff = 2.0f64.powi(2) / (0.5f64.powi(2) + 1.5f64.powi(2));
        let m = Sample { mass: &mass, n: 2, n_eff, noise: None }.moments().unwrap();
        assert_eq!(m.estimate, 7.5);
        assert!(n_eff < 2.0);
    }

    #[test]
    fn t_quantiles_match_tables() {
        assert!((t_975(40) - 2.021).abs() < 1e-3);
        assert!((t_975(120) - 1.980).abs() < 1e-3);
        assert!((t_975(100_000) - 1.960).abs() < 1e-3);
    }

    proptest! {
        #[test]
        fn mean_and_median_lie_in_range_and_inside_the_interval(counts in prop::collection::vec(0u64..50, 11)) {
            if let Some(s) = ScaleSummary::from_counts(0, &counts) {
                prop_assert!((0.0..=10.0).contains(&s.mean));
                prop_assert!((0.0..=10.0).contains(&s.median));
                if s.n > 1 {
                    prop_assert!(s.ci95[0] <= s.mean && s.mean <= s.ci95[1]);
                }
                prop_assert!(s.distribution.iter().all(|&p| p <= 100));
                let [lo, hi] = s.share_7_plus_ci95.unwrap();
                let p = f64::from(s.share_7_plus.unwrap());
                prop_assert!(lo <= p + 0.5 && p - 0.5 <= hi && (0.0..=100.0).contains(&lo) && hi <= 100.0);
            }
        }

        #[test]
        fn quartiles_are_ordered_and_inside_the_values(values in prop::collection::btree_map(-50i32..500, 1u64..20, 1..30)) {
            let mass: Vec<(f64, f64)> = values.iter().map(|(v, c)| (f64::from(*v), *c as f64)).collect();
            let s = NumberSummary::estimate(&Sample::unweighted(&mass)).unwrap();
            let (lo, hi) = (mass[0].0, mass[mass.len() - 1].0);
            prop_assert!(lo <= s.quartiles[0] && s.quartiles[0] <= s.median && s.median <= s.quartiles[1] && s.quartiles[1] <= hi);
        }

        #[test]
        fn wilson_contains_the_share_and_stays_in_0_1(k in 0u64..200, extra in 0u64..200) {
            let n = k + extra;
            prop_assume!(n > 0);
            let p = k as f64 / n as f64;
            let [lo, hi] = wilson(p, n as f64);
            prop_assert!(0.0 <= lo && lo <= p + 1e-12 && p <= hi + 1e-12 && hi <= 1.0);
        }
    }
}
