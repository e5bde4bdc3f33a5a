//! The seam for results: an area's weighting outcome (weighted, or
//! unweighted with the reason) and weighted estimators whose intervals are
//! widened by the design effect.

use serde::Serialize;

use super::category::Cell;
use super::margins::{Margins, RespondentCells};
use super::rake::{rake, RakeSettings, WeightingError, Weights};
use crate::i18n::Lang;
use crate::insight::stats::{wilson, Sample};

/// What weighting an area came to. Never a silent wrong number: when the
/// margins do not fit, results are unweighted and say why.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightingOutcome {
    Weighted(Weights),
    Unweighted { reason: WeightingError, respondents: u64 },
}

/// Rakes an area's respondents to its margins, or falls back to unweighted
/// figures with the reason. The one entry point for results.
pub fn weights_for_area(
    margins: Option<&Margins>,
    respondents: &RespondentCells,
    settings: &RakeSettings,
) -> WeightingOutcome {
    let result = match margins {
        Some(m) if !m.is_empty() => rake(m, respondents, settings),
        _ => Err(WeightingError::NoMargins),
    };
    match result {
        Ok(weights) => WeightingOutcome::Weighted(weights),
        Err(reason) => WeightingOutcome::Unweighted { reason, respondents: respondents.total() },
    }
}

impl WeightingOutcome {
    pub fn is_weighted(&self) -> bool {
        matches!(self, WeightingOutcome::Weighted(_))
    }

    /// The weight of a respondent in `cell` (None: not placed in a cell).
    /// Unweighted, everyone weighs 1. `Err` names a cell the area had no
    /// respondents in when it was weighted: the inputs do not belong together.
    pub fn weight(&self, cell: Option<&Cell>) -> Result<f64, Cell> {
        match self {
            WeightingOutcome::Weighted(w) => w.weight(cell),
            WeightingOutcome::Unweighted { .. } => Ok(1.0),
        }
    }

    pub fn effective_n(&self) -> f64 {
        match self {
            WeightingOutcome::Weighted(w) => w.effective_n(),
            WeightingOutcome::Unweighted { respondents, .. } => *respondents as f64,
        }
    }

    pub fn design_effect(&self) -> f64 {
        match self {
            WeightingOutcome::Weighted(w) => w.design_effect(),
            WeightingOutcome::Unweighted { .. } => 1.0,
        }
    }

    /// The notice to show beside unweighted figures, in the reader's
    /// language (texts `weighting_*` in templates/locales).
    pub fn notice(&self, lang: Lang) -> Option<String> {
        let WeightingOutcome::Unweighted { reason, .. } = self else { return None };
        Some(reason.notice(lang))
    }
}

impl WeightingError {
    /// The notice to show beside unweighted figures, in the reader's
    /// language (texts `weighting_*` in templates/locales). Unlike the
    /// error's own message it names no group and no count.
    pub fn notice(&self, lang: Lang) -> String {
        let key = format!("weighting_{}", self.code());
        lang.texts().get(&key).cloned().unwrap_or(key)
    }
}

/// `count` respondents in `cell` (None: not placed) who answered `value`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub cell: Option<Cell>,
    pub value: f64,
    pub count: u64,
}

/// A weighted estimate with Kish's effective sample size and design effect
/// of the respondents who answered this question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightedEstimate {
    pub n: u64,
    pub n_eff: f64,
    pub deff: f64,
    pub estimate: f64,
    /// 95 % interval; None with fewer than two respondents.
    pub ci95: Option<[f64; 2]>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EstimateError {
    #[error("no observations")]
    Empty,
    #[error("respondents in cell {0} were not part of the area's weighting")]
    UnknownCell(Cell),
}

/// Weighted sums of the observations: n, Σw, Σw², Σwx, and the weighted
/// mean.
struct Sums {
    n: u64,
    w: f64,
    w2: f64,
    mean: f64,
}

fn sums(outcome: &WeightingOutcome, obs: &[Observation]) -> Result<Sums, EstimateError> {
    let (mut n, mut w, mut w2, mut wx) = (0u64, 0.0, 0.0, 0.0);
    for o in obs.iter().filter(|o| o.count > 0) {
        let weight = outcome.weight(o.cell.as_ref()).map_err(EstimateError::UnknownCell)?;
        let k = o.count as f64;
        n += o.count;
        w += k * weight;
        w2 += k * weight * weight;
        wx += k * weight * o.value;
    }
    if n == 0 || w <= 0.0 {
        return Err(EstimateError::Empty);
    }
    Ok(Sums { n, w, w2, mean: wx / w })
}

impl Sums {
    fn n_eff(&self) -> f64 {
        self.w * self.w / self.w2
    }
}

/// The observations' summed weight per value, in ascending order.
fn mass(outcome: &WeightingOutcome, obs: &[Observation]) -> Vec<(f64, f64)> {
    let mut mass: Vec<(f64, f64)> = Vec::new();
    for o in obs.iter().filter(|o| o.count > 0) {
        let weight = outcome.weight(o.cell.as_ref()).unwrap_or(1.0);
        match mass.iter_mut().find(|(v, _)| *v == o.value) {
            Some((_, w)) => *w += o.count as f64 * weight,
            None => mass.push((o.value, o.count as f64 * weight)),
        }
    }
    mass.sort_by(|a, b| a.0.total_cmp(&b.0));
    mass
}

/// The weighted mean with a 95 % interval: Student t on n_eff − 1 degrees
/// of freedom times the weighted standard deviation over √n_eff — the
/// unweighted interval widened by √deff. The results' estimator
/// ([`Sample::moments`]) fed with weighted sums.
pub fn weighted_mean(outcome: &WeightingOutcome, obs: &[Observation]) -> Result<WeightedEstimate, EstimateError> {
    let s = sums(outcome, obs)?;
    let n_eff = s.n_eff();
    let mass = mass(outcome, obs);
    let m = Sample { mass: &mass, n: s.n, n_eff, noise: None }.moments().ok_or(EstimateError::Empty)?;
    let ci95 = (s.n > 1).then(|| m.ci95());
    Ok(WeightedEstimate { n: s.n, n_eff, deff: s.n as f64 / n_eff, estimate: m.estimate, ci95 })
}

/// The weighted share of respondents for whom `value` is 1 (chose an
/// option, scored 7–10, …), with a Wilson 95 % interval on n_eff: it stays
/// inside 0–1 and is honest when the share is near 0 or 1.
pub fn weighted_share(outcome: &WeightingOutcome, obs: &[Observation]) -> Result<WeightedEstimate, EstimateError> {
    let s = sums(outcome, obs)?;
    let n_eff = s.n_eff();
    let p = s.mean.clamp(0.0, 1.0);
    let ci95 = (s.n > 1).then(|| wilson(p, n_eff));
    Ok(WeightedEstimate { n: s.n, n_eff, deff: s.n as f64 / n_eff, estimate: p, ci95 })
}
