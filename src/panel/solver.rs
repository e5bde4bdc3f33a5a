//! MIP and LP models on HiGHS (through good_lp): the best quota-feasible
//! panel for given weights (pricing), the leximin master LP, and the
//! relaxation that explains infeasible quotas.

use good_lp::{
    constraint, highs, variable, Expression, ProblemVariables, ResolutionError, Solution, SolverModel, Variable,
};

use super::model::Instance;
use super::PanelError;

fn solver_error(e: ResolutionError) -> PanelError {
    PanelError::Solver(e.to_string())
}

/// Integer variables (members per type) with size, quota and household rows.
fn panel_model(inst: &Instance, vars: &mut ProblemVariables) -> (Vec<Variable>, Vec<good_lp::Constraint>) {
    let c: Vec<Variable> =
        (0..inst.types.len()).map(|t| vars.add(variable().integer().min(0).max(inst.size(t) as f64))).collect();
    let mut rows = Vec::new();
    let total: Expression = c.iter().copied().sum();
    rows.push(constraint!(total == (inst.k as f64)));
    for q in &inst.quotas {
        let n: Expression = q.types.iter().map(|&t| c[t]).sum();
        if q.min > 0 {
            rows.push(constraint!(n.clone() >= (q.min as f64)));
        }
        if (q.max as usize) < q.types.iter().map(|&t| inst.types[t].members.len()).sum::<usize>() {
            rows.push(constraint!(n <= (q.max as f64)));
        }
    }
    for h in &inst.households {
        let n: Expression = h.iter().map(|&t| c[t]).sum();
        rows.push(constraint!(n <= 1.0));
    }
    (c, rows)
}

/// The feasible composition (members per type) with the largest total
/// weight, optionally with at least one member of type `force`; `None` when
/// no feasible panel exists.
pub(crate) fn best_panel(
    inst: &Instance,
    weights: &[f64],
    force: Option<usize>,
) -> Result<Option<Vec<u32>>, PanelError> {
    let mut vars = ProblemVariables::new();
    let (c, rows) = panel_model(inst, &mut vars);
    let objective: Expression = c.iter().zip(weights).map(|(&v, &w)| w * v).sum();
    // Pricing must be exact: a panel missed by the default gap (1e-4) would
    // stop the column generation early.
    let mut model =
        vars.maximise(objective).using(highs).set_option("mip_rel_gap", 1e-9).set_option("mip_abs_gap", 1e-10);
    for row in rows {
        model = model.with(row);
    }
    if let Some(t) = force {
        model = model.with(constraint!(c[t] >= 1.0));
    }
    match model.solve() {
        Ok(solution) => Ok(Some(c.iter().map(|&v| solution.value(v).round().max(0.0) as u32).collect())),
        Err(ResolutionError::Infeasible) => Ok(None),
        Err(e) => Err(solver_error(e)),
    }
}

/// One quota that cannot be met together with the others: the smallest
/// total shortfall/excess over all quotas puts `missing` members too few
/// (below `min`) or `excess` too many (above `max`) here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaConflict {
    pub feature: usize,
    pub value: usize,
    pub missing: u32,
    pub excess: u32,
}

/// Minimises the total violation of the quotas (size and households stay
/// hard rules) and returns the quotas that are violated in the best case;
/// empty when the quotas can be met.
pub(crate) fn quota_conflicts(inst: &Instance) -> Result<Vec<QuotaConflict>, PanelError> {
    let mut vars = ProblemVariables::new();
    let c: Vec<Variable> =
        (0..inst.types.len()).map(|t| vars.add(variable().integer().min(0).max(inst.size(t) as f64))).collect();
    let under: Vec<Variable> = inst.quotas.iter().map(|_| vars.add(variable().min(0))).collect();
    let over: Vec<Variable> = inst.quotas.iter().map(|_| vars.add(variable().min(0))).collect();
    let objective: Expression = under.iter().chain(&over).copied().sum();
    let mut model = vars.minimise(objective).using(highs);
    let total: Expression = c.iter().copied().sum();
    model = model.with(constraint!(total == (inst.k as f64)));
    for (i, q) in inst.quotas.iter().enumerate() {
        let n: Expression = q.types.iter().map(|&t| c[t]).sum();
        model = model.with(constraint!(n.clone() + under[i] >= (q.min as f64)));
        model = model.with(constraint!(n - over[i] <= (q.max as f64)));
    }
    for h in &inst.households {
        let n: Expression = h.iter().map(|&t| c[t]).sum();
        model = model.with(constraint!(n <= 1.0));
    }
    let solution = match model.solve() {
        Ok(s) => s,
        Err(ResolutionError::Infeasible) => {
            return Err(PanelError::Input(format!(
                "with at most one member per household there are not enough households for a panel of {}",
                inst.k
            )))
        }
        Err(e) => return Err(solver_error(e)),
    };
    Ok(inst
        .quotas
        .iter()
        .enumerate()
        .filter_map(|(i, q)| {
            let (missing, excess) = (solution.value(under[i]).round() as u32, solution.value(over[i]).round() as u32);
            (missing > 0 || excess > 0).then_some(QuotaConflict { feature: q.feature, value: q.value, missing, excess })
        })
        .collect())
}

/// The dual of the leximin master LP over the portfolio `panels`:
/// minimise `ŷ − Σ_fixed p_t·y_t` subject to `Σ_unfixed y_t = 1`, `y ≥ 0`
/// and `Σ_t y_t·c_{P,t}/n_t ≤ ŷ` for every panel P. Its value is the
/// largest smallest probability of the unfixed types given the fixed ones;
/// returns (value, ŷ, y).
pub(crate) fn master_dual(
    inst: &Instance,
    panels: &[Vec<u32>],
    fixed: &[Option<f64>],
) -> Result<(f64, f64, Vec<f64>), PanelError> {
    let mut vars = ProblemVariables::new();
    let y: Vec<Variable> = (0..inst.types.len()).map(|_| vars.add(variable().min(0))).collect();
    let y_hat = vars.add(variable());
    let objective: Expression =
        Expression::from(y_hat) - fixed.iter().zip(&y).filter_map(|(f, &v)| f.map(|f| f * v)).sum::<Expression>();
    let mut model = vars.minimise(objective).using(highs);
    let unfixed: Expression = fixed.iter().zip(&y).filter(|(f, _)| f.is_none()).map(|(_, &v)| v).sum();
    model = model.with(constraint!(unfixed == 1.0));
    for panel in panels {
        let load: Expression = panel
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(t, &c)| (c as f64 / inst.size(t) as f64) * y[t])
            .sum();
        model = model.with(constraint!(load <= y_hat));
    }
    let solution = model.solve().map_err(solver_error)?;
    let y: Vec<f64> = y.iter().map(|&v| solution.value(v).max(0.0)).collect();
    let y_hat = solution.value(y_hat);
    let value = y_hat - fixed.iter().zip(&y).filter_map(|(f, v)| f.map(|f| f * v)).sum::<f64>();
    Ok((value, y_hat, y))
}

/// Probabilities for the panels of the portfolio such that every type gets
/// at least its target probability (minus `slack`); maximises the smallest
/// margin so numerical noise is spread evenly.
pub(crate) fn master_primal(
    inst: &Instance,
    panels: &[Vec<u32>],
    target: &[f64],
    slack: f64,
) -> Result<Vec<f64>, PanelError> {
    let mut vars = ProblemVariables::new();
    let lambda: Vec<Variable> = panels.iter().map(|_| vars.add(variable().min(0))).collect();
    let margin = vars.add(variable().min(-slack).max(0.0));
    let mut model = vars.maximise(margin).using(highs);
    let total: Expression = lambda.iter().copied().sum();
    model = model.with(constraint!(total == 1.0));
    let mut columns: Vec<Expression> = vec![Expression::default(); inst.types.len()];
    for (p, panel) in panels.iter().enumerate() {
        for (t, &c) in panel.iter().enumerate() {
            if c > 0 {
                columns[t] += (c as f64 / inst.size(t) as f64) * lambda[p];
            }
        }
    }
    for (t, column) in columns.into_iter().enumerate() {
        model = model.with(constraint!(column - margin >= target[t]));
    }
    let solution = model.solve().map_err(solver_error)?;
    Ok(lambda.iter().map(|&v| solution.value(v).max(0.0)).collect())
}
