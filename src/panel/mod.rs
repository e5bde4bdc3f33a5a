//! G1000-style panel selection (DESIGN.md §6): choose a panel of size *k*
//! from the volunteers that meets the quotas, with the LEXIMIN selection
//! probabilities of Flanigan et al. (Nature 2021) — the smallest chance any
//! volunteer has is as large as possible, then the next smallest, and so on
//! — and draw the panel from that distribution with a published seed.
//! `docs/panel.md` explains the method, the files and how to verify a draw.
//!
//! Volunteers with the same value for every feature are one *type*: they
//! always get exactly the same probability.

mod infeasible;
mod input;
mod job;
pub mod jobs;
mod legacy;
mod leximin;
mod model;
mod protocol;
mod public;
mod solver;
pub mod store;
mod swap;
#[cfg(test)]
mod tests;
mod volunteers;
mod warm;

use std::fmt;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

pub use infeasible::{InfeasibleQuotas, QuotaMiss};
pub use input::{Feature, Features, Person, Pool, Quota};
pub use job::{run as run_job, Outcome, Request, Task};
pub use leximin::{SolveStats, DUAL_TOLERANCE};
pub use protocol::{sha256_hex, Protocol, ProtocolPanel, SelectionFiles, ALGORITHM_VERSION};
pub use public::{new_pseudonym_key, pseudonym, PublicProbability, PublicSelection};
pub use solver::QuotaConflict;
pub use volunteers::{volunteer_columns, volunteers_csv};

use model::Instance;

/// Everything that can go wrong, worded for the clerk who runs the selection.
#[derive(Debug, thiserror::Error)]
pub enum PanelError {
    #[error("{file}, line {line}{}: {message}", field_label(.field))]
    Csv { file: String, line: usize, field: String, message: String },
    #[error("{0}")]
    Infeasible(InfeasibleQuotas),
    #[error("{0}")]
    Input(String),
    #[error("the LP/MIP solver (HiGHS) failed: {0}")]
    Solver(String),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

fn field_label(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!(", field '{field}'")
    }
}

impl PanelError {
    pub(crate) fn csv(file: &str, line: usize, field: &str, message: impl Into<String>) -> Self {
        PanelError::Csv { file: file.to_owned(), line, field: field.to_owned(), message: message.into() }
    }
}

/// The text a draw is seeded with (published before the draw). The random
/// generator is ChaCha20 keyed with the SHA-256 of the UTF-8 text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Seed(String);

impl Seed {
    pub fn parse(raw: &str) -> Result<Self, PanelError> {
        if raw.trim().is_empty() {
            return Err(PanelError::Input("the seed must not be empty".into()));
        }
        Ok(Seed(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// ChaCha20 keyed with SHA-256(seed text).
    pub fn rng(&self) -> ChaCha20Rng {
        ChaCha20Rng::from_seed(Sha256::digest(self.0.as_bytes()).into())
    }
}

/// Which algorithm chooses the probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// Maximise the smallest probability, then the next (exact, via LP/MIP).
    Leximin,
    /// The Sortition Foundation's greedy algorithm; probabilities estimated.
    Legacy,
}

impl std::str::FromStr for Algorithm {
    type Err = PanelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "leximin" => Ok(Algorithm::Leximin),
            "legacy" => Ok(Algorithm::Legacy),
            other => Err(PanelError::Input(format!("unknown algorithm '{other}' (use leximin or legacy)"))),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Algorithm::Leximin => "leximin",
            Algorithm::Legacy => "legacy",
        })
    }
}

/// How a selection is run.
#[derive(Debug, Clone)]
pub struct SelectOptions {
    pub size: u32,
    pub seed: Seed,
    pub algorithm: Algorithm,
    /// At most one member per household (households from [`Person::household`]).
    pub one_per_household: bool,
}

/// Pools with at most this many possible panels are solved exactly over all
/// of them instead of by column generation.
pub const TINY_POOL_PANELS: u64 = 20_000;

/// Runs of the legacy algorithm used to estimate its probabilities.
pub const LEGACY_ESTIMATE_RUNS: usize = 2000;

/// One panel of the distribution: how many members it takes from each group
/// of identical volunteers (indices into [`Selection::groups`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PanelShare {
    pub probability: f64,
    pub composition: Vec<(usize, u32)>,
}

/// The outcome of a selection.
#[derive(Debug, Clone)]
pub struct Selection {
    pub algorithm: Algorithm,
    /// Groups of interchangeable volunteers (indices into the pool).
    pub groups: Vec<Vec<usize>>,
    /// The distribution over panels (empty for the legacy algorithm).
    pub distribution: Vec<PanelShare>,
    /// Every volunteer's selection probability (0 for those not eligible);
    /// estimated from [`LEGACY_ESTIMATE_RUNS`] runs for the legacy algorithm.
    pub probabilities: Vec<f64>,
    /// Which people can be chosen (all, except in a replacement).
    pub eligible: Vec<usize>,
    /// The drawn panel (indices into the pool, in file order).
    pub panel: Vec<usize>,
    /// Per group with members on the drawn panel: its other members in a
    /// drawn order (see [`reserves`]). Swapping a member for a reserve of
    /// their own group keeps every quota and the household rule.
    pub reserves: Vec<(usize, Vec<usize>)>,
    pub stats: SolveStats,
}

impl Selection {
    /// The smallest probability among the eligible volunteers.
    pub fn min_probability(&self) -> f64 {
        self.eligible.iter().map(|&i| self.probabilities[i]).fold(f64::INFINITY, f64::min)
    }
}

/// Selects a panel from the whole pool.
pub fn select(features: &Features, pool: &Pool, options: &SelectOptions) -> Result<Selection, PanelError> {
    let everyone: Vec<usize> = (0..pool.people.len()).collect();
    let inst = Instance::build(features, pool, &everyone, options.size, options.one_per_household, None);
    run(features, pool, inst, everyone, options)
}

/// Chooses replacements for the `dropped` members of `panel` (ids) from the
/// volunteers who were not selected, so that the remaining members plus the
/// replacements meet the quotas; the replacements are chosen by the same
/// algorithm, restricted to panels that keep every remaining member. With
/// the household rule, nobody from a remaining member's household is eligible.
pub fn replace(
    features: &Features,
    pool: &Pool,
    panel: &[String],
    dropped: &[String],
    options: &SelectOptions,
) -> Result<Selection, PanelError> {
    let index = |id: &String| {
        pool.people
            .iter()
            .position(|p| &p.id == id)
            .ok_or_else(|| PanelError::Input(format!("panel member {id} is not in the people file")))
    };
    let on_panel: Vec<usize> = panel.iter().map(index).collect::<Result<_, _>>()?;
    for d in dropped {
        if !panel.contains(d) {
            return Err(PanelError::Input(format!("{d} is not a member of the panel, so cannot drop out")));
        }
    }
    let remaining: Vec<usize> = on_panel.iter().copied().filter(|&i| !dropped.contains(&pool.people[i].id)).collect();
    let mut already: Vec<Vec<u32>> = features.features.iter().map(|f| vec![0; f.values.len()]).collect();
    for &i in &remaining {
        for (f, &v) in pool.people[i].values.iter().enumerate() {
            already[f][v] += 1;
        }
    }
    let mut over = Vec::new();
    for (f, feature) in features.features.iter().enumerate() {
        for (v, q) in feature.values.iter().enumerate() {
            if already[f][v] > q.max {
                over.push(QuotaMiss::AlreadyOver {
                    feature: feature.name.clone(),
                    value: q.value.clone(),
                    max: q.max,
                    have: already[f][v],
                });
            }
        }
    }
    if !over.is_empty() {
        return Err(PanelError::Infeasible(InfeasibleQuotas {
            size: panel.len() as u32,
            conflicts: over,
            remaining: None,
        }));
    }
    let taken_households: Vec<&str> = if options.one_per_household {
        remaining.iter().filter_map(|&i| pool.people[i].household.as_deref()).collect()
    } else {
        Vec::new()
    };
    let eligible: Vec<usize> = (0..pool.people.len())
        .filter(|i| !on_panel.contains(i))
        .filter(|&i| pool.people[i].household.as_deref().is_none_or(|h| !taken_households.contains(&h)))
        .collect();
    let size = dropped.len() as u32;
    let inst = Instance::build(features, pool, &eligible, size, options.one_per_household, Some(&already));
    let mut selection =
        run(features, pool, inst, eligible, &SelectOptions { size, ..options.clone() }).map_err(|e| match e {
            PanelError::Infeasible(mut i) => {
                i.remaining = Some(remaining.len() as u32);
                PanelError::Infeasible(i)
            }
            other => other,
        })?;
    selection.panel.extend(remaining);
    selection.panel.sort_unstable();
    Ok(selection)
}

fn run(
    features: &Features,
    pool: &Pool,
    inst: Instance,
    eligible: Vec<usize>,
    options: &SelectOptions,
) -> Result<Selection, PanelError> {
    if inst.k == 0 {
        return Err(PanelError::Input("the panel size must be at least 1".into()));
    }
    if (eligible.len() as u64) < u64::from(inst.k) {
        return Err(PanelError::Input(format!(
            "a panel of {} needs at least {} volunteers, but only {} can be chosen",
            inst.k,
            inst.k,
            eligible.len()
        )));
    }
    let conflicts = solver::quota_conflicts(&inst)?;
    if !conflicts.is_empty() {
        return Err(PanelError::Infeasible(explain(features, pool, &inst, &eligible, &conflicts)));
    }
    let groups: Vec<Vec<usize>> = inst.types.iter().map(|t| t.members.clone()).collect();
    let mut probabilities = vec![0.0; pool.people.len()];
    let mut rng = options.seed.rng();
    match options.algorithm {
        Algorithm::Leximin => {
            // Tiny pools: the exact leximin over every feasible panel.
            let all = (leximin::compositions(&inst, TINY_POOL_PANELS + 1) <= TINY_POOL_PANELS)
                .then(|| leximin::enumerate_panels(&inst, TINY_POOL_PANELS as usize))
                .flatten();
            let dist = match all {
                Some(all) => leximin::leximin_over(&inst, all)?,
                None => leximin::leximin(&inst)?,
            };
            for (t, members) in groups.iter().enumerate() {
                for &i in members {
                    probabilities[i] = dist.type_probability[t];
                }
            }
            let distribution: Vec<PanelShare> = dist
                .panels
                .iter()
                .map(|(c, p)| PanelShare {
                    probability: *p,
                    composition: c.iter().enumerate().filter(|(_, &n)| n > 0).map(|(t, &n)| (t, n)).collect(),
                })
                .collect();
            let panel = draw(&distribution, &groups, &mut rng);
            let reserves = reserves(&panel, &groups, &mut rng);
            Ok(Selection {
                algorithm: Algorithm::Leximin,
                groups,
                distribution,
                probabilities,
                eligible,
                panel,
                reserves,
                stats: dist.stats,
            })
        }
        Algorithm::Legacy => {
            let mut estimate = ChaCha20Rng::from_seed(Sha256::digest(b"buurtpeil legacy estimate").into());
            let mut counts = vec![0usize; pool.people.len()];
            let mut runs = 0usize;
            for _ in 0..LEGACY_ESTIMATE_RUNS {
                if let Some(panel) = legacy::legacy(&inst, &mut estimate, 100) {
                    runs += 1;
                    for i in panel {
                        counts[i] += 1;
                    }
                }
            }
            let mut panel = legacy::legacy(&inst, &mut rng, 1000).ok_or_else(|| {
                PanelError::Input(
                    "the legacy algorithm found no panel in 1000 attempts although one exists; use --algorithm leximin"
                        .into(),
                )
            })?;
            panel.sort_unstable();
            let reserves = reserves(&panel, &groups, &mut rng);
            for (p, c) in probabilities.iter_mut().zip(counts) {
                *p = c as f64 / runs.max(1) as f64;
            }
            Ok(Selection {
                algorithm: Algorithm::Legacy,
                groups,
                distribution: Vec::new(),
                probabilities,
                eligible,
                panel,
                reserves,
                stats: SolveStats::default(),
            })
        }
    }
}

/// The published draw: one number `u = rng.gen::<f64>()` picks the panel
/// whose cumulative probability (in the listed order) first exceeds it; then,
/// group by group in order, a Fisher–Yates shuffle of the group's members (in
/// file order; `j = rng.gen_range(0..=i)` for i from the last index down to 1)
/// and the first `count` of them.
pub fn draw(distribution: &[PanelShare], groups: &[Vec<usize>], rng: &mut ChaCha20Rng) -> Vec<usize> {
    let u: f64 = rng.gen();
    let mut cumulative = 0.0;
    let mut chosen = distribution.last().expect("a distribution has at least one panel");
    for share in distribution {
        cumulative += share.probability;
        if u < cumulative {
            chosen = share;
            break;
        }
    }
    let mut panel = Vec::new();
    for &(t, count) in &chosen.composition {
        let mut members = groups[t].clone();
        for i in (1..members.len()).rev() {
            let j = rng.gen_range(0..=i);
            members.swap(i, j);
        }
        panel.extend_from_slice(&members[..count as usize]);
    }
    panel.sort_unstable();
    panel
}

/// The reserve lists, drawn after the panel with the same generator: group
/// by group in order, for each group with members on the panel, its members
/// who are not (in file order) shuffled by the same Fisher–Yates as
/// [`draw`]. Every member of a group has the same chance to be its first
/// reserve, and a reserve has the same features as the member they replace,
/// so the panel's make-up, and with it every quota, stays the same. (With
/// the household rule people who share a household form groups of one, so
/// they have no reserves: `panel replace` chooses for them.)
pub fn reserves(panel: &[usize], groups: &[Vec<usize>], rng: &mut ChaCha20Rng) -> Vec<(usize, Vec<usize>)> {
    let mut out = Vec::new();
    for (g, members) in groups.iter().enumerate() {
        if !members.iter().any(|i| panel.contains(i)) {
            continue;
        }
        let mut rest: Vec<usize> = members.iter().copied().filter(|i| !panel.contains(i)).collect();
        for i in (1..rest.len()).rev() {
            let j = rng.gen_range(0..=i);
            rest.swap(i, j);
        }
        if !rest.is_empty() {
            out.push((g, rest));
        }
    }
    out
}

fn explain(
    features: &Features,
    pool: &Pool,
    inst: &Instance,
    eligible: &[usize],
    conflicts: &[QuotaConflict],
) -> InfeasibleQuotas {
    let lines = conflicts
        .iter()
        .map(|c| {
            let feature = &features.features[c.feature];
            let row = inst.quotas.iter().find(|q| q.feature == c.feature && q.value == c.value).expect("quota row");
            let q = &feature.values[c.value];
            let available = eligible.iter().filter(|&&i| pool.people[i].values[c.feature] == c.value).count();
            let (feature, value) = (feature.name.clone(), q.value.clone());
            if c.missing > 0 {
                QuotaMiss::Short { feature, value, min: row.min, short: c.missing, volunteers: available as u32 }
            } else {
                QuotaMiss::Over { feature, value, max: row.max, over: c.excess }
            }
        })
        .collect();
    InfeasibleQuotas { size: inst.k, conflicts: lines, remaining: None }
}
