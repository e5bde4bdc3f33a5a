//! Differences between shown figures: the change of an area between two
//! waves, and a buurt against its wijk or the gemeente. They are computed
//! only from figures of safe tables, so they reveal nothing those do not.

use serde::Serialize;

use super::results::{QuestionFigures, SafeTable};
use super::stats::Moments;
use super::weighted::{WeightedEstimates, WeightedFigures};
use crate::area::{AreaCode, Level};

/// A difference with its 95 % interval; `significant` only when the
/// interval excludes zero.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Difference {
    pub difference: f64,
    pub ci95: [f64; 2],
    pub significant: bool,
}

const Z: f64 = 1.959_963_985;

fn difference(d: f64, var: f64, scale: f64) -> Option<Difference> {
    if !d.is_finite() || !var.is_finite() {
        return None;
    }
    let half = Z * var.sqrt();
    // One precision everywhere (docs/privacy.md): means to two decimals,
    // shares' differences in percentage points to one, like their intervals.
    let digits = if scale == 1.0 { 100.0 } else { 10.0 };
    let round = |x: f64| (x * scale * digits).round() / digits;
    let (lo, hi) = (d - half, d + half);
    Some(Difference { difference: round(d), ci95: [round(lo), round(hi)], significant: lo > 0.0 || hi < 0.0 })
}

/// `later − earlier` of two independent samples (two waves); `scale`
/// multiplies the result (100 turns fractions into percentage points).
pub fn change(earlier: &Moments, later: &Moments, scale: f64) -> Option<Difference> {
    difference(later.estimate - earlier.estimate, earlier.var_of_estimate + later.var_of_estimate, scale)
}

/// A part (a buurt) against the whole it belongs to (its wijk, the gemeente).
/// The two overlap, so the test is of the part against the rest of the
/// whole: part − whole = (1 − f)(part − rest), with f the part's share of the
/// whole, and the rest's mean and variance follow from the two shown ones.
pub fn against_whole(part: &Moments, whole: &Moments, scale: f64) -> Option<Difference> {
    let f = part.n_eff / whole.n_eff;
    if !(0.0..1.0).contains(&f) {
        // The part is the whole (a wijk of one buurt): nothing to compare.
        return None;
    }
    let rest_n = whole.n_eff - part.n_eff;
    let rest_mean = (whole.estimate * whole.n_eff - part.estimate * part.n_eff) / rest_n;
    // Population variances back from the variances of the estimates, then
    // the rest's from the sums of squares.
    let s2 = |m: &Moments| m.var_of_estimate * m.n_eff;
    let ss_whole = s2(whole) * (whole.n_eff - 1.0) + whole.n_eff * whole.estimate.powi(2);
    let ss_part = s2(part) * (part.n_eff - 1.0) + part.n_eff * part.estimate.powi(2);
    let rest_s2 = ((ss_whole - ss_part - rest_n * rest_mean.powi(2)) / (rest_n - 1.0).max(1.0)).max(0.0);
    let var = (1.0 - f).powi(2) * (part.var_of_estimate + rest_s2 / rest_n);
    difference(part.estimate - whole.estimate, var, scale)
}

/// The one figure a question is ranked and compared by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Scales and numbers.
    Mean,
    /// Choices: the share (in %) choosing the option at this index.
    Share(usize),
}

impl Measure {
    /// Differences in the unit shown: points of the scale, or percentage points.
    pub fn scale(self) -> f64 {
        match self {
            Measure::Mean => 1.0,
            Measure::Share(_) => 100.0,
        }
    }
}

/// A shown estimate with its 95 % interval: what a chart of intervals draws.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub estimate: f64,
    pub ci95: [f64; 2],
    #[serde(skip)]
    pub exact: Moments,
}

/// The measure of a shown figure; None when suppressed or not measurable so.
pub fn estimate(figures: &QuestionFigures, measure: Measure) -> Option<Estimate> {
    match (figures, measure) {
        (QuestionFigures::Scale(s), Measure::Mean) => Some(Estimate { estimate: s.mean, ci95: s.ci95, exact: s.exact }),
        (QuestionFigures::Number(s), Measure::Mean) => {
            Some(Estimate { estimate: s.mean, ci95: s.ci95, exact: s.exact })
        }
        (QuestionFigures::Choice(c), Measure::Share(i)) => c.options.get(i).map(|o| Estimate {
            // Whole per cent, as every other output shows a share.
            estimate: f64::from(o.percent),
            ci95: o.ci95,
            exact: o.exact,
        }),
        _ => None,
    }
}

/// One area in a ranking: its estimate (None: suppressed) and how it
/// differs from the areas it lies in.
#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    pub code: AreaCode,
    pub name: String,
    pub parent: Option<AreaCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Estimate>,
    /// Against the wijk (for a buurt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_wijk: Option<Difference>,
    /// Against the gemeente (for a buurt or a wijk).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_gemeente: Option<Difference>,
}

/// The areas of a level ordered by their estimate, highest first, each
/// with its interval; suppressed areas last, by name, without figures.
pub fn ranking(table: &SafeTable, question: usize, measure: Measure, level: Level) -> Vec<Ranked> {
    let measured = |code: &AreaCode| table.figures(code.as_str(), question).and_then(|f| estimate(f, measure));
    let ancestor = |code: &AreaCode, wanted: Level| {
        let mut cur = table.get(code.as_str()).and_then(|a| a.parent.clone());
        while let Some(c) = cur {
            if c.level() == wanted {
                return Some(c);
            }
            cur = table.get(c.as_str()).and_then(|a| a.parent.clone());
        }
        None
    };
    let against = |e: &Estimate, whole: Option<AreaCode>| {
        whole.as_ref().and_then(measured).and_then(|w| against_whole(&e.exact, &w.exact, measure.scale()))
    };
    let mut rows: Vec<Ranked> = table
        .at_level(level)
        .map(|a| {
            let estimate = measured(&a.code);
            Ranked {
                code: a.code.clone(),
                name: a.name.clone(),
                parent: a.parent.clone(),
                n: estimate.and_then(|_| match table.figures(a.code.as_str(), question)? {
                    QuestionFigures::Scale(s) => Some(s.n),
                    QuestionFigures::Number(s) => Some(s.n),
                    QuestionFigures::Choice(c) => Some(c.n),
                    QuestionFigures::Suppressed => None,
                }),
                vs_wijk: estimate.as_ref().and_then(|e| against(e, ancestor(&a.code, Level::Wijk))),
                vs_gemeente: estimate.as_ref().and_then(|e| against(e, ancestor(&a.code, Level::Gemeente))),
                estimate,
            }
        })
        .collect();
    rows.sort_by(|a, b| match (&a.estimate, &b.estimate) {
        (Some(x), Some(y)) => y.exact.estimate.total_cmp(&x.exact.estimate).then_with(|| a.name.cmp(&b.name)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.name.cmp(&b.name),
    });
    rows
}

/// Where one area stands in a ranking, and where it could plausibly stand:
/// from 1 + the areas whose interval lies wholly above its own, to the
/// shown areas minus those whose interval lies wholly below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    pub rank: usize,
    /// Areas with a shown figure.
    pub of: usize,
    pub best: usize,
    pub worst: usize,
}

/// The position of `code` among the shown areas of a ranking (as
/// [`ranking`] orders them); None when it is suppressed or absent.
pub fn position(rows: &[Ranked], code: &AreaCode) -> Option<Position> {
    let shown: Vec<(&AreaCode, Estimate)> = rows.iter().filter_map(|r| Some((&r.code, r.estimate?))).collect();
    let i = shown.iter().position(|(c, _)| *c == code)?;
    let mine = shown[i].1.ci95;
    let others = || shown.iter().enumerate().filter(move |(j, _)| *j != i).map(|(_, (_, e))| e.ci95);
    let above = others().filter(|ci| ci[0] > mine[1]).count();
    let below = others().filter(|ci| ci[1] < mine[0]).count();
    Some(Position { rank: i + 1, of: shown.len(), best: above + 1, worst: shown.len() - below })
}

/// How one question changed in an area between two waves.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum QuestionChange {
    /// Not shown in one of the waves.
    Suppressed { suppressed: bool },
    /// Scales and numbers: the mean, and for 0–10 scales the share 7–10
    /// (percentage points).
    Mean {
        mean: Difference,
        #[serde(skip_serializing_if = "Option::is_none")]
        share_7_plus: Option<Difference>,
    },
    /// Choices: per option, in percentage points.
    Shares { shares: Vec<Option<Difference>> },
}

/// The change of every question in one area; None when the area is not
/// shown in both waves.
#[derive(Debug, Clone, Serialize)]
pub struct AreaChange {
    pub code: AreaCode,
    pub name: String,
    pub parent: Option<AreaCode>,
    pub questions: Option<Vec<QuestionChange>>,
    /// Per question, the change of the weighted figures, where the area is
    /// weighted in both waves; empty when `questions` is None.
    pub weighted: Vec<Option<QuestionChange>>,
}

/// Every area of a level, from one wave's table to a later one's (same
/// questionnaire, same questions). Only figures both tables show are used.
pub fn changes(earlier: &SafeTable, later: &SafeTable, level: Level) -> Vec<AreaChange> {
    later
        .at_level(level)
        .map(|a| {
            let both = earlier.get(a.code.as_str()).is_some_and(|e| e.figures.is_some()) && a.figures.is_some();
            let questions = both.then(|| {
                (0..later.questions.len())
                    .map(|q| {
                        let before = earlier.figures(a.code.as_str(), q);
                        let after = later.figures(a.code.as_str(), q);
                        question_change(before, after).unwrap_or(QuestionChange::Suppressed { suppressed: true })
                    })
                    .collect()
            });
            // `weighted` returns figures only where the unweighted ones are shown.
            let weighted = match both {
                true => (0..later.questions.len())
                    .map(|q| weighted_change(earlier.weighted(a.code.as_str(), q), later.weighted(a.code.as_str(), q)))
                    .collect(),
                false => Vec::new(),
            };
            AreaChange { code: a.code.clone(), name: a.name.clone(), parent: a.parent.clone(), questions, weighted }
        })
        .collect()
}

fn question_change(before: Option<&QuestionFigures>, after: Option<&QuestionFigures>) -> Option<QuestionChange> {
    match (before?, after?) {
        (QuestionFigures::Scale(x), QuestionFigures::Scale(y)) => Some(QuestionChange::Mean {
            mean: change(&x.exact, &y.exact, 1.0)?,
            share_7_plus: x.satisfied.zip(y.satisfied).and_then(|(a, b)| change(&a.exact, &b.exact, 100.0)),
        }),
        (QuestionFigures::Number(x), QuestionFigures::Number(y)) => {
            Some(QuestionChange::Mean { mean: change(&x.exact, &y.exact, 1.0)?, share_7_plus: None })
        }
        (QuestionFigures::Choice(x), QuestionFigures::Choice(y)) => Some(QuestionChange::Shares {
            shares: x.options.iter().zip(&y.options).map(|(a, b)| change(&a.exact, &b.exact, 100.0)).collect(),
        }),
        _ => None,
    }
}

fn weighted_change(before: Option<&WeightedFigures>, after: Option<&WeightedFigures>) -> Option<QuestionChange> {
    match (&before?.estimates, &after?.estimates) {
        (
            WeightedEstimates::Mean { exact: x, share_7_plus: x7, .. },
            WeightedEstimates::Mean { exact: y, share_7_plus: y7, .. },
        ) => Some(QuestionChange::Mean {
            mean: change(x, y, 1.0)?,
            share_7_plus: x7.as_ref().zip(y7.as_ref()).and_then(|(a, b)| change(&a.exact, &b.exact, 100.0)),
        }),
        (WeightedEstimates::Shares(x), WeightedEstimates::Shares(y)) => Some(QuestionChange::Shares {
            shares: x.iter().zip(y).map(|(a, b)| change(&a.exact, &b.exact, 100.0)).collect(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::stats::Sample;

    fn moments(values: &[f64]) -> Moments {
        let mass: Vec<(f64, f64)> = values.iter().map(|v| (*v, 1.0)).collect();
        Sample::unweighted(&mass).moments().unwrap()
    }

    #[test]
    fn a_change_is_flagged_only_when_its_interval_excludes_zero() {
        let before = Moments { n_eff: 400.0, estimate: 7.0, var_of_estimate: 0.01 };
        let small = Moments { estimate: 7.1, ..before };
        let large = Moments { estimate: 7.5, ..before };
        let c = change(&before, &small, 1.0).unwrap();
        assert!(!c.significant && c.ci95[0] < 0.0 && c.ci95[1] > 0.0);
        let c = change(&before, &large, 1.0).unwrap();
        // 0.5 ± 1.96 × √0.02 = 0.5 ± 0.28
        assert_eq!((c.difference, c.ci95, c.significant), (0.5, [0.22, 0.78], true));
        let shares = change(&Moments::of_share(0.5, 500.0), &Moments::of_share(0.6, 500.0), 100.0).unwrap();
        assert_eq!(shares.difference, 10.0);
        assert!(shares.significant);
    }

    #[test]
    fn a_part_is_tested_against_the_rest_of_its_whole() {
        // The rest reconstructed from part and whole equals the real rest.
        let part_v = [6.0, 7.0, 8.0, 9.0, 7.0, 8.0];
        let rest_v = [5.0, 6.0, 6.0, 7.0, 5.0, 4.0, 6.0, 7.0];
        let whole_v: Vec<f64> = part_v.iter().chain(&rest_v).copied().collect();
        let (part, rest, whole) = (moments(&part_v), moments(&rest_v), moments(&whole_v));
        let d = against_whole(&part, &whole, 1.0).unwrap();
        let f = part.n_eff / whole.n_eff;
        let expected = (1.0 - f).powi(2) * (part.var_of_estimate + rest.var_of_estimate);
        let half = Z * expected.sqrt();
        let exact = part.estimate - whole.estimate;
        assert!((d.ci95[0] - (exact - half)).abs() < 0.011 && (d.ci95[1] - (exact + half)).abs() < 0.011);
        assert!(against_whole(&whole, &whole, 1.0).is_none());
    }

    #[test]
    fn a_position_carries_the_ranks_its_interval_allows() {
        let row = |code: &str, e: f64, lo: f64, hi: f64| Ranked {
            code: AreaCode::parse(Level::Buurt, code).unwrap(),
            name: code.into(),
            parent: None,
            n: Some(10),
            estimate: Some(Estimate { estimate: e, ci95: [lo, hi], exact: Moments::of_share(0.5, 10.0) }),
            vs_wijk: None,
            vs_gemeente: None,
        };
        let mut hidden = row("BU00010004", 0.0, 0.0, 0.0);
        hidden.estimate = None;
        // A clearly best, B and C overlap each other, D clearly last.
        let rows = vec![
            row("BU00010000", 9.0, 8.5, 9.5),
            row("BU00010001", 7.0, 6.0, 8.0),
            row("BU00010002", 6.8, 6.2, 7.4),
            row("BU00010003", 4.0, 3.5, 4.5),
            hidden,
        ];
        let at = |c: &str| position(&rows, &AreaCode::parse(Level::Buurt, c).unwrap());
        assert_eq!(at("BU00010000"), Some(Position { rank: 1, of: 4, best: 1, worst: 1 }));
        assert_eq!(at("BU00010002"), Some(Position { rank: 3, of: 4, best: 2, worst: 3 }));
        assert_eq!(at("BU00010001"), Some(Position { rank: 2, of: 4, best: 2, worst: 3 }));
        assert_eq!(at("BU00010003"), Some(Position { rank: 4, of: 4, best: 4, worst: 4 }));
        assert_eq!(at("BU00010004"), None, "a suppressed area has no position");
    }
}
