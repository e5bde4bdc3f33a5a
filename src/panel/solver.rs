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
    let mut model = vars.minimise(objective).using(highs).set_option("threads", 1);
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
    let mut model = vars.maximise(margin).using(highs).set_option("threads", 1);
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
