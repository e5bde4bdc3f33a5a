//! The two models of the column generation kept alive between rounds, on the
//! HiGHS binding directly: the master LP (dual form) gets one row per new
//! panel and is re-solved from its last basis; the pricing MIP only gets new
//! objective weights.

use highs::{Col, HighsModelStatus, Model, RowProblem, Sense};

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

/// The dual of the leximin master LP over the portfolio: minimise
/// `ŷ − Σ_fixed p_t·y_t` subject to `Σ_unfixed y_t = 1`, `y ≥ 0` and
/// `Σ_t y_t·c_{P,t}/n_t ≤ ŷ` for every panel P. Its value is the largest
/// smallest probability of the unfixed types given the fixed ones. Each
/// type's dual `y_t` split in two columns: `u_t` while the type is unfixed
/// (counted in `Σ u = 1`) and `v_t` once it is fixed (cost `−p_t`); the
/// other column is held at 0. Fixing a type only changes bounds and a cost.
pub(crate) struct MasterDual {
    model: Option<Model>,
    u: Vec<Col>,
    v: Vec<Col>,
    y_hat: Col,
    sizes: Vec<f64>,
    /// What the model holds, to build it afresh (see [`MasterDual::solve`]).
    panels: Vec<Vec<u32>>,
    fixed: Vec<Option<f64>>,
}

/// Simplex iterations a warm re-solve of the master may take (on top of a
/// per-row allowance) before the model is built afresh: on degenerate
/// masters HiGHS's primal clean-up after the dual simplex can stall for
/// minutes where a cold solve takes a fraction of a second.
/// A low limit matters: with swap columns a stalled warm re-solve cost 15–25 s
/// per stall at 1,000 → 60 under 20,000 + 20 per row, a cold solve about 1 s.
const WARM_ITERATIONS: usize = 2_000;
/// Extra warm iterations allowed per panel row.
const WARM_ITERATIONS_PER_ROW: usize = 2;

impl MasterDual {
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
        let mut p = RowProblem::default();
        let u: Vec<Col> = (0..types).map(|_| p.add_column(0.0, 0.0..)).collect();
        let v: Vec<Col> = (0..types).map(|_| p.add_column(0.0, 0.0..=0.0)).collect();
        let y_hat = p.add_column::<f64, _>(1.0, ..);
        p.add_row(1.0..=1.0, u.iter().map(|&c| (c, 1.0)));
        let mut model = p.optimise(Sense::Minimise);
        quiet_single_thread(&mut model);
        MasterDual { model: Some(model), u, v, y_hat, sizes, panels: Vec::new(), fixed: vec![None; types] }
    }

    /// The same master as a new model, without the old basis.
    fn rebuild(&mut self) {
        let mut fresh = Self::empty(self.sizes.clone());
        for panel in &self.panels {
            fresh.add_panel(panel);
        }
        for (t, f) in self.fixed.iter().enumerate() {
            if let Some(f) = f {
                fresh.fix(t, *f);
            }
        }
        *self = fresh;
    }

    fn model(&mut self) -> &mut Model {
        self.model.as_mut().expect("the model is put back after every solve")
    }

    /// `Σ_t (c_t / n_t)(u_t + v_t) − ŷ ≤ 0` for a new panel.
    pub fn add_panel(&mut self, panel: &[u32]) {
        let mut factors = Vec::new();
        for (t, &c) in panel.iter().enumerate() {
            if c > 0 {
                let w = f64::from(c) / self.sizes[t];
                factors.push((self.u[t], w));
                factors.push((self.v[t], w));
            }
        }
        factors.push((self.y_hat, -1.0));
        self.model().add_row(..=0.0, factors);
        self.panels.push(panel.to_vec());
    }

    pub fn fix(&mut self, t: usize, probability: f64) {
        self.fixed[t] = Some(probability);
        let (u, v) = (self.u[t], self.v[t]);
        let model = self.model();
        model.change_column_bounds(u, 0.0..=0.0);
        model.change_column_bounds(v, 0.0..);
        model.change_column_cost(v, -probability);
    }

    /// (value, ŷ, y): the best smallest probability of the unfixed types.
    /// Warm from the last basis; if that stalls, once more from scratch.
    pub fn solve(&mut self) -> Result<(f64, f64, Vec<f64>), PanelError> {
        let limit = (WARM_ITERATIONS + WARM_ITERATIONS_PER_ROW * self.panels.len()) as i32;
        self.model().set_option("simplex_iteration_limit", limit);
        if let Some(result) = self.try_solve()? {
            return Ok(result);
        }
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
        let solution = solved.get_solution();
        let columns = solution.columns();
        let y = (0..self.u.len()).map(|t| (columns[self.u[t].index()] + columns[self.v[t].index()]).max(0.0)).collect();
        let y_hat = columns[self.y_hat.index()];
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
