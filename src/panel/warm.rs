//! The two models of the column generation kept alive between rounds, on the
//! HiGHS binding directly: the master LP (primal form) gets one column per
//! new panel and is re-solved by the primal simplex from its last basis; the
//! pricing MIP only gets new objective weights.

use highs::{Col, ColProblem, HighsModelStatus, Model, Row, RowProblem, Sense};

use super::model::Instance;
use super::PanelError;

fn status_error(what: &str, status: HighsModelStatus) -> PanelError {
    PanelError::Solver(format!("{what}: HiGHS ended with {status:?}"))
}

/// No log, and one thread: HiGHS's worker threads spin while waiting, which
/// on a small machine costs more than the parallelism brings for models of
/// this size.
pub(crate) fn quiet_single_thread(model: &mut Model) {
    model.make_quiet();
    model.set_option("threads", 1);
}

/// The leximin master LP over the portfolio, in primal form: maximise `z`
/// subject to `Σ_P λ_P·c_{P,t}/n_t ≥ z` for every unfixed type,
/// `≥ p_t` for every fixed type, `Σ λ = 1`, `λ ≥ 0`. A new panel is a new
/// column, which leaves the last basis primal feasible, so the primal
/// simplex goes on from it in a few pivots. Fixing a type at (just under)
/// the level reached keeps that basis feasible too: the type's `z` row is
/// switched off through a slack column `g_t` (held at 0 while the type is
/// unfixed) and a row `Σ_P λ_P·c_{P,t}/n_t ≥ p_t` is added.
pub(crate) struct MasterPrimal {
    model: Option<Model>,
    /// The row of each type that new panels get a coefficient in.
    rows: Vec<Row>,
    /// Index of `rows[t]` in the model (HiGHS numbers rows in order).
    row_index: Vec<usize>,
    row_count: usize,
    slack: Vec<Col>,
    convexity: Row,
    sizes: Vec<f64>,
    /// What the model holds, to build it afresh (see [`MasterPrimal::solve`]).
    panels: Vec<Vec<u32>>,
    lambda: Vec<Col>,
    fixed: Vec<Option<f64>>,
}

/// Simplex iterations a warm re-solve of the master may take (on top of a
/// per-column allowance) before the model is built afresh: a guard against
/// a warm start that stalls on a degenerate master.
const WARM_ITERATIONS: usize = 2_000;
/// Extra warm iterations allowed per panel column.
const WARM_ITERATIONS_PER_PANEL: usize = 2;

impl MasterPrimal {
    pub fn new(inst: &Instance, fixed: &[Option<f64>]) -> Self {
        let sizes = (0..inst.types.len()).map(|t| inst.size(t) as f64).collect();
        let mut master = Self::empty(sizes);
        for (t, f) in fixed.iter().enumerate() {
            if let Some(f) = f {
                master.fix(t, *f);
            }
        }
        master
    }

    fn empty(sizes: Vec<f64>) -> Self {
        let types = sizes.len();
        let mut p = ColProblem::default();
        let rows: Vec<Row> = (0..types).map(|_| p.add_row(0.0..)).collect();
        let convexity = p.add_row(1.0..=1.0);
        let mut model = p.optimise(Sense::Maximise);
        quiet_single_thread(&mut model);
        model.set_option("simplex_strategy", 4);
        model.add_col(1.0, 0.0..=1.0, rows.iter().map(|&r| (r, -1.0)));
        let slack = rows.iter().map(|&r| model.add_col(0.0, 0.0..=0.0, [(r, 1.0)])).collect();
        MasterPrimal {
            model: Some(model),
            rows,
            row_index: (0..types).collect(),
            row_count: types + 1,
            slack,
            convexity,
            sizes,
            panels: Vec::new(),
            lambda: Vec::new(),
            fixed: vec![None; types],
        }
    }

    /// The same master as a new model, without the old basis.
    fn rebuild(&mut self) {
        let mut fresh = Self::empty(self.sizes.clone());
        for (t, f) in self.fixed.iter().enumerate() {
            if let Some(f) = f {
                fresh.fix(t, *f);
            }
        }
        for panel in &self.panels {
            fresh.add_panel(panel);
        }
        *self = fresh;
    }

    fn model(&mut self) -> &mut Model {
        self.model.as_mut().expect("the model is put back after every solve")
    }

    /// A column `λ_P` for a new panel.
    pub fn add_panel(&mut self, panel: &[u32]) {
        let mut factors = vec![(self.convexity, 1.0)];
        for (t, &c) in panel.iter().enumerate() {
            if c > 0 {
                factors.push((self.rows[t], f64::from(c) / self.sizes[t]));
            }
        }
        let col = self.model().add_col(0.0, 0.0.., factors);
        self.lambda.push(col);
        self.panels.push(panel.to_vec());
    }

    pub fn fix(&mut self, t: usize, probability: f64) {
        self.fixed[t] = Some(probability);
        let slack = self.slack[t];
        let size = self.sizes[t];
        let factors: Vec<(Col, f64)> = self
            .panels
            .iter()
            .zip(&self.lambda)
            .filter(|(p, _)| p[t] > 0)
            .map(|(p, &col)| (col, f64::from(p[t]) / size))
            .collect();
        let model = self.model();
        model.change_column_bounds(slack, 0.0..);
        let row = model.add_row(probability.., factors);
        self.rows[t] = row;
        self.row_index[t] = self.row_count;
        self.row_count += 1;
    }

    /// (value, ŷ, y): the best smallest probability of the unfixed types,
    /// the best panel's dual weight and the types' duals (`Σ_unfixed y = 1`).
    /// Warm from the last basis; if that stalls, once more from scratch.
    pub fn solve(&mut self) -> Result<(f64, f64, Vec<f64>), PanelError> {
        let limit = (WARM_ITERATIONS + WARM_ITERATIONS_PER_PANEL * self.panels.len()) as i32;
        self.model().set_option("simplex_iteration_limit", limit);
        if let Some(result) = self.try_solve()? {
            return Ok(result);
        }
        tracing::trace!(panels = self.panels.len(), "leximin master stalled warm: solved afresh");
        self.rebuild();
        self.model().set_option("simplex_iteration_limit", i32::MAX);
        self.try_solve()?.ok_or_else(|| status_error("master LP", HighsModelStatus::ReachedIterationLimit))
    }

    /// `None` when the iteration limit was reached.
    fn try_solve(&mut self) -> Result<Option<(f64, f64, Vec<f64>)>, PanelError> {
        let model = self.model.take().expect("the model is put back after every solve");
        let solved = model.try_solve().map_err(|e| PanelError::Solver(format!("master LP: {e:?}")))?;
        let status = solved.status();
        if status == HighsModelStatus::ReachedIterationLimit {
            self.model = Some(Model::from(solved));
            return Ok(None);
        }
        if status != HighsModelStatus::Optimal {
            return Err(status_error("master LP", status));
        }
        let value = solved.objective_value();
        tracing::trace!(
            iterations = solved.simplex_iteration_count(),
            panels = self.panels.len(),
            "leximin master solved"
        );
        let solution = solved.get_solution();
        let duals = solution.dual_rows();
        let raw: Vec<f64> = self.row_index.iter().map(|&r| duals[r]).collect();
        // HiGHS's sign convention for duals of a maximisation: normalise so
        // that the unfixed types' duals add up to +1.
        let sum: f64 = raw.iter().zip(&self.fixed).filter(|(_, f)| f.is_none()).map(|(d, _)| d).sum();
        let sign = if sum < 0.0 { -1.0 } else { 1.0 };
        let y: Vec<f64> = raw.iter().map(|d| (sign * d).max(0.0)).collect();
        let owed: f64 = self.fixed.iter().zip(&y).filter_map(|(f, y)| f.map(|p| p * y)).sum();
        let y_hat = value + owed;
        self.model = Some(Model::from(solved));
        Ok(Some((value, y_hat, y)))
    }
}

/// The pricing MIP: the quota-feasible composition with the largest weight.
pub(crate) struct Pricing {
    model: Option<Model>,
    c: Vec<Col>,
}

impl Pricing {
    pub fn new(inst: &Instance) -> Self {
        let mut p = RowProblem::default();
        let c: Vec<Col> = (0..inst.types.len()).map(|t| p.add_integer_column(0.0, 0.0..=inst.size(t) as f64)).collect();
        let k = f64::from(inst.k);
        p.add_row(k..=k, c.iter().map(|&v| (v, 1.0)));
        for q in &inst.quotas {
            p.add_row(f64::from(q.min)..=f64::from(q.max), q.types.iter().map(|&t| (c[t], 1.0)));
        }
        for h in &inst.households {
            p.add_row(..=1.0, h.iter().map(|&t| (c[t], 1.0)));
        }
        let mut model = p.optimise(Sense::Maximise);
        quiet_single_thread(&mut model);
        // Pricing must be exact: a panel missed by the default gap (1e-4)
        // would stop the column generation early.
        model.set_option("mip_rel_gap", 1e-9);
        model.set_option("mip_abs_gap", 1e-10);
        Pricing { model: Some(model), c }
    }

    /// The best composition for these weights, optionally with at least one
    /// member of type `force`; `None` when there is none.
    pub fn best(
        &mut self,
        inst: &Instance,
        weights: &[f64],
        force: Option<usize>,
    ) -> Result<Option<Vec<u32>>, PanelError> {
        let mut model = self.model.take().expect("the model is put back after every solve");
        for (&c, &w) in self.c.iter().zip(weights) {
            model.change_column_cost(c, w);
        }
        if let Some(t) = force {
            model.change_column_bounds(self.c[t], 1.0..=inst.size(t) as f64);
        }
        let solved = model.try_solve().map_err(|e| PanelError::Solver(format!("pricing MIP: {e:?}")))?;
        let status = solved.status();
        let panel = match status {
            HighsModelStatus::Optimal => {
                let solution = solved.get_solution();
                Some(self.c.iter().map(|c| solution.columns()[c.index()].round().max(0.0) as u32).collect())
            }
            HighsModelStatus::Infeasible => None,
            other => return Err(status_error("pricing MIP", other)),
        };
        let mut model = Model::from(solved);
        if let Some(t) = force {
            model.change_column_bounds(self.c[t], 0.0..=inst.size(t) as f64);
        }
        self.model = Some(model);
        Ok(panel)
    }
}
