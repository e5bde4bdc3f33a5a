//! LEXIMIN selection probabilities by column generation (Flanigan, Gölz,
//! Gupta, Hennig, Procaccia, *Fair algorithms for selecting citizens'
//! assemblies*, Nature 2021), on agent types instead of single agents.
//!
//! A portfolio of feasible panels grows; the master LP finds the largest
//! smallest probability of the types not yet fixed; pricing asks the MIP for
//! the panel with the largest dual weight (at smoothed duals first, see
//! [`SMOOTHING`]), and a swap search adds cheap improving panels; when no
//! panel improves on the LP by more than [`DUAL_TOLERANCE`], the types with a
//! positive dual value are fixed at that probability and the next level
//! starts. The distribution over the final portfolio gives every type at
//! least its leximin probability.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::model::Instance;
use super::solver::master_primal;
use super::swap::SwapSearch;
use super::warm::{MasterPrimal, Pricing};
use super::PanelError;

/// Pricing must beat the master LP by more than this to add a panel; types
/// with a dual value above it are fixed.
pub const DUAL_TOLERANCE: f64 = 1e-6;
/// The initial portfolio's random weights come from this fixed seed, so the
/// distribution depends only on the input files, never on the draw's seed.
const PORTFOLIO_SEED: u64 = 0x006c_6578_696d_696e;

/// A distribution over compositions (members per type) and each type's
/// per-member selection probability.
#[derive(Debug, Clone)]
pub(crate) struct TypeDistribution {
    /// Compositions with their probabilities, most likely first.
    pub panels: Vec<(Vec<u32>, f64)>,
    pub type_probability: Vec<f64>,
    pub stats: SolveStats,
}

/// Work done by the solver, for the protocol.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SolveStats {
    /// Feasible panels generated (the portfolio).
    pub columns: usize,
    /// Leximin levels (each fixes at least one type's probability).
    pub levels: usize,
    /// Master LP solves, each followed by pricing (one MIP and the swap
    /// search).
    pub pricing_rounds: usize,
    /// Pricing MIPs solved at smoothed duals (see [`SMOOTHING`]).
    #[serde(default)]
    pub smoothed_rounds: usize,
}

/// Portfolio panels the swap search starts from in each round (those with
/// the largest weight). More starts add more columns per round: fewer
/// rounds, but a larger master LP (8 → 16 → 32 on the 300 → 30 benchmark:
/// 126 → 92 → 77 rounds, CPU time 4.7 → 3.9 → 4.8 s).
const SWAP_STARTS: usize = 16;
/// Swap panels added per round: the best by weight (reduced cost). All of
/// them (up to 16) bloated the master LP at 1,000 → 60 (> 10 min); 4 keep
/// it small (29.7 s CPU against 43.7 s with the MIP alone, same load).
const SWAP_COLUMNS: usize = 4;
/// Swaps per start: a panel of k members never needs more than k, so this
/// only guards against pathological float behaviour.
const SWAP_LIMIT_PER_MEMBER: usize = 2;

/// LEXIMIN over all feasible panels by column generation. The instance must
/// have at least one feasible panel.
pub(crate) fn leximin(inst: &Instance) -> Result<TypeDistribution, PanelError> {
    let types = inst.types.len();
    let mut rng = ChaCha8Rng::seed_from_u64(PORTFOLIO_SEED);
    let mut panels: Vec<Vec<u32>> = Vec::new();
    let mut seen: HashSet<Vec<u32>> = HashSet::new();
    let mut fixed: Vec<Option<f64>> = vec![None; types];
    let mut pricing = Pricing::new(inst);
    // Initial portfolio: a panel for every type that can be on one, with
    // random weights for diversity; types that can never be selected get 0.
    let mut covered = vec![false; types];
    for t in 0..types {
        if covered[t] {
            continue;
        }
        let weights: Vec<f64> = (0..types).map(|u| rng.gen::<f64>() + if covered[u] { 0.0 } else { 1.0 }).collect();
        match pricing.best(inst, &weights, Some(t))? {
            None => fixed[t] = Some(0.0),
            Some(panel) => {
                for (u, &c) in panel.iter().enumerate() {
                    covered[u] |= c > 0;
                }
                if seen.insert(panel.clone()) {
                    panels.push(panel);
                }
            }
        }
    }
    if panels.is_empty() {
        return Err(PanelError::Solver("no feasible panel was found although the quotas can be met".into()));
    }
    let stats = solve_levels(inst, &mut panels, &mut seen, &mut fixed, Some(&mut pricing))?;
    finish(inst, panels, &fixed, stats)
}

/// The leximin LP sequence on a fixed set of panels (no pricing): the exact
/// optimum when `panels` holds every feasible panel. Used to check the
/// column generation, and for tiny pools.
pub(crate) fn leximin_over(inst: &Instance, mut panels: Vec<Vec<u32>>) -> Result<TypeDistribution, PanelError> {
    let mut seen: HashSet<Vec<u32>> = panels.iter().cloned().collect();
    let mut fixed: Vec<Option<f64>> =
        (0..inst.types.len()).map(|t| (!panels.iter().any(|p| p[t] > 0)).then_some(0.0)).collect();
    let stats = solve_levels(inst, &mut panels, &mut seen, &mut fixed, None)?;
    finish(inst, panels, &fixed, stats)
}

fn solve_levels(
    inst: &Instance,
    panels: &mut Vec<Vec<u32>>,
    seen: &mut HashSet<Vec<u32>>,
    fixed: &mut [Option<f64>],
    mut pricing: Option<&mut Pricing>,
) -> Result<SolveStats, PanelError> {
    let mut stats = SolveStats::default();
    let mut master = MasterPrimal::new(inst, fixed);
    for panel in panels.iter() {
        master.add_panel(panel);
    }
    let swaps = SwapSearch::new(inst);
    let mut time = StageTimes::default();
    while fixed.iter().any(Option::is_none) {
        stats.levels += 1;
        let rounds_before = stats.pricing_rounds;
        // Stability centre of this level (the duals with the best bound).
        let mut center: Option<Center> = None;
        loop {
            stats.pricing_rounds += 1;
            let started = Instant::now();
            let (value, y_hat, y) = master.solve()?;
            time.master += started.elapsed();
            let weights = per_member(inst, &y);
            if let Some(pricing) = pricing.as_deref_mut() {
                // The MIP's best panel, and with it the improving panels
                // that swaps find from the heaviest panels of the portfolio:
                // many columns per MIP cut the rounds (and MIPs) severalfold.
                // Only the MIP decides convergence, so the result is exact.
                let threshold = y_hat + DUAL_TOLERANCE;
                let started = Instant::now();
                let mut new = swap_columns(inst, &swaps, panels, seen, &weights, threshold);
                time.swap += started.elapsed();
                let started = Instant::now();
                let mut found = None;
                let mixed: Option<Vec<f64>> = center
                    .as_ref()
                    .map(|c| c.y.iter().zip(&y).map(|(c, y)| SMOOTHING * c + (1.0 - SMOOTHING) * y).collect());
                if let Some(mixed) = mixed {
                    let mixed_weights = per_member(inst, &mixed);
                    if let Some(panel) = pricing.best(inst, &mixed_weights, None)? {
                        let bound = upper_bound(fixed, &panel, &mixed_weights, &mixed);
                        if score(&panel, &weights) > threshold && !seen.contains(&panel) {
                            found = Some(panel);
                        }
                        stats.smoothed_rounds += 1;
                        offer_center(&mut center, mixed, bound);
                    }
                }
                if found.is_none() {
                    // No smoothing yet, or it mis-priced: the exact pricing
                    // at the master's duals, which alone may end the level.
                    if let Some(best) = pricing.best(inst, &weights, None)? {
                        let bound = upper_bound(fixed, &best, &weights, &y);
                        if score(&best, &weights) > threshold && !seen.contains(&best) {
                            found = Some(best);
                        }
                        offer_center(&mut center, y.clone(), bound);
                    }
                }
                if let Some(panel) = found {
                    seen.insert(panel.clone());
                    new.insert(0, panel);
                }
                time.pricing += started.elapsed();

                tracing::trace!(
                    round = stats.pricing_rounds,
                    value,
                    y_hat,
                    new = new.len(),
                    columns = panels.len(),
                    master_ms = time.master.as_millis() as u64,
                    pricing_ms = time.pricing.as_millis() as u64,
                    "leximin pricing round"
                );
                if !new.is_empty() {
                    for panel in new {
                        master.add_panel(&panel);
                        panels.push(panel);
                    }
                    continue;
                }
            }
            // Converged: the types with a positive dual value cannot do
            // better than `value` in any optimal distribution.
            let level = (value - 1e-10).clamp(0.0, 1.0);
            let mut any = false;
            for t in 0..fixed.len() {
                if fixed[t].is_none() && y[t] > DUAL_TOLERANCE {
                    fixed[t] = Some(level);
                    master.fix(t, level);
                    any = true;
                }
            }
            if !any {
                // Numerically flat duals: fix the type with the largest one.
                let t = (0..fixed.len())
                    .filter(|&t| fixed[t].is_none())
                    .max_by(|&a, &b| y[a].total_cmp(&y[b]))
                    .expect("an unfixed type is left");
                fixed[t] = Some(level);
                master.fix(t, level);
            }
            tracing::debug!(
                level = stats.levels,
                value = level,
                rounds = stats.pricing_rounds - rounds_before,
                columns = panels.len(),
                unfixed = fixed.iter().filter(|f| f.is_none()).count(),
                master_ms = time.master.as_millis() as u64,
                pricing_ms = time.pricing.as_millis() as u64,
                swap_ms = time.swap.as_millis() as u64,
                "leximin level fixed"
            );
            break;
        }
    }
    stats.columns = panels.len();
    Ok(stats)
}

/// Weight of the stability centre in the smoothed duals (Wentges): column
/// generation's duals oscillate wildly between rounds, and pricing at a mix
/// of the current duals and the best ones so far finds columns that move the
/// master further per round. At 2,000 → 150 it is the difference between
/// 92 s CPU and over 12 min (stopped); at 1,000 → 60 (few rounds per level)
/// 0, 0.5 and 0.8 cost about the same (22–24 s CPU).
const SMOOTHING: f64 = 0.5;

/// Duals `y` (per type) with the smallest upper bound on the level's value
/// seen so far in this level.
struct Center {
    y: Vec<f64>,
    bound: f64,
}

fn offer_center(center: &mut Option<Center>, y: Vec<f64>, bound: f64) {
    if center.as_ref().is_none_or(|c| bound < c.bound) {
        *center = Some(Center { y, bound });
    }
}

/// Pricing weights per member from duals per type.
fn per_member(inst: &Instance, y: &[f64]) -> Vec<f64> {
    y.iter().enumerate().map(|(t, &y)| y / inst.size(t) as f64).collect()
}

/// Lagrangian bound of duals `y` (any with `Σ_unfixed y = 1`, `y ≥ 0`):
/// the best panel's weight minus what the fixed types are owed. No
/// distribution over all panels gives the unfixed types more than this.
/// `weights` are `y` per member (see [`per_member`]).
fn upper_bound(fixed: &[Option<f64>], best: &[u32], weights: &[f64], y: &[f64]) -> f64 {
    let owed: f64 = fixed.iter().zip(y).filter_map(|(f, y)| f.map(|p| p * y)).sum();
    score(best, weights) - owed
}

/// Time spent per stage since the start, for the debug log.
#[derive(Default)]
struct StageTimes {
    master: Duration,
    pricing: Duration,
    swap: Duration,
}

fn score(panel: &[u32], weights: &[f64]) -> f64 {
    panel.iter().zip(weights).map(|(&c, w)| f64::from(c) * w).sum()
}

/// New panels with a weight above `threshold`, found by swap search from the
/// [`SWAP_STARTS`] heaviest panels of the portfolio, at most [`SWAP_COLUMNS`]
/// of them, heaviest first (deterministic: ties go to the earlier panel).
fn swap_columns(
    inst: &Instance,
    swaps: &SwapSearch,
    panels: &[Vec<u32>],
    seen: &mut HashSet<Vec<u32>>,
    weights: &[f64],
    threshold: f64,
) -> Vec<Vec<u32>> {
    let mut ranked: Vec<(f64, usize)> = panels.iter().enumerate().map(|(i, p)| (score(p, weights), i)).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut found: Vec<(f64, Vec<u32>)> = Vec::new();
    for &(_, i) in ranked.iter().take(SWAP_STARTS) {
        let mut panel = panels[i].clone();
        swaps.improve(&mut panel, weights, SWAP_LIMIT_PER_MEMBER * inst.k as usize);
        let s = score(&panel, weights);
        if s > threshold && !found.iter().any(|(_, p)| *p == panel) && !seen.contains(&panel) {
            found.push((s, panel));
        }
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    found.truncate(SWAP_COLUMNS);
    for (_, p) in &found {
        seen.insert(p.clone());
    }
    found.into_iter().map(|(_, p)| p).collect()
}

fn finish(
    inst: &Instance,
    panels: Vec<Vec<u32>>,
    fixed: &[Option<f64>],
    stats: SolveStats,
) -> Result<TypeDistribution, PanelError> {
    let target: Vec<f64> = fixed.iter().map(|f| f.unwrap_or(0.0)).collect();
    let lambda = master_primal(inst, &panels, &target, 1e-7)?;
    let mut support: Vec<(Vec<u32>, f64)> = panels.into_iter().zip(lambda).filter(|(_, l)| *l > 1e-9).collect();
    let total: f64 = support.iter().map(|(_, l)| l).sum();
    for (_, l) in &mut support {
        *l /= total;
    }
    support.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut type_probability = vec![0.0; inst.types.len()];
    for (panel, l) in &support {
        for (t, &c) in panel.iter().enumerate() {
            type_probability[t] += l * c as f64 / inst.size(t) as f64;
        }
    }
    Ok(TypeDistribution { panels: support, type_probability, stats })
}

/// How many compositions (members per type, any quotas) a panel could have,
/// up to `cap`: tells whether enumerating them is cheap.
pub(crate) fn compositions(inst: &Instance, cap: u64) -> u64 {
    let k = inst.k as usize;
    let mut ways = vec![0u64; k + 1];
    ways[0] = 1;
    for t in 0..inst.types.len() {
        let n = inst.size(t) as usize;
        let mut next = vec![0u64; k + 1];
        for (s, &w) in ways.iter().enumerate() {
            if w > 0 {
                for c in 0..=n.min(k - s) {
                    next[s + c] = next[s + c].saturating_add(w).min(cap);
                }
            }
        }
        ways = next;
    }
    ways[k]
}

/// Every feasible composition, or `None` when there are more than `limit`.
pub(crate) fn enumerate_panels(inst: &Instance, limit: usize) -> Option<Vec<Vec<u32>>> {
    fn go(inst: &Instance, t: usize, left: u32, current: &mut Vec<u32>, out: &mut Vec<Vec<u32>>, limit: usize) -> bool {
        if t == inst.types.len() {
            if left == 0 && inst.is_feasible(current) {
                out.push(current.clone());
            }
            return out.len() <= limit;
        }
        for c in 0..=left.min(inst.size(t)) {
            current.push(c);
            let ok = go(inst, t + 1, left - c, current, out, limit);
            current.pop();
            if !ok {
                return false;
            }
        }
        true
    }
    let mut out = Vec::new();
    go(inst, 0, inst.k, &mut Vec::new(), &mut out, limit).then_some(out)
}
