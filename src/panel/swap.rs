//! Cheap pricing for the column generation: from a feasible composition,
//! swap one member of one type for one member of another while that raises
//! the panel's weight and keeps the quotas and households. It finds
//! improving panels in microseconds where the pricing MIP takes tens of
//! milliseconds; when it finds none the MIP still decides, so the result
//! stays exact (only the MIP can prove that no panel improves).

use super::model::Instance;

/// A swap must gain more than this: guards against cycling on ties.
const MIN_GAIN: f64 = 1e-12;

/// The quota and household structure of an instance, indexed by type.
pub(crate) struct SwapSearch {
    /// The quota rows each type counts in.
    rows: Vec<Vec<usize>>,
    min: Vec<u32>,
    max: Vec<u32>,
    household: Vec<Option<usize>>,
    households: usize,
    sizes: Vec<u32>,
}

impl SwapSearch {
    pub fn new(inst: &Instance) -> Self {
        let types = inst.types.len();
        let mut rows = vec![Vec::new(); types];
        for (r, q) in inst.quotas.iter().enumerate() {
            for &t in &q.types {
                rows[t].push(r);
            }
        }
        let mut household = vec![None; types];
        for (h, members) in inst.households.iter().enumerate() {
            for &t in members {
                household[t] = Some(h);
            }
        }
        SwapSearch {
            rows,
            min: inst.quotas.iter().map(|q| q.min).collect(),
            max: inst.quotas.iter().map(|q| q.max).collect(),
            household,
            households: inst.households.len(),
            sizes: (0..types).map(|t| inst.size(t)).collect(),
        }
    }

    /// Raises the weight `Σ_t panel_t·weights_t` of the feasible `panel` by
    /// best-improvement swaps (one member out, one in), at most `max_swaps`
    /// of them; the panel stays feasible. Returns the number of swaps made.
    /// Deterministic: ties go to the lower type index.
    pub fn improve(&self, panel: &mut [u32], weights: &[f64], max_swaps: usize) -> usize {
        let mut count = vec![0u32; self.min.len()];
        let mut in_household = vec![0u32; self.households];
        for (t, &c) in panel.iter().enumerate() {
            for &r in &self.rows[t] {
                count[r] += c;
            }
            if let Some(h) = self.household[t] {
                in_household[h] += c;
            }
        }
        // Candidates to add, best first: for each type to drop, the first
        // feasible one is its best swap.
        let mut order: Vec<usize> = (0..panel.len()).collect();
        order.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
        for step in 0..max_swaps {
            let mut best: Option<(f64, usize, usize)> = None;
            for out in (0..panel.len()).filter(|&t| panel[t] > 0) {
                for &into in &order {
                    let gain = weights[into] - weights[out];
                    if gain <= best.map_or(MIN_GAIN, |b| b.0) {
                        break;
                    }
                    if into != out && panel[into] < self.sizes[into] && self.can_swap(out, into, &count, &in_household)
                    {
                        best = Some((gain, out, into));
                        break;
                    }
                }
            }
            let Some((_, out, into)) = best else { return step };
            panel[out] -= 1;
            panel[into] += 1;
            for &r in &self.rows[out] {
                count[r] -= 1;
            }
            for &r in &self.rows[into] {
                count[r] += 1;
            }
            if let Some(h) = self.household[out] {
                in_household[h] -= 1;
            }
            if let Some(h) = self.household[into] {
                in_household[h] += 1;
            }
        }
        max_swaps
    }

    /// Can one member of type `out` be replaced by one of type `into`
    /// (with room left in `into`) without breaking a quota or household?
    fn can_swap(&self, out: usize, into: usize, count: &[u32], in_household: &[u32]) -> bool {
        let (rows_out, rows_into) = (&self.rows[out], &self.rows[into]);
        rows_out.iter().all(|r| rows_into.contains(r) || count[*r] > self.min[*r])
            && rows_into.iter().all(|r| rows_out.contains(r) || count[*r] < self.max[*r])
            && match self.household[into] {
                Some(h) => self.household[out] == Some(h) || in_household[h] == 0,
                None => true,
            }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::input::{Features, Pool};
    use super::super::leximin::enumerate_panels;
    use super::*;

    /// A pool of `people` volunteers with two features (3 and 2 values) and
    /// quotas `[lo, hi]` per value, optionally with shared households.
    fn instance(people: &[(usize, usize, usize)], k: u32, quotas: &[(u32, u32)], households: bool) -> Instance {
        let mut features = String::from("feature,value,min,max\n");
        for (i, (lo, hi)) in quotas.iter().enumerate() {
            let (f, v) = if i < 3 { ("a", i) } else { ("b", i - 3) };
            features.push_str(&format!("{f},v{v},{lo},{hi}\n"));
        }
        let features = Features::parse("f.csv", features.as_bytes()).unwrap();
        let mut csv = String::from("id,a,b,home\n");
        for (i, (a, b, home)) in people.iter().enumerate() {
            csv.push_str(&format!("p{i},v{a},v{b},h{home}\n"));
        }
        let pool = Pool::parse("p.csv", csv.as_bytes(), &features, "id", &["home".to_string()]).unwrap();
        let everyone: Vec<usize> = (0..pool.people.len()).collect();
        Instance::build(&features, &pool, &everyone, k, households, None)
    }

    fn weight(panel: &[u32], weights: &[f64]) -> f64 {
        panel.iter().zip(weights).map(|(&c, w)| f64::from(c) * w).sum()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every swap keeps the panel feasible and gains weight; at the end
        /// no single feasible swap gains more; the search is deterministic.
        #[test]
        fn swaps_keep_panels_feasible_and_end_in_a_local_optimum(
            people in prop::collection::vec((0usize..3, 0usize..2, 0usize..6), 6..14),
            k in 2u32..6,
            quotas in prop::collection::vec((0u32..3, 0u32..4), 5),
            households: bool,
            weights in prop::collection::vec(0.0f64..1.0, 64),
            start in 0usize..1000,
        ) {
            let quotas: Vec<(u32, u32)> = quotas.iter().map(|&(lo, extra)| (lo, lo + extra)).collect();
            let inst = instance(&people, k, &quotas, households);
            let all = enumerate_panels(&inst, 100_000).unwrap();
            prop_assume!(!all.is_empty());
            let weights = &weights[..inst.types.len()];
            let search = SwapSearch::new(&inst);
            let mut panel = all[start % all.len()].clone();
            let before = weight(&panel, weights);
            let mut again = panel.clone();
            search.improve(&mut panel, weights, 1000);
            search.improve(&mut again, weights, 1000);
            prop_assert_eq!(&panel, &again);
            prop_assert!(inst.is_feasible(&panel));
            let after = weight(&panel, weights);
            prop_assert!(after >= before - 1e-12);
            for out in 0..panel.len() {
                for into in 0..panel.len() {
                    if panel[out] == 0 || out == into {
                        continue;
                    }
                    let mut next = panel.clone();
                    next[out] -= 1;
                    next[into] += 1;
                    if inst.is_feasible(&next) {
                        prop_assert!(weight(&next, weights) <= after + 1e-9, "{next:?} beats {panel:?}");
                    }
                }
            }
        }

        /// The swap limit is respected.
        #[test]
        fn at_most_max_swaps_are_made(
            people in prop::collection::vec((0usize..3, 0usize..2, 0usize..6), 6..14),
            weights in prop::collection::vec(0.0f64..1.0, 64),
            limit in 0usize..3,
        ) {
            let inst = instance(&people, 3, &[(0, 3); 5], false);
            let all = enumerate_panels(&inst, 100_000).unwrap();
            let weights = &weights[..inst.types.len()];
            let mut panel = all[0].clone();
            let start = panel.clone();
            let swaps = SwapSearch::new(&inst).improve(&mut panel, weights, limit);
            prop_assert!(swaps <= limit);
            let moved: u32 = panel.iter().zip(&start).map(|(a, b)| a.abs_diff(*b)).sum();
            prop_assert!(moved as usize <= 2 * swaps);
        }
    }
}
