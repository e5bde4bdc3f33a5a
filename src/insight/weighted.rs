//! Weighted figures beside the unweighted ones (docs/weighting.md): an
//! area's answers, counted per respondent cell, turned into estimates with
//! the cell's weight. Only estimates, their intervals, the effective sample
//! size and the design effect come out — never a weight or a count per
//! cell, which would publish a breakdown by age and gender.

use std::collections::BTreeMap;

use serde::Serialize;

use super::perturbation::{AreaNoise, Figure};
use super::stats::{ChoiceSummary, Moments, Noise, NumberSummary, Sample, ScaleSummary, Share};
use super::weighting::WeightingError;
use crate::i18n::Lang;
use crate::questionnaire::QuestionKind;

/// How an area's figures are weighted: per question its weighted figures
/// (None where the question shows nothing), or unweighted and why. Present
/// only for areas whose unweighted figures are shown.
#[derive(Debug, Clone, PartialEq)]
pub enum AreaWeighting {
    Weighted(Vec<Option<WeightedFigures>>),
    Unweighted(WeightingError),
}

impl AreaWeighting {
    /// The weighted figures of one question, if any.
    pub fn question(&self, index: usize) -> Option<&WeightedFigures> {
        match self {
            AreaWeighting::Weighted(figures) => figures.get(index)?.as_ref(),
            AreaWeighting::Unweighted(_) => None,
        }
    }

    /// Why the figures are unweighted, in the reader's language; None when
    /// they are weighted. Names no count (a reason's numbers stay in logs).
    pub fn notice(&self, lang: Lang) -> Option<String> {
        match self {
            AreaWeighting::Weighted(_) => None,
            AreaWeighting::Unweighted(reason) => Some(reason.notice(lang)),
        }
    }

    /// The reason's stable code (`no_margins`, …); None when weighted.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            AreaWeighting::Weighted(_) => None,
            AreaWeighting::Unweighted(reason) => Some(reason.code()),
        }
    }
}

/// The weighted estimates of one question in one area.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedFigures {
    /// Kish's effective sample size of those who answered, rounded.
    pub n_eff: u64,
    /// The design effect n / n_eff, two decimals.
    pub deff: f64,
    pub estimates: WeightedEstimates,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WeightedEstimates {
    /// Scales and numbers: the mean with its 95 % interval (two decimals);
    /// on a 0–10 scale also the shares 7–10 and 0–4 (Wilson on n_eff);
    /// `exact` for the change between waves.
    Mean { mean: f64, ci95: [f64; 2], share_7_plus: Option<Share>, share_0_4: Option<Share>, exact: Moments },
    /// Choices: the share per option, in the definition's order.
    Shares(Vec<Share>),
}

/// The answers of one respondent cell (or of those not placed) to one
/// question in one area: its weight, how many answered, and how many gave
/// each value (scales, numbers) or chose each option (choices).
#[derive(Debug, Clone, Copy)]
pub struct Group<'a> {
    pub weight: f64,
    pub answered: u64,
    pub values: &'a BTreeMap<i32, u64>,
    pub chosen: &'a [u64],
}

/// (value, summed weight) per value, as a [`Sample`] holds them.
type Mass = Vec<(f64, f64)>;

/// Weighted estimates of a question from its answers per group; None when
/// nobody answered (or all weights are 0). With every weight 1 these are
/// the unweighted figures, n_eff = n and deff = 1.
///
/// Perturbed like the unweighted figures (docs/privacy.md), with noise in
/// units of the largest weight, so that no single respondent, however
/// heavily weighted, stands out: each value's and option's weighted count
/// gets the table's deviation times that weight, the mean a shift scaled to
/// a quarter of the range times that weight over the total weight.
pub fn estimate(kind: &QuestionKind, groups: &[Group], question: &str, noise: AreaNoise) -> Option<WeightedFigures> {
    let n: u64 = groups.iter().map(|g| g.answered).sum();
    let w: f64 = groups.iter().map(|g| g.weight * g.answered as f64).sum();
    let w2: f64 = groups.iter().map(|g| g.weight * g.weight * g.answered as f64).sum();
    if n == 0 || w <= 0.0 {
        return None;
    }
    let n_eff = w * w / w2;
    let unit = groups.iter().filter(|g| g.answered > 0).map(|g| g.weight).fold(0.0, f64::max);
    let count_var = noise.variance() * unit * unit;
    // Per value its true and its perturbed weighted count.
    let mass = |values: Vec<i32>| -> (Mass, Mass) {
        values
            .into_iter()
            .map(|v| {
                let count: u64 = groups.iter().map(|g| g.values.get(&v).copied().unwrap_or(0)).sum();
                let weighted: f64 =
                    groups.iter().map(|g| g.weight * g.values.get(&v).copied().unwrap_or(0) as f64).sum();
                let d = noise.deviation(Figure::WeightedCount, question, i64::from(v), count);
                ((f64::from(v), weighted), (f64::from(v), (weighted + d * unit).max(0.0)))
            })
            .unzip()
    };
    let shifted = |min: i32, max: i32, exact: &[(f64, f64)], mass: &[(f64, f64)]| -> Option<Noise> {
        if noise.is_exact() {
            return None;
        }
        let mean = exact.iter().map(|(v, c)| v * c).sum::<f64>() / w;
        let range = f64::from(max - min) / 4.0 * unit;
        let published = mass.iter().map(|(_, c)| c).sum::<f64>().max(unit);
        Some(Noise {
            mean: (mean + noise.shift(Figure::WeightedMean, question) * range / w)
                .clamp(f64::from(min), f64::from(max)),
            mean_var: noise.variance() * (range / published).powi(2),
            count_var,
        })
    };
    let estimates = match kind {
        QuestionKind::Scale { min, max, .. } => {
            let (exact, mass) = mass((*min..=*max).collect());
            let sample = Sample { mass: &mass, n, n_eff, noise: shifted(*min, *max, &exact, &mass) };
            let s = ScaleSummary::estimate(&sample, *min, mass.len())?;
            WeightedEstimates::Mean {
                mean: s.mean,
                ci95: s.ci95,
                share_7_plus: s.satisfied,
                share_0_4: s.unsatisfied,
                exact: s.exact,
            }
        }
        QuestionKind::Number { min, max, .. } => {
            let mut values: Vec<i32> = groups.iter().flat_map(|g| g.values.keys().copied()).collect();
            values.sort_unstable();
            values.dedup();
            let (exact, mass) = mass(values);
            let s =
                NumberSummary::estimate(&Sample { mass: &mass, n, n_eff, noise: shifted(*min, *max, &exact, &mass) })?;
            WeightedEstimates::Mean { mean: s.mean, ci95: s.ci95, share_7_plus: None, share_0_4: None, exact: s.exact }
        }
        kind => {
            let options = groups.iter().map(|g| g.chosen.len()).max().unwrap_or(0);
            let chosen: Vec<f64> = (0..options)
                .map(|o| {
                    let count: u64 = groups.iter().map(|g| g.chosen.get(o).copied().unwrap_or(0)).sum();
                    let weighted: f64 =
                        groups.iter().map(|g| g.weight * g.chosen.get(o).copied().unwrap_or(0) as f64).sum();
                    let d = noise.deviation(Figure::WeightedCount, question, o as i64, count);
                    (weighted + d * unit).max(0.0)
                })
                .collect();
            let total = match kind {
                QuestionKind::MultipleChoice { .. } => {
                    (w + noise.deviation(Figure::WeightedTotal, question, 0, n) * unit).max(unit)
                }
                _ if noise.is_exact() => w,
                _ => chosen.iter().sum::<f64>().max(unit),
            };
            WeightedEstimates::Shares(ChoiceSummary::with_noise(&chosen, n, total, n_eff, count_var)?.options)
        }
    };
    Some(WeightedFigures { n_eff: n_eff.round() as u64, deff: (n as f64 / n_eff * 100.0).round() / 100.0, estimates })
}

/// Weighted figures as pages show them, in the reader's language.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Shown {
    pub estimate: f64,
    /// Choices: the share of the option compared, in whole per cent.
    pub percent: Option<u32>,
    pub ci: [f64; 2],
    pub share_7_plus: Option<u32>,
    pub share_0_4: Option<u32>,
    /// Per option: share and interval (choices).
    pub options: Vec<(u32, [f64; 2])>,
    pub n_eff: u64,
    /// The design effect with two decimals, as the reader writes numbers.
    pub deff: String,
}

impl Shown {
    /// `option`: the option compared, for choices.
    pub fn of(w: &WeightedFigures, option: usize, lang: Lang) -> Shown {
        let deff = format!("{:.2}", w.deff);
        let deff = if lang == Lang::Nl { deff.replace('.', ",") } else { deff };
        let base = Shown { n_eff: w.n_eff, deff, ..Shown::default() };
        match &w.estimates {
            WeightedEstimates::Mean { mean, ci95, share_7_plus, share_0_4, .. } => Shown {
                estimate: *mean,
                ci: *ci95,
                share_7_plus: share_7_plus.map(|s| s.percent),
                share_0_4: share_0_4.map(|s| s.percent),
                ..base
            },
            WeightedEstimates::Shares(options) => Shown {
                estimate: options.get(option).map_or(0.0, |s| f64::from(s.percent)),
                percent: options.get(option).map(|s| s.percent),
                ci: options.get(option).map_or([0.0, 0.0], |s| s.ci95),
                options: options.iter().map(|s| (s.percent, s.ci95)).collect(),
                ..base
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::questionnaire::LocalText;

    fn scale() -> QuestionKind {
        let label = || LocalText { nl: String::new(), en: String::new() };
        QuestionKind::Scale { min: 0, max: 10, min_label: label(), max_label: label() }
    }

    fn counts(pairs: &[(i32, u64)]) -> BTreeMap<i32, u64> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn the_worked_example_of_the_documentation() {
        // docs/weighting.md: everyone scores 6 except the young (3); the
        // cells' weights as raked there, two respondents not placed (1).
        let cells: [(f64, u64, i32); 9] = [
            (2.431, 1, 3),
            (1.785, 2, 3),
            (1.666, 4, 6),
            (1.223, 6, 6),
            (1.077, 6, 6),
            (0.791, 7, 6),
            (0.674, 6, 6),
            (0.495, 8, 6),
            (1.0, 2, 6),
        ];
        let values: Vec<BTreeMap<i32, u64>> = cells.iter().map(|&(_, n, v)| counts(&[(v, n)])).collect();
        let groups: Vec<Group> = cells
            .iter()
            .zip(&values)
            .map(|(&(weight, answered, _), values)| Group { weight, answered, values, chosen: &[] })
            .collect();
        let f = estimate(&scale(), &groups, "q", AreaNoise::exact()).unwrap();
        let WeightedEstimates::Mean { mean, ci95, share_7_plus, share_0_4, .. } = f.estimates else { panic!() };
        assert_eq!(mean, 5.57);
        assert_eq!(ci95, [5.21, 5.94]);
        assert_eq!((f.n_eff, f.deff), (35, 1.2));
        assert_eq!(share_7_plus.unwrap().percent, 0);
        // The young (6.0 of 42.0 in weight) score 0–4: 14 %.
        assert_eq!(share_0_4.unwrap().percent, 14);
        let unweighted: Vec<Group> = groups.iter().map(|g| Group { weight: 1.0, ..*g }).collect();
        let plain = estimate(&scale(), &unweighted, "q", AreaNoise::exact()).unwrap();
        assert!(
            matches!(plain.estimates, WeightedEstimates::Mean { mean, ci95, .. } if mean == 5.79 && ci95 == [5.54, 6.03])
        );
        assert_eq!((plain.n_eff, plain.deff), (42, 1.0));
    }

    #[test]
    fn choices_are_weighted_shares_with_wilson_on_n_eff() {
        // 10 young chose "ja" weighing 2, 30 old chose "nee" weighing 0.5.
        let empty = BTreeMap::new();
        let groups = [
            Group { weight: 2.0, answered: 10, values: &empty, chosen: &[10, 0] },
            Group { weight: 0.5, answered: 30, values: &empty, chosen: &[0, 30] },
        ];
        let f = estimate(&QuestionKind::YesNo, &groups, "q", AreaNoise::exact()).unwrap();
        let WeightedEstimates::Shares(shares) = f.estimates else { panic!() };
        // 20 of 35 in weight: 57 %; n_eff = 35² / (40 + 7.5) = 25.8.
        assert_eq!(shares[0].percent, 57);
        assert_eq!(f.n_eff, 26);
        assert_eq!(f.deff, 1.55);
        let [lo, hi] = crate::insight::stats::wilson(20.0 / 35.0, 35.0 * 35.0 / 47.5);
        assert_eq!(shares[0].ci95, [(lo * 1000.0).round() / 10.0, (hi * 1000.0).round() / 10.0]);
        assert_eq!(estimate(&QuestionKind::YesNo, &[], "q", AreaNoise::exact()), None);
    }

    proptest! {
        /// With every weight equal, the weighted figures are the unweighted
        /// ones: the same mean, interval and shares, n_eff = n, deff = 1.
        #[test]
        fn equal_weights_give_the_unweighted_figures(
            per_group in prop::collection::vec(prop::collection::vec(0u64..15, 11), 1..9),
            weight in 0.2f64..5.0,
        ) {
            let maps: Vec<BTreeMap<i32, u64>> =
                per_group.iter().map(|c| c.iter().enumerate().map(|(v, n)| (v as i32, *n)).collect()).collect();
            let groups: Vec<Group> = maps.iter().map(|values| Group {
                weight, answered: values.values().sum(), values, chosen: &[] }).collect();
            let total: Vec<u64> = (0..11).map(|v| per_group.iter().map(|c| c[v]).sum()).collect();
            let plain = ScaleSummary::from_counts(0, &total);
            let weighted = estimate(&scale(), &groups, "q", AreaNoise::exact());
            prop_assert_eq!(plain.is_some(), weighted.is_some());
            if let (Some(p), Some(w)) = (plain, weighted) {
                prop_assert_eq!(w.n_eff, p.n);
                prop_assert_eq!(w.deff, 1.0);
                let WeightedEstimates::Mean { mean, ci95, share_7_plus, share_0_4, .. } = w.estimates else { panic!() };
                prop_assert!((mean - p.mean).abs() < 0.011, "{} {}", mean, p.mean);
                if p.n > 1 {
                    prop_assert!((ci95[0] - p.ci95[0]).abs() < 0.011 && (ci95[1] - p.ci95[1]).abs() < 0.011);
                }
                // The same fractions (a whole per cent may round the other
                // way when the fraction is exactly on a half).
                for (w, p) in [(share_7_plus, p.satisfied), (share_0_4, p.unsatisfied)] {
                    let (w, p) = (w.unwrap(), p.unwrap());
                    prop_assert!((w.exact.estimate - p.exact.estimate).abs() < 1e-9);
                    prop_assert!(w.percent.abs_diff(p.percent) <= 1);
                }
            }
        }

        /// The weighted mean lies between the smallest and largest value and
        /// inside its interval; deff ≥ 1.
        #[test]
        fn weighted_means_stay_in_range(
            per_group in prop::collection::vec((0.2f64..5.0, prop::collection::vec(0u64..15, 11)), 1..9),
        ) {
            let maps: Vec<(f64, BTreeMap<i32, u64>)> = per_group.iter()
                .map(|(w, c)| (*w, c.iter().enumerate().map(|(v, n)| (v as i32, *n)).collect())).collect();
            let groups: Vec<Group> = maps.iter().map(|(weight, values)| Group {
                weight: *weight, answered: values.values().sum(), values, chosen: &[] }).collect();
            if let Some(f) = estimate(&scale(), &groups, "q", AreaNoise::exact()) {
                prop_assert!(f.deff >= 1.0);
                let WeightedEstimates::Mean { mean, ci95, .. } = f.estimates else { panic!() };
                prop_assert!((0.0..=10.0).contains(&mean));
                if groups.iter().map(|g| g.answered).sum::<u64>() > 1 {
                    prop_assert!(ci95[0] <= mean + 1e-9 && mean <= ci95[1] + 1e-9);
                }
            }
        }
    }
}
