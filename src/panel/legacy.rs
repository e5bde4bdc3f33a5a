//! The "legacy" greedy algorithm of the Sortition Foundation, as a simple
//! fallback: repeatedly take the feature value whose minimum is hardest to
//! reach (still needed ÷ still available), pick a random volunteer with it,
//! and drop everyone whose selection would break a maximum or the household
//! rule. It is fast but not fair: some volunteers get far lower chances than
//! under LEXIMIN, and it has no exact probabilities (they are estimated by
//! running it many times).

use rand::Rng;

use super::model::Instance;

/// One run on the instance's volunteers (indices into the pool, via the
/// types); `None` when this run got stuck (the caller retries).
pub(crate) fn legacy_once(inst: &Instance, rng: &mut impl Rng) -> Option<Vec<usize>> {
    // Flatten types to people: (pool index, type).
    let mut people: Vec<(usize, usize)> = Vec::new();
    for (t, ty) in inst.types.iter().enumerate() {
        people.extend(ty.members.iter().map(|&i| (i, t)));
    }
    let rows_of_type: Vec<Vec<usize>> = (0..inst.types.len())
        .map(|t| (0..inst.quotas.len()).filter(|&q| inst.quotas[q].types.contains(&t)).collect())
        .collect();
    let household_of_type: Vec<Option<usize>> =
        (0..inst.types.len()).map(|t| inst.households.iter().position(|h| h.contains(&t))).collect();
    let mut available = vec![true; people.len()];
    let mut left = vec![0usize; inst.quotas.len()];
    for &(_, t) in &people {
        for &q in &rows_of_type[t] {
            left[q] += 1;
        }
    }
    let remove = |p: usize, available: &mut Vec<bool>, left: &mut Vec<usize>| {
        if available[p] {
            available[p] = false;
            for &q in &rows_of_type[people[p].1] {
                left[q] -= 1;
            }
        }
    };
    let mut count = vec![0u32; inst.quotas.len()];
    let mut chosen = Vec::new();
    for q in 0..inst.quotas.len() {
        if inst.quotas[q].max == 0 {
            for p in 0..people.len() {
                if rows_of_type[people[p].1].contains(&q) {
                    remove(p, &mut available, &mut left);
                }
            }
        }
    }
    while (chosen.len() as u32) < inst.k {
        let mut best: Option<(f64, usize)> = None;
        for (q, row) in inst.quotas.iter().enumerate() {
            if count[q] >= row.min {
                continue;
            }
            if left[q] == 0 {
                return None;
            }
            let ratio = f64::from(row.min - count[q]) / left[q] as f64 + rng.gen::<f64>() * 1e-9;
            if best.is_none_or(|(r, _)| ratio > r) {
                best = Some((ratio, q));
            }
        }
        let candidates: Vec<usize> = (0..people.len())
            .filter(|&p| available[p] && best.is_none_or(|(_, q)| rows_of_type[people[p].1].contains(&q)))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let p = candidates[rng.gen_range(0..candidates.len())];
        let (person, t) = people[p];
        chosen.push(person);
        remove(p, &mut available, &mut left);
        for &q in &rows_of_type[t] {
            count[q] += 1;
            if count[q] >= inst.quotas[q].max {
                for o in 0..people.len() {
                    if rows_of_type[people[o].1].contains(&q) {
                        remove(o, &mut available, &mut left);
                    }
                }
            }
        }
        if let Some(h) = household_of_type[t] {
            for o in 0..people.len() {
                if household_of_type[people[o].1] == Some(h) {
                    remove(o, &mut available, &mut left);
                }
            }
        }
    }
    let ok = inst.quotas.iter().zip(&count).all(|(q, &c)| q.min <= c && c <= q.max);
    ok.then_some(chosen)
}

/// Runs until a run succeeds, at most `attempts` times.
pub(crate) fn legacy(inst: &Instance, rng: &mut impl Rng, attempts: usize) -> Option<Vec<usize>> {
    (0..attempts).find_map(|_| legacy_once(inst, rng))
}
