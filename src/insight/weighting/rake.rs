//! Raking (iterative proportional fitting) of respondent cells to population
//! margins, with trimming. Works on cells, not on respondents: everyone in a
//! cell gets the same weight, and a buurt has at most eight cells.

use std::collections::BTreeMap;

use serde::Serialize;

use super::category::{Category, Cell, Variable};
use super::margins::{Margins, RespondentCells};

/// How raking runs; checked once by [`RakeSettings::new`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RakeSettings {
    tolerance: f64,
    max_iterations: usize,
    trim: Option<(f64, f64)>,
    min_category_respondents: u64,
    total_tolerance: f64,
}

impl Default for RakeSettings {
    /// Shares within 0.0001 %, at most 200 sweeps, weights trimmed to
    /// 0.2–5 × the mean, categories merged only when nobody in them
    /// answered, margins' totals agreeing within 2 % (CBS rounds to 5).
    fn default() -> RakeSettings {
        RakeSettings {
            tolerance: 1e-6,
            max_iterations: 200,
            trim: Some((0.2, 5.0)),
            min_category_respondents: 1,
            total_tolerance: 0.02,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    #[error("the tolerance must be a number above 0 and below 1 (got {0})")]
    Tolerance(f64),
    #[error("the iteration limit must be 1 to 10000 (got {0})")]
    Iterations(usize),
    #[error("trim bounds must satisfy 0 < lower ≤ 1 ≤ upper (got {0} and {1})")]
    Trim(f64, f64),
    #[error("the tolerance for margins' totals must be 0 to 0.5 (got {0})")]
    TotalTolerance(f64),
}

impl RakeSettings {
    /// These settings, with categories of fewer than `k` respondents merged.
    pub fn with_min_category_respondents(self, k: u64) -> RakeSettings {
        RakeSettings { min_category_respondents: k.max(1), ..self }
    }

    /// `trim`: bounds as multiples of the mean weight, or None for no trimming.
    pub fn new(
        tolerance: f64,
        max_iterations: usize,
        trim: Option<(f64, f64)>,
        min_category_respondents: u64,
        total_tolerance: f64,
    ) -> Result<RakeSettings, SettingsError> {
        if !(tolerance > 0.0 && tolerance < 1.0) {
            return Err(SettingsError::Tolerance(tolerance));
        }
        if !(1..=10_000).contains(&max_iterations) {
            return Err(SettingsError::Iterations(max_iterations));
        }
        if let Some((lo, hi)) = trim {
            if !(lo > 0.0 && lo <= 1.0 && hi >= 1.0 && hi.is_finite()) {
                return Err(SettingsError::Trim(lo, hi));
            }
        }
        if !(0.0..=0.5).contains(&total_tolerance) {
            return Err(SettingsError::TotalTolerance(total_tolerance));
        }
        Ok(RakeSettings {
            tolerance,
            max_iterations,
            trim,
            min_category_respondents: min_category_respondents.max(1),
            total_tolerance,
        })
    }

    pub fn trim(&self) -> Option<(f64, f64)> {
        self.trim
    }

    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }
}

/// Why an area's respondents cannot be weighted; results then fall back to
/// unweighted figures and say why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeightingError {
    #[error("no population figures (margins) for this area")]
    NoMargins,
    #[error("none of the {unclassified} respondents gave both age band and gender")]
    NoClassifiedRespondents { unclassified: u64 },
    #[error("{respondents} respondents are in {category}, but the margins have no figure for it")]
    MissingCategory { category: Category, respondents: u64 },
    #[error("{respondents} respondents are in {category}, but the margins say nobody lives in that group")]
    ZeroPopulation { category: Category, respondents: u64 },
    #[error("the margins' totals disagree: {} residents by age band, {} by gender", .age_band, .gender)]
    TotalsDisagree { age_band: u64, gender: u64 },
    #[error(
        "raking did not converge in {iterations} iterations (margins still {:.2} percentage points off)",
        .deviation * 100.0
    )]
    NotConverged { iterations: usize, deviation: f64 },
}

impl WeightingError {
    /// A stable name for the reason, for APIs and translations.
    pub fn code(&self) -> &'static str {
        match self {
            WeightingError::NoMargins => "no_margins",
            WeightingError::NoClassifiedRespondents { .. } => "no_classified_respondents",
            // One public reason for both, naming no group: which group has
            // respondents the margins lack could point at a resident.
            WeightingError::MissingCategory { .. } | WeightingError::ZeroPopulation { .. } => "margins_do_not_fit",
            WeightingError::TotalsDisagree { .. } => "totals_disagree",
            WeightingError::NotConverged { .. } => "not_converged",
        }
    }
}

/// Categories of one variable merged because too few respondents were in
/// some of them; their population counts together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Collapse {
    pub variable: Variable,
    pub merged: Vec<Category>,
}

/// The weight of every respondent in one cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellWeight {
    pub cell: Cell,
    pub respondents: u64,
    pub weight: f64,
}

/// The result of raking one area. Weights have mean 1 over the respondents
/// placed in a cell; those without age band or gender weigh 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weights {
    pub cells: Vec<CellWeight>,
    pub unclassified: u64,
    pub iterations: usize,
    pub collapsed: Vec<Collapse>,
    /// Cells whose weight ended at a trim bound.
    pub trimmed_cells: usize,
}

impl Weights {
    /// The weight of a respondent in `cell`; None: not placed (weight 1).
    /// `Err` for a cell this area had no respondents in.
    pub fn weight(&self, cell: Option<&Cell>) -> Result<f64, Cell> {
        match cell {
            None => Ok(1.0),
            Some(c) => self.cells.iter().find(|w| w.cell == *c).map(|w| w.weight).ok_or(*c),
        }
    }

    pub fn respondents(&self) -> u64 {
        self.cells.iter().map(|c| c.respondents).sum::<u64>() + self.unclassified
    }

    /// Kish's effective sample size: (Σw)² / Σw².
    pub fn effective_n(&self) -> f64 {
        let (sum, squares) =
            self.cells.iter().fold((self.unclassified as f64, self.unclassified as f64), |(s, q), c| {
                let n = c.respondents as f64;
                (s + n * c.weight, q + n * c.weight * c.weight)
            });
        if squares > 0.0 {
            sum * sum / squares
        } else {
            0.0
        }
    }

    /// Kish's design effect of weighting: n / n_eff (1 when all weigh the same).
    pub fn design_effect(&self) -> f64 {
        let n_eff = self.effective_n();
        if n_eff > 0.0 {
            self.respondents() as f64 / n_eff
        } else {
            1.0
        }
    }
}

/// A group of one variable's categories (after merging): its target, the
/// respondents it should weigh as, and the cells in it.
struct Group {
    target: f64,
    cells: Vec<usize>,
}

/// Rakes the respondent cells of one area to its margins. When the margins
/// cannot be met within the trim bounds, categories with few respondents
/// are merged with a neighbour step by step (fewer than 2, 3, then 5) before
/// giving up: a coarser fit beats none, and the merges are reported.
pub fn rake(
    margins: &Margins,
    respondents: &RespondentCells,
    settings: &RakeSettings,
) -> Result<Weights, WeightingError> {
    let mut result = rake_with(margins, respondents, settings, settings.min_category_respondents);
    if settings.trim.is_some() {
        for min in MERGE_STEPS.into_iter().filter(|m| *m > settings.min_category_respondents) {
            match result {
                Err(WeightingError::NotConverged { .. }) => {
                    result = rake_with(margins, respondents, settings, min);
                }
                _ => break,
            }
        }
    }
    result
}

/// Respondents a category needs, tried in turn when trimmed raking fails.
const MERGE_STEPS: [u64; 3] = [2, 3, 5];

fn rake_with(
    margins: &Margins,
    respondents: &RespondentCells,
    settings: &RakeSettings,
    min_category_respondents: u64,
) -> Result<Weights, WeightingError> {
    let n = respondents.classified();
    if n == 0 {
        return Err(WeightingError::NoClassifiedRespondents { unclassified: respondents.unclassified });
    }
    let cells: Vec<(Cell, u64)> = respondents.cells.iter().filter(|(_, k)| **k > 0).map(|(c, k)| (*c, *k)).collect();
    let totals = (margins.total(Variable::AgeBand), margins.total(Variable::Gender));
    let mut variables = Vec::new();
    let mut collapsed = Vec::new();
    // The groups of categories per variable, in `Variable::ALL` order.
    let mut category_groups: Vec<Vec<Vec<Category>>> = Vec::new();
    const _: () = assert!(matches!(Variable::ALL, [Variable::AgeBand, Variable::Gender]));
    for variable in Variable::ALL {
        let answered = respondents.per_category(variable);
        for (&category, &k) in answered.iter().filter(|(_, k)| **k > 0) {
            match margins.get(category) {
                None => return Err(WeightingError::MissingCategory { category, respondents: k }),
                Some(0) => return Err(WeightingError::ZeroPopulation { category, respondents: k }),
                Some(_) => {}
            }
        }
        let mut groups = merge_thin(variable, margins, &answered, min_category_respondents);
        // Respondents who share an age group and a gender group share a
        // weight. When such a class is thinner than the minimum, gender is
        // not weighted (its groups merge): then the classes are the age
        // groups, each with at least the minimum.
        // The minimum asked for, not the steps tried when raking fails.
        let min = settings.min_category_respondents;
        if variable == Variable::Gender && groups.len() > 1 && min > 1 {
            let age_groups: &Vec<Vec<Category>> = &category_groups[0];
            let thin_class = age_groups.iter().any(|a| {
                groups.iter().any(|g| {
                    let k: u64 = cells
                        .iter()
                        .filter(|(c, _)| a.contains(&c.age_band) && g.contains(&c.gender))
                        .map(|(_, k)| k)
                        .sum();
                    k > 0 && k < min
                })
            });
            if thin_class {
                groups = vec![groups.concat()];
            }
        }
        category_groups.push(groups.clone());
        let total = margins.total(variable) as f64;
        let groups: Vec<Group> = groups
            .into_iter()
            .map(|categories| {
                let population: u64 = categories.iter().filter_map(|c| margins.get(*c)).sum();
                let members =
                    (0..cells.len()).filter(|&i| categories.contains(&cells[i].0.category(variable))).collect();
                if categories.len() > 1 {
                    collapsed.push(Collapse { variable, merged: categories });
                }
                Group { target: population as f64 / total * n as f64, cells: members }
            })
            .collect();
        variables.push(groups);
    }
    let (age_total, gender_total) = totals;
    let (lo, hi) = (age_total.min(gender_total) as f64, age_total.max(gender_total) as f64);
    if hi - lo > settings.total_tolerance * hi {
        return Err(WeightingError::TotalsDisagree { age_band: age_total, gender: gender_total });
    }

    let mut weights = vec![1.0_f64; cells.len()];
    let current =
        |weights: &[f64], group: &Group| -> f64 { group.cells.iter().map(|&i| weights[i] * cells[i].1 as f64).sum() };
    let mut deviation = f64::INFINITY;
    for iteration in 1..=settings.max_iterations {
        for groups in &variables {
            for group in groups {
                adjust(&mut weights, &cells, group, settings.trim);
            }
        }
        deviation =
            variables.iter().flatten().map(|g| (current(&weights, g) - g.target).abs() / n as f64).fold(0.0, f64::max);
        if deviation <= settings.tolerance {
            let trimmed_cells =
                settings.trim.map(|(lo, hi)| weights.iter().filter(|w| **w <= lo || **w >= hi).count()).unwrap_or(0);
            return Ok(Weights {
                cells: cells
                    .iter()
                    .zip(&weights)
                    .map(|((cell, k), w)| CellWeight { cell: *cell, respondents: *k, weight: *w })
                    .collect(),
                unclassified: respondents.unclassified,
                iterations: iteration,
                collapsed,
                trimmed_cells,
            });
        }
    }
    Err(WeightingError::NotConverged { iterations: settings.max_iterations, deviation })
}

/// Scales a group's weights so that it weighs its target. With trim bounds,
/// a weight that would cross a bound stays at it and the rest of the group
/// makes up the difference (bounded raking), so each step meets its target
/// exactly whenever the bounds allow.
fn adjust(weights: &mut [f64], cells: &[(Cell, u64)], group: &Group, trim: Option<(f64, f64)>) {
    let (lo, hi) = trim.unwrap_or((0.0, f64::INFINITY));
    let mut fixed: Vec<Option<f64>> = vec![None; group.cells.len()];
    loop {
        let (mut at_bounds, mut free) = (0.0, 0.0);
        for (slot, &i) in fixed.iter().zip(&group.cells) {
            let k = cells[i].1 as f64;
            match slot {
                Some(bound) => at_bounds += k * bound,
                None => free += k * weights[i],
            }
        }
        if free <= 0.0 {
            break;
        }
        let factor = ((group.target - at_bounds) / free).max(0.0);
        let mut moved = false;
        for (slot, &i) in fixed.iter_mut().zip(&group.cells) {
            if slot.is_none() {
                let w = weights[i] * factor;
                if w > hi || w < lo {
                    *slot = Some(w.clamp(lo, hi));
                    moved = true;
                }
            }
        }
        if !moved {
            for (slot, &i) in fixed.iter().zip(&group.cells) {
                weights[i] = slot.unwrap_or(weights[i] * factor);
            }
            return;
        }
    }
    for (slot, &i) in fixed.iter().zip(&group.cells) {
        if let Some(bound) = slot {
            weights[i] = *bound;
        }
    }
}

/// The categories of a variable in groups: a category with fewer than `min`
/// respondents joins its neighbour with fewer respondents (the younger one
/// on a tie) until every group has enough or only one is left.
fn merge_thin(
    variable: Variable,
    margins: &Margins,
    answered: &BTreeMap<Category, u64>,
    min: u64,
) -> Vec<Vec<Category>> {
    let all: Vec<Category> = variable.categories().iter().filter_map(|c| variable.category(c)).collect();
    // Categories nobody lives in and nobody answered from take no part.
    let mut groups: Vec<(Vec<Category>, u64)> = all
        .into_iter()
        .filter(|c| margins.get(*c).unwrap_or(0) > 0 || answered.get(c).copied().unwrap_or(0) > 0)
        .map(|c| (vec![c], answered.get(&c).copied().unwrap_or(0)))
        .collect();
    while groups.len() > 1 {
        let Some(thin) = groups.iter().position(|(_, k)| *k < min) else { break };
        let neighbour = match (thin.checked_sub(1), (thin + 1 < groups.len()).then_some(thin + 1)) {
            (Some(a), Some(b)) => {
                if groups[b].1 < groups[a].1 {
                    b
                } else {
                    a
                }
            }
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => break,
        };
        let (keep, gone) = (thin.min(neighbour), thin.max(neighbour));
        let (categories, k) = groups.remove(gone);
        groups[keep].0.extend(categories);
        groups[keep].1 += k;
    }
    groups.into_iter().map(|(c, _)| c).collect()
}
