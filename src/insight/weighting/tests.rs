//! Raking, its fallbacks and the weighted estimators: worked examples and
//! properties.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::i18n::Lang;

const AGES: [&str; 4] = ["15_24", "25_44", "45_64", "65_plus"];
const GENDERS: [&str; 2] = ["man", "vrouw"];

fn margins(age: [u64; 4], gender: [u64; 2]) -> Margins {
    let mut m = Margins::new();
    for (c, n) in AGES.iter().zip(age) {
        m.set(Variable::AgeBand.category(c).unwrap(), n);
    }
    for (c, n) in GENDERS.iter().zip(gender) {
        m.set(Variable::Gender.category(c).unwrap(), n);
    }
    m
}

/// Counts per cell, age band by age band: [man, vrouw].
fn cells(counts: [[u64; 2]; 4], unclassified: u64) -> RespondentCells {
    let mut out = RespondentCells { cells: BTreeMap::new(), unclassified };
    for (a, pair) in AGES.iter().zip(counts) {
        for (g, k) in GENDERS.iter().zip(pair) {
            if k > 0 {
                out.cells.insert(Cell::parse(a, g).unwrap(), k);
            }
        }
    }
    out
}

fn cell(a: &str, g: &str) -> Cell {
    Cell::parse(a, g).unwrap()
}

/// The weighted share of each category, per variable.
fn weighted_shares(w: &Weights, variable: Variable) -> BTreeMap<Category, f64> {
    let total: f64 = w.cells.iter().map(|c| c.weight * c.respondents as f64).sum();
    let mut out = BTreeMap::new();
    for c in &w.cells {
        *out.entry(c.cell.category(variable)).or_insert(0.0) += c.weight * c.respondents as f64 / total;
    }
    out
}

/// The example of docs/weighting.md.
fn example() -> (Margins, RespondentCells) {
    (margins([150, 350, 300, 200], [490, 510]), cells([[1, 2], [4, 6], [6, 7], [6, 8]], 2))
}

#[test]
fn the_worked_example_of_the_documentation() {
    let (m, r) = example();
    let w = rake(&m, &r, &RakeSettings::default()).unwrap();
    let shares = weighted_shares(&w, Variable::AgeBand);
    for (c, target) in AGES.iter().zip([0.15, 0.35, 0.30, 0.20]) {
        assert!((shares[&Variable::AgeBand.category(c).unwrap()] - target).abs() < 1e-6);
    }
    let weight = |a, g| w.weight(Some(&cell(a, g))).unwrap();
    // The one young man stands for many young residents: he weighs most.
    assert!(weight("15_24", "man") > weight("25_44", "man"));
    assert!(weight("65_plus", "vrouw") < 1.0, "the over-represented elderly weigh less");
    assert_eq!(w.weight(None), Ok(1.0), "without age or gender: weight 1");
    assert_eq!(w.respondents(), 42);
    assert!(w.effective_n() < 42.0 && w.design_effect() > 1.0);
    for c in &w.cells {
        println!("{} {} {:.3}", c.cell, c.respondents, c.weight);
    }
    println!("n_eff {:.2} deff {:.3} iterations {}", w.effective_n(), w.design_effect(), w.iterations);
}

#[test]
fn trimming_keeps_weights_within_bounds_and_reports_infeasible_margins() {
    // One young respondent for 40 % of the population.
    let m = margins([400, 200, 200, 200], [500, 500]);
    let r = cells([[1, 0], [5, 6], [6, 6], [6, 7]], 0);
    let untrimmed = rake(&m, &r, &RakeSettings::new(1e-6, 100, None, 1, 0.02).unwrap()).unwrap();
    assert!(untrimmed.weight(Some(&cell("15_24", "man"))).unwrap() > 5.0);
    // Trimmed, the lone young man cannot carry 40 %: his band merges with
    // the next one, and the merge is reported.
    let w = rake(&m, &r, &RakeSettings::default()).unwrap();
    assert_eq!(w.collapsed.len(), 1);
    assert_eq!(w.collapsed[0].merged.iter().map(|c| c.as_str()).collect::<Vec<_>>(), ["15_24", "25_44"]);
    assert!(w.cells.iter().all(|c| (0.2..=5.0).contains(&c.weight)));
    // Five young men need weight 3.3 each: beyond bounds of 0.5–2, and five
    // is enough not to merge. No weights, a clear reason.
    let narrow = RakeSettings::new(1e-6, 100, Some((0.5, 2.0)), 1, 0.02).unwrap();
    match rake(&m, &cells([[5, 0], [5, 6], [6, 6], [6, 7]], 0), &narrow) {
        Err(WeightingError::NotConverged { iterations: 100, deviation }) => assert!(deviation > 0.01),
        other => panic!("expected no convergence, got {other:?}"),
    }
    // Wider bounds make it feasible again, and every weight stays inside.
    let wide = RakeSettings::new(1e-6, 500, Some((0.1, 15.0)), 1, 0.02).unwrap();
    let w = rake(&m, &r, &wide).unwrap();
    assert!(w.cells.iter().all(|c| (0.1..=15.0).contains(&c.weight)));
}

#[test]
fn each_misfit_of_margins_is_a_clear_error() {
    let r = cells([[2, 2], [3, 3], [3, 3], [2, 2]], 0);
    let mut missing = margins([100, 100, 100, 100], [200, 200]);
    missing = {
        let mut m = Margins::new();
        for (c, n) in missing.iter().filter(|(c, _)| c.as_str() != "65_plus") {
            m.set(c, n);
        }
        m
    };
    let err = rake(&missing, &r, &RakeSettings::default()).unwrap_err();
    assert_eq!(
        err,
        WeightingError::MissingCategory { category: Variable::AgeBand.category("65_plus").unwrap(), respondents: 4 }
    );
    assert_eq!(err.to_string(), "4 respondents are in age_band 65_plus, but the margins have no figure for it");

    let zero = margins([100, 100, 100, 0], [150, 150]);
    let err = rake(&zero, &r, &RakeSettings::default()).unwrap_err();
    assert_eq!(err.code(), "margins_do_not_fit");
    assert!(err.to_string().contains("nobody lives in that group"), "{err}");

    let disagree = margins([100, 100, 100, 100], [300, 300]);
    let err = rake(&disagree, &r, &RakeSettings::default()).unwrap_err();
    assert_eq!(err, WeightingError::TotalsDisagree { age_band: 400, gender: 600 });
    // CBS rounds to 5: a small difference is no disagreement.
    assert!(rake(&margins([100, 100, 100, 100], [200, 205]), &r, &RakeSettings::default()).is_ok());

    let nobody = cells([[0, 0], [0, 0], [0, 0], [0, 0]], 7);
    let err = rake(&margins([1, 1, 1, 1], [2, 2]), &nobody, &RakeSettings::default()).unwrap_err();
    assert_eq!(err, WeightingError::NoClassifiedRespondents { unclassified: 7 });
}

#[test]
fn the_fallback_is_unweighted_with_a_notice() {
    let r = cells([[2, 2], [3, 3], [3, 3], [2, 2]], 1);
    let out = weights_for_area(None, &r, &RakeSettings::default());
    assert!(!out.is_weighted());
    assert_eq!(out.weight(Some(&cell("15_24", "man"))), Ok(1.0));
    assert_eq!((out.effective_n(), out.design_effect()), (21.0, 1.0));
    assert_eq!(out.notice(Lang::Nl).unwrap(), "Ongewogen: er zijn geen bevolkingscijfers voor dit gebied.");
    assert_eq!(out.notice(Lang::En).unwrap(), "Unweighted: there are no population figures for this area.");

    let bad = margins([100, 100, 100, 0], [150, 150]);
    let out = weights_for_area(Some(&bad), &r, &RakeSettings::default());
    assert!(matches!(
        &out,
        WeightingOutcome::Unweighted { reason: WeightingError::ZeroPopulation { .. }, respondents: 21 }
    ));
    // The reason, without the group: which one could point at a resident.
    assert_eq!(
        out.notice(Lang::Nl).unwrap(),
        "Ongewogen: de bevolkingscijfers passen niet bij de leeftijd en het geslacht van de deelnemers."
    );
    // Every reason has its text in both languages, and none names a group.
    let reasons = [
        WeightingError::NoMargins,
        WeightingError::NoClassifiedRespondents { unclassified: 1 },
        WeightingError::TotalsDisagree { age_band: 1, gender: 2 },
        WeightingError::NotConverged { iterations: 1, deviation: 0.1 },
    ]
    .into_iter()
    .chain(Variable::ALL.into_iter().flat_map(|v| {
        v.categories().iter().flat_map(move |c| {
            let category = v.category(c).unwrap();
            [
                WeightingError::MissingCategory { category, respondents: 1 },
                WeightingError::ZeroPopulation { category, respondents: 1 },
            ]
        })
    }));
    for reason in reasons {
        let out = WeightingOutcome::Unweighted { reason, respondents: 1 };
        for lang in [Lang::Nl, Lang::En] {
            let notice = out.notice(lang).unwrap();
            assert!(notice.starts_with(["Ongewogen: ", "Unweighted: "][lang as usize]), "{notice}");
            assert!(!notice.contains('{') && !notice.contains("weighting_"), "{notice}");
            assert!(!["65", "15", "man", "vrouw", "men", "women"].iter().any(|g| notice.contains(g)), "{notice}");
        }
    }

    let ok = weights_for_area(Some(&margins([100, 100, 100, 100], [200, 200])), &r, &RakeSettings::default());
    assert!(ok.is_weighted() && ok.notice(Lang::Nl).is_none());
}

#[test]
fn a_category_nobody_answered_from_is_merged_with_its_neighbour() {
    // No one of 15–24 answered: that band counts with 25–44.
    let m = margins([100, 300, 300, 300], [500, 500]);
    let r = cells([[0, 0], [5, 5], [3, 3], [2, 2]], 0);
    let w = rake(&m, &r, &RakeSettings::default()).unwrap();
    assert_eq!(w.collapsed.len(), 1);
    assert_eq!(w.collapsed[0].merged.iter().map(|c| c.as_str()).collect::<Vec<_>>(), ["15_24", "25_44"]);
    let shares = weighted_shares(&w, Variable::AgeBand);
    assert!((shares[&Variable::AgeBand.category("25_44").unwrap()] - 0.4).abs() < 1e-6);
    // No women at all: gender cannot be weighted, age still is.
    let r = cells([[1, 0], [5, 0], [3, 0], [2, 0]], 0);
    let w = rake(&m, &r, &RakeSettings::default()).unwrap();
    assert!(w.collapsed.iter().any(|c| c.variable == Variable::Gender));
    // A setting asks for at least 3 per category: 65+ (2) joins 45–64.
    let strict = RakeSettings::new(1e-6, 100, Some((0.2, 5.0)), 3, 0.02).unwrap();
    let w = rake(&m, &cells([[2, 2], [5, 5], [3, 3], [1, 1]], 0), &strict).unwrap();
    assert_eq!(w.collapsed[0].merged.iter().map(|c| c.as_str()).collect::<Vec<_>>(), ["45_64", "65_plus"]);
}

#[test]
fn settings_are_checked() {
    assert!(RakeSettings::new(0.0, 100, None, 1, 0.02).is_err());
    assert!(RakeSettings::new(1e-6, 0, None, 1, 0.02).is_err());
    assert!(RakeSettings::new(1e-6, 100, Some((1.5, 5.0)), 1, 0.02).is_err());
    assert!(RakeSettings::new(1e-6, 100, Some((0.2, 0.9)), 1, 0.02).is_err());
    assert!(RakeSettings::new(1e-6, 100, Some((0.2, f64::INFINITY)), 1, 0.02).is_err());
    assert!(RakeSettings::new(1e-6, 100, None, 1, f64::NAN).is_err());
    assert!(RakeSettings::new(f64::NAN, 100, None, 1, 0.02).is_err());
}

#[test]
fn weighted_estimates_widen_the_interval_by_the_design_effect() {
    let (m, r) = example();
    let out = weights_for_area(Some(&m), &r, &RakeSettings::default());
    // Everyone answers 6 except the young, who answer 3.
    let obs: Vec<Observation> = r
        .cells
        .iter()
        .map(|(c, k)| Observation {
            cell: Some(*c),
            value: if c.age_band.as_str() == "15_24" { 3.0 } else { 6.0 },
            count: *k,
        })
        .chain([Observation { cell: None, value: 6.0, count: 2 }])
        .collect();
    let weighted = weighted_mean(&out, &obs).unwrap();
    let plain = weighted_mean(&weights_for_area(None, &r, &RakeSettings::default()), &obs).unwrap();
    assert_eq!((plain.n, plain.n_eff, plain.deff), (42, 42.0, 1.0));
    // The figures of docs/weighting.md.
    let r2 = |x: f64| (x * 100.0).round() / 100.0;
    let shown = |e: &WeightedEstimate| (r2(e.estimate), e.ci95.map(|[a, b]| [r2(a), r2(b)]));
    assert_eq!(shown(&plain), (5.79, Some([5.54, 6.03])));
    assert_eq!(shown(&weighted), (5.57, Some([5.21, 5.94])));
    // Weighting gives the under-represented young their due: a lower mean.
    assert!(weighted.estimate < plain.estimate, "{weighted:?} {plain:?}");
    assert!(weighted.deff > 1.0 && weighted.n_eff < 42.0);
    let width = |e: &WeightedEstimate| e.ci95.map(|[a, b]| b - a).unwrap();
    let [lo, hi] = weighted.ci95.unwrap();
    assert!(lo <= weighted.estimate && weighted.estimate <= hi);
    assert!(width(&weighted) > 0.0);
    // A share, the same way: the young say "no".
    let yes: Vec<Observation> =
        obs.iter().map(|o| Observation { value: if o.value > 5.0 { 1.0 } else { 0.0 }, ..*o }).collect();
    let share = weighted_share(&out, &yes).unwrap();
    let plain_share = weighted_share(&weights_for_area(None, &r, &RakeSettings::default()), &yes).unwrap();
    assert!(share.estimate < plain_share.estimate);
    assert!(width(&share) > width(&plain_share), "a weighted interval is wider");
    let all_yes: Vec<Observation> = yes.iter().map(|o| Observation { value: 1.0, ..*o }).collect();
    let [lo, hi] = weighted_share(&out, &all_yes).unwrap().ci95.unwrap();
    assert!(hi <= 1.0 && lo < 1.0 && lo > 0.8, "Wilson: an honest interval at 100 %");
    // Inputs that do not belong together are an error, not a number.
    let stranger = [Observation { cell: Some(cell("15_24", "vrouw")), value: 1.0, count: 1 }];
    let only_men = weights_for_area(Some(&m), &cells([[1, 0], [4, 0], [6, 0], [6, 0]], 0), &RakeSettings::default());
    assert_eq!(weighted_mean(&only_men, &stranger), Err(EstimateError::UnknownCell(cell("15_24", "vrouw"))));
    assert_eq!(weighted_mean(&out, &[]), Err(EstimateError::Empty));
    let one = [Observation { cell: None, value: 4.0, count: 1 }];
    assert_eq!(weighted_mean(&out, &one).unwrap().ci95, None);
}

/// Margins with equal totals by age band and gender, and respondent counts.
fn arb_case() -> impl Strategy<Value = (Margins, RespondentCells)> {
    (prop::array::uniform4(1u64..5000), 1u64..99, prop::array::uniform8(0u64..40), 0u64..10).prop_map(
        |(age, man_percent, counts, unclassified)| {
            let total: u64 = age.iter().sum();
            let man = total * man_percent / 100;
            let c = [[counts[0], counts[1]], [counts[2], counts[3]], [counts[4], counts[5]], [counts[6], counts[7]]];
            (margins(age, [man, total - man]), cells(c, unclassified))
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn converged_weights_meet_the_margins_and_the_bounds((m, r) in arb_case(), trim in any::<bool>()) {
        let settings = RakeSettings::new(1e-6, 1000, trim.then_some((0.2, 5.0)), 1, 0.02).unwrap();
        match rake(&m, &r, &settings) {
            Ok(w) => {
                for c in &w.cells {
                    prop_assert!(c.weight > 0.0 && c.weight.is_finite());
                    if trim {
                        prop_assert!((0.2..=5.0).contains(&c.weight), "{}", c.weight);
                    }
                }
                for variable in Variable::ALL {
                    let shares = weighted_shares(&w, variable);
                    let total = m.total(variable) as f64;
                    // Every group (a category, or categories merged) weighs
                    // its population's share.
                    let mut groups: Vec<Vec<Category>> = w.collapsed.iter().filter(|c| c.variable == variable).map(|c| c.merged.clone()).collect();
                    for c in shares.keys() {
                        if !groups.iter().any(|g| g.contains(c)) {
                            groups.push(vec![*c]);
                        }
                    }
                    for g in groups {
                        let got: f64 = g.iter().filter_map(|c| shares.get(c)).sum();
                        let want: f64 = g.iter().filter_map(|c| m.get(*c)).sum::<u64>() as f64 / total;
                        prop_assert!((got - want).abs() < 1e-5, "{variable} {g:?}: {got} vs {want}");
                    }
                }
                let n = w.respondents() as f64;
                prop_assert!(w.effective_n() <= n + 1e-9 && w.effective_n() >= 1.0 - 1e-9);
                prop_assert!(w.design_effect() >= 1.0 - 1e-9);
            }
            // Trim bounds, or empty cells (nobody who is young and a man…),
            // can make the margins impossible to meet: never a wrong number.
            Err(WeightingError::NotConverged { deviation, .. }) => prop_assert!(deviation > 1e-6),
            Err(WeightingError::NoClassifiedRespondents { .. }) => prop_assert_eq!(r.classified(), 0),
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }

    #[test]
    fn identical_respondents_weigh_the_same_and_labels_do_not_matter((m, r) in arb_case()) {
        // Every respondent one by one: two in the same cell weigh the same.
        let settings = RakeSettings::new(1e-9, 1000, None, 1, 0.02).unwrap();
        let Ok(w) = rake(&m, &r, &settings) else { return Ok(()) };
        let people: Vec<(Cell, f64)> = r.cells.iter().flat_map(|(c, k)| std::iter::repeat_n((*c, w.weight(Some(c)).unwrap()), *k as usize)).collect();
        for pair in people.windows(2) {
            if pair[0].0 == pair[1].0 {
                prop_assert_eq!(pair[0].1, pair[1].1);
            }
        }
        // Swapping the genders in margins and respondents swaps the weights.
        let swap = |c: Category| Variable::Gender.category(if c.as_str() == "man" { "vrouw" } else { "man" }).unwrap();
        let mut m2 = Margins::new();
        for (c, n) in m.iter() {
            m2.set(if c.variable() == Variable::Gender { swap(c) } else { c }, n);
        }
        let r2 = RespondentCells {
            cells: r.cells.iter().map(|(c, k)| (Cell { age_band: c.age_band, gender: swap(c.gender) }, *k)).collect(),
            unclassified: r.unclassified,
        };
        let w2 = rake(&m2, &r2, &settings).unwrap();
        for c in &w.cells {
            let mirrored = Cell { age_band: c.cell.age_band, gender: swap(c.cell.gender) };
            prop_assert!((w2.weight(Some(&mirrored)).unwrap() - c.weight).abs() < 1e-6);
        }
    }

    #[test]
    fn a_proportional_sample_is_left_as_it_is(age in prop::array::uniform4(1u64..20), gender in prop::array::uniform2(1u64..20), scale in 1u64..500) {
        // Respondents as the population's margins: age band a and gender g
        // in proportion, so raking has nothing to correct.
        let n_age: u64 = age.iter().sum();
        let n_gender: u64 = gender.iter().sum();
        let mut c = [[0u64; 2]; 4];
        for a in 0..4 {
            for g in 0..2 {
                c[a][g] = age[a] * gender[g];
            }
        }
        let r = cells(c, 0);
        let m = margins(age.map(|x| x * n_gender * scale), gender.map(|x| x * n_age * scale));
        let w = rake(&m, &r, &RakeSettings::default()).unwrap();
        prop_assert!(w.cells.iter().all(|c| (c.weight - 1.0).abs() < 1e-9));
        prop_assert!((w.design_effect() - 1.0).abs() < 1e-9);
        let obs: Vec<Observation> = r.cells.iter().enumerate().map(|(i, (c, k))| Observation { cell: Some(*c), value: (i % 11) as f64, count: *k }).collect();
        let weighted = weighted_mean(&WeightingOutcome::Weighted(w), &obs).unwrap();
        let plain = weighted_mean(&weights_for_area(None, &r, &RakeSettings::default()), &obs).unwrap();
        prop_assert!((weighted.estimate - plain.estimate).abs() < 1e-9);
        let (a, b) = (weighted.ci95.unwrap(), plain.ci95.unwrap());
        prop_assert!((a[0] - b[0]).abs() < 1e-9 && (a[1] - b[1]).abs() < 1e-9);
    }

    #[test]
    fn estimates_lie_inside_their_intervals((m, r) in arb_case(), values in prop::array::uniform8(0u8..=10)) {
        let out = weights_for_area(Some(&m), &r, &RakeSettings::default());
        let obs: Vec<Observation> = r.cells.iter().zip(values).map(|((c, k), v)| Observation { cell: Some(*c), value: f64::from(v), count: *k }).collect();
        if let Ok(e) = weighted_mean(&out, &obs) {
            prop_assert!(e.n_eff <= e.n as f64 + 1e-9 && e.deff >= 1.0 - 1e-9);
            prop_assert!((0.0..=10.0).contains(&e.estimate));
            if let Some([lo, hi]) = e.ci95 {
                prop_assert!(lo <= e.estimate + 1e-9 && e.estimate <= hi + 1e-9);
            }
        }
        let shares: Vec<Observation> = obs.iter().map(|o| Observation { value: f64::from(o.value >= 7.0), ..*o }).collect();
        if let Ok(e) = weighted_share(&out, &shares) {
            let [lo, hi] = e.ci95.unwrap_or([e.estimate, e.estimate]);
            prop_assert!(0.0 <= lo && lo <= e.estimate + 1e-9 && e.estimate <= hi + 1e-9 && hi <= 1.0);
        }
    }
}

#[test]
fn a_category_under_k_merges_so_no_small_group_gets_its_own_weight() {
    // One respondent of 15–24 among 31; the population has 15 % of them.
    let r = cells([[1, 0], [5, 5], [5, 5], [5, 5]], 0);
    let m = margins([150, 350, 300, 200], [500, 500]);
    let young = cell("15_24", "man");
    let own = weights_for_area(Some(&m), &r, &RakeSettings::default());
    assert!(own.weight(Some(&young)).unwrap() > 3.0, "alone, they would count ×4: {own:?}");
    let k = RakeSettings::default().with_min_category_respondents(10);
    let merged = weights_for_area(Some(&m), &r, &k);
    let WeightingOutcome::Weighted(w) = &merged else { panic!("{merged:?}") };
    assert_eq!(merged.weight(Some(&young)), merged.weight(Some(&cell("25_44", "man"))), "{w:?}");
    assert!(w.collapsed.iter().any(|c| c.merged.contains(&Variable::AgeBand.category("15_24").unwrap())));
}

#[test]
fn a_thin_age_and_gender_class_leaves_gender_unweighted() {
    // Every age band and gender has at least 10, but only 3 women of 15–24.
    let r = cells([[12, 3], [10, 10], [10, 10], [10, 10]], 0);
    let m = margins([150, 350, 300, 200], [500, 500]);
    let k = RakeSettings::default().with_min_category_respondents(10);
    let out = weights_for_area(Some(&m), &r, &k);
    let WeightingOutcome::Weighted(w) = &out else { panic!("{out:?}") };
    assert_eq!(out.weight(Some(&cell("15_24", "man"))), out.weight(Some(&cell("15_24", "vrouw"))), "{w:?}");
    assert!(w.collapsed.iter().any(|c| c.variable == Variable::Gender));
    // Without the minimum, the 3 get a weight of their own.
    let own = weights_for_area(Some(&m), &r, &RakeSettings::default());
    assert_ne!(own.weight(Some(&cell("15_24", "man"))), own.weight(Some(&cell("15_24", "vrouw"))));
}
