//! Summaries of a counted distribution, as CBS reports them.

use serde::Serialize;

/// Summary of answers on a scale `min..=max`, from counts per value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleSummary {
    pub n: u64,
    pub mean: f64,
    /// 95 % confidence interval of the mean (Student t).
    pub ci95: [f64; 2],
    pub median: f64,
    /// Share (whole %) scoring 7 or more on a 0–10 scale ("tevreden");
    /// absent for other ranges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_7_plus: Option<u32>,
    /// Share (whole %) per value from min to max.
    pub distribution: Vec<u32>,
}

/// Share (whole %) per option, in the definition's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChoiceSummary {
    pub n: u64,
    pub shares: Vec<u32>,
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

impl ScaleSummary {
    /// `counts[i]` is how many answered `min + i`. None when nobody did.
    pub fn from_counts(min: i32, counts: &[u64]) -> Option<ScaleSummary> {
        let n: u64 = counts.iter().sum();
        if n == 0 {
            return None;
        }
        let value = |i: usize| f64::from(min) + i as f64;
        let sum: f64 = counts.iter().enumerate().map(|(i, &c)| c as f64 * value(i)).sum();
        let mean = sum / n as f64;
        let ss: f64 = counts.iter().enumerate().map(|(i, &c)| c as f64 * (value(i) - mean).powi(2)).sum();
        let half = if n > 1 {
            let sd = (ss / (n - 1) as f64).sqrt();
            t_975(n - 1) * sd / (n as f64).sqrt()
        } else {
            f64::NAN
        };
        let nth = |rank: u64| {
            // The value at 1-based position `rank` in sorted order.
            let mut seen = 0;
            for (i, &c) in counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return value(i);
                }
            }
            value(counts.len() - 1)
        };
        let median = if n % 2 == 1 { nth(n / 2 + 1) } else { (nth(n / 2) + nth(n / 2 + 1)) / 2.0 };
        let share_7_plus = (min == 0 && counts.len() == 11).then(|| percent(counts[7..].iter().sum(), n));
        Some(ScaleSummary {
            n,
            mean: round2(mean),
            ci95: [round2(mean - half), round2(mean + half)],
            median,
            share_7_plus,
            distribution: counts.iter().map(|&c| percent(c, n)).collect(),
        })
    }
}

impl ChoiceSummary {
    /// Shares of `n` respondents; for a multiple choice they add up to more
    /// than 100 %.
    pub fn from_counts_of(counts: &[u64], n: u64) -> Option<ChoiceSummary> {
        (n > 0).then(|| ChoiceSummary { n, shares: counts.iter().map(|&c| percent(c, n)).collect() })
    }
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
        // sd = 1.1402, t(4) = 2.776 → half-width 1.4156
        assert_eq!(s.ci95, [5.98, 8.82]);
        assert_eq!(s.distribution[7], 40);
    }

    #[test]
    fn even_n_takes_the_middle_of_two() {
        let s = ScaleSummary::from_counts(1, &[1, 0, 1, 0, 0]).unwrap(); // values 1 and 3
        assert_eq!(s.median, 2.0);
        assert_eq!(s.share_7_plus, None);
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
            }
        }
    }
}
