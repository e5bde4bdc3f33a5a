//! The selection problem in the form the solvers work on: agent *types*
//! (volunteers with the same value for every feature, who must get the same
//! probability) instead of single volunteers.

use std::collections::BTreeMap;

use super::input::{Features, Pool};

/// One quota constraint over types: between `min` and `max` members of the
/// panel have value `value` of feature `feature`.
#[derive(Debug, Clone)]
pub(crate) struct QuotaRow {
    pub feature: usize,
    pub value: usize,
    pub min: u32,
    pub max: u32,
    /// Types that have this value.
    pub types: Vec<usize>,
}

/// A set of interchangeable volunteers: same feature values and, when the
/// household rule is on, alone in their household (people who share a
/// household each form their own type).
#[derive(Debug, Clone)]
pub(crate) struct AgentType {
    /// Indices into the pool, in file order.
    pub members: Vec<usize>,
    pub values: Vec<usize>,
}

/// Panel size, types, quotas and households (sets of types of which at most
/// one member may be on the panel).
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub k: u32,
    pub types: Vec<AgentType>,
    pub quotas: Vec<QuotaRow>,
    pub households: Vec<Vec<usize>>,
}

impl Instance {
    /// Builds the instance over the people `eligible` (indices into the pool)
    /// with the quotas of `features`, each lowered by `already[feature][value]`
    /// (members who are on the panel already; see replacements).
    pub fn build(
        features: &Features,
        pool: &Pool,
        eligible: &[usize],
        k: u32,
        households: bool,
        already: Option<&[Vec<u32>]>,
    ) -> Self {
        let mut by_household: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        if households {
            for &i in eligible {
                if let Some(h) = &pool.people[i].household {
                    by_household.entry(h.as_str()).or_default().push(i);
                }
            }
        }
        let shares =
            |i: usize| households && pool.people[i].household.as_deref().is_some_and(|h| by_household[h].len() > 1);
        let mut types: Vec<AgentType> = Vec::new();
        let mut index: BTreeMap<&[usize], usize> = BTreeMap::new();
        let mut type_of = vec![usize::MAX; pool.people.len()];
        for &i in eligible {
            let values = pool.people[i].values.as_slice();
            let t = if shares(i) { None } else { index.get(values).copied() };
            let t = t.unwrap_or_else(|| {
                types.push(AgentType { members: Vec::new(), values: values.to_vec() });
                if !shares(i) {
                    index.insert(values, types.len() - 1);
                }
                types.len() - 1
            });
            types[t].members.push(i);
            type_of[i] = t;
        }
        let mut quotas = Vec::new();
        for (f, feature) in features.features.iter().enumerate() {
            for (v, q) in feature.values.iter().enumerate() {
                let have = already.map_or(0, |a| a[f][v]);
                quotas.push(QuotaRow {
                    feature: f,
                    value: v,
                    min: q.min.saturating_sub(have),
                    // A negative max (too many already) is caught by the caller.
                    max: q.max.saturating_sub(have),
                    types: (0..types.len()).filter(|&t| types[t].values[f] == v).collect(),
                });
            }
        }
        let households =
            by_household.values().filter(|m| m.len() > 1).map(|m| m.iter().map(|&i| type_of[i]).collect()).collect();
        Instance { k, types, quotas, households }
    }

    pub fn size(&self, t: usize) -> u32 {
        self.types[t].members.len() as u32
    }

    /// Does this composition (members per type) meet size, quotas and households?
    pub fn is_feasible(&self, panel: &[u32]) -> bool {
        panel.len() == self.types.len()
            && panel.iter().zip(&self.types).all(|(&c, t)| c as usize <= t.members.len())
            && panel.iter().sum::<u32>() == self.k
            && self.quotas.iter().all(|q| {
                let n: u32 = q.types.iter().map(|&t| panel[t]).sum();
                q.min <= n && n <= q.max
            })
            && self.households.iter().all(|h| h.iter().map(|&t| panel[t]).sum::<u32>() <= 1)
    }
}
