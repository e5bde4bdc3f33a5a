//! Properties of the draw: allocation, eligibility, one per address,
//! determinism, uniformity, verification.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::area::{AreaCode, Level};

const BUURTEN: [&str; 4] = ["BU07721110", "BU07721120", "BU07721130", "BU07721140"];

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn buurt(i: usize) -> AreaCode {
    AreaCode::parse(Level::Buurt, BUURTEN[i % BUURTEN.len()]).unwrap()
}

/// A person; `address` numbers the dwelling within the buurt.
fn person(id: &str, b: usize, birth_year: i32, address: u32) -> Person {
    Person {
        id: PersonId::parse(id).unwrap(),
        name: format!("Persoon {id}"),
        address: Address {
            street: "Markt".into(),
            house_number: address,
            addition: String::new(),
            postcode: Postcode::parse(&format!("56{:02}AB", 10 + b)).unwrap(),
            city: "Eindhoven".into(),
        },
        buurt: buurt(b),
        birth: Birth::Year(birth_year),
        gender: Gender::Unknown,
        email: None,
    }
}

fn params(size: u64) -> DrawParams {
    DrawParams {
        size,
        allocation: Allocation::Proportional,
        min_age: 16,
        reference_date: day(2026, 11, 28),
        one_per_address: false,
        exclude_months: None,
        excluded: vec![],
    }
}

fn seed(s: &str) -> Seed {
    Seed::parse(s).unwrap()
}

/// 3 buurten of 12, 30 and 7 people, some too young, 2–3 per address.
fn small_register() -> Vec<Person> {
    let mut people = Vec::new();
    for (b, n) in [(0usize, 12u32), (1, 30), (2, 7)] {
        for i in 0..n {
            let year = if i % 5 == 4 { 2015 } else { 1950 + i as i32 };
            people.push(person(&format!("P{b}-{i:03}"), b, year, 1 + i / 3));
        }
    }
    people
}

#[test]
fn largest_remainder_is_exact_and_deterministic() {
    let w: BTreeMap<AreaCode, u64> = [(buurt(0), 1), (buurt(1), 1), (buurt(2), 1)].into_iter().collect();
    let a = largest_remainder(10, &w);
    assert_eq!(a.values().copied().collect::<Vec<_>>(), vec![4, 3, 3], "ties go to the lower code");
    let w: BTreeMap<AreaCode, u64> = [(buurt(0), 10), (buurt(1), 30), (buurt(2), 60)].into_iter().collect();
    assert_eq!(largest_remainder(7, &w).values().copied().collect::<Vec<_>>(), vec![1, 2, 4]);
}

#[test]
fn the_same_inputs_give_the_same_sample_whatever_the_row_order() {
    let people = small_register();
    let a = draw(&people, &params(10), &seed("42 7 13")).unwrap();
    let mut reversed = people.clone();
    reversed.reverse();
    let b = draw(&reversed, &params(10), &seed("42 7 13")).unwrap();
    assert_eq!(a, b);
    let c = draw(&people, &params(10), &seed("42 7 14")).unwrap();
    assert_ne!(a.selection_hash, c.selection_hash);
    assert_eq!(a.selected.len(), 10);
}

/// Pins the algorithm: if this changes, ALGORITHM_VERSION must change too.
#[test]
fn known_answer() {
    let people = small_register();
    assert_eq!(register_hash(&people), KNOWN_REGISTER_HASH);
    let d = draw(&people, &params(10), &seed("42 7 13")).unwrap();
    let ids: Vec<&str> = d.selected.iter().map(|p| p.as_str()).collect();
    assert_eq!(ids.join(" "), KNOWN_SELECTION, "{}", d.selection_hash);
    let mut s = Stream::new([0u8; 32]);
    assert_eq!([s.below(10), s.below(10), s.below(1000), s.below(u64::MAX)], KNOWN_STREAM);
}
const KNOWN_REGISTER_HASH: &str = "b22e371784662369506055ac6a6bb89c108f6be0c4451439408f5a50aa351c90";
const KNOWN_SELECTION: &str = "P0-011 P0-008 P0-003 P1-015 P1-022 P1-005 P1-027 P1-021 P1-003 P2-000";
const KNOWN_STREAM: [u64; 4] = [0, 8, 677, 14343251830567286440];

#[test]
fn canonical_register_is_one_json_row_per_person() {
    let mut p = person("B", 0, 1980, 12);
    p.address.addition = "A".into();
    let q = person("A\"x", 1, 1990, 3);
    let text = String::from_utf8(canonical_register(&[p, q])).unwrap();
    assert_eq!(
        text,
        "[\"A\\\"x\",\"BU07721120\",\"1990\",\"5611AB\",\"3\",\"\"]\n[\"B\",\"BU07721110\",\"1980\",\"5610AB\",\"12\",\"A\"]\n"
    );
}

#[test]
fn errors_are_clear() {
    let people = small_register();
    let err = |p: &DrawParams| draw(&people, p, &seed("1")).unwrap_err().to_string();
    assert!(err(&params(1000)).contains("larger than the eligible people"), "{}", err(&params(1000)));
    assert_eq!(draw(&[], &params(1), &seed("1")).unwrap_err(), DrawError::EmptyRegister);
    assert_eq!(draw(&people, &params(0), &seed("1")).unwrap_err(), DrawError::ZeroSize);
    let mut p = params(5);
    p.allocation = Allocation::Explicit { counts: [("BU07721190".to_owned(), 5)].into_iter().collect() };
    assert!(err(&p).contains("names BU07721190, which has no one in the register"), "{}", err(&p));
    p.allocation = Allocation::Explicit { counts: [("BU07721130".to_owned(), 7)].into_iter().collect() };
    p.size = 7;
    assert!(err(&p).contains("asks 7 from BU07721130, which has only 6 eligible"), "{}", err(&p));
    p.size = 5;
    p.allocation = Allocation::Explicit { counts: [("BU07721110".to_owned(), 4)].into_iter().collect() };
    assert!(err(&p).contains("asks 4 in total, but --size is 5"), "{}", err(&p));
    let mut p = params(30);
    p.allocation = Allocation::Equal;
    assert!(err(&p).contains("which has only"), "{}", err(&p));
    let mut p = params(20);
    p.one_per_address = true;
    assert!(err(&p).contains("eligible addresses"), "{}", err(&p));
    assert!(Seed::parse("  ").is_err() && Seed::parse("a\nb").is_err());
    let dup = vec![person("X", 0, 1980, 1), person("X", 0, 1980, 2)];
    assert!(matches!(draw(&dup, &params(1), &seed("1")), Err(DrawError::DuplicateId(_))));
}

#[test]
fn excluded_people_are_recognised_by_hash_only() {
    let people = small_register();
    let earlier = day(2026, 3, 1);
    let old = day(2024, 1, 1);
    let hashes: Vec<DrawnHash> = people[..20]
        .iter()
        .map(|p| DrawnHash { drawn_on: earlier, person_hash: drawn_hash(&p.id, earlier) })
        .chain(people[20..25].iter().map(|p| DrawnHash { drawn_on: old, person_hash: drawn_hash(&p.id, old) }))
        .chain([DrawnHash { drawn_on: earlier, person_hash: "00".repeat(32) }])
        .collect();
    let mut p = params(15);
    p.exclude_months = Some(12);
    p.exclude_matching(&people, &hashes);
    assert_eq!(p.excluded.len(), 20, "only those in the window and in the register");
    let d = draw(&people, &p, &seed("x")).unwrap();
    let out: HashSet<&PersonId> = people[..20].iter().map(|p| &p.id).collect();
    assert!(d.selected.iter().all(|id| !out.contains(id)));
    assert_eq!(d.excluded, 17, "the 3 too young among them are not counted as excluded");
}

#[test]
fn verify_matches_and_reports_tampering() {
    let people = small_register();
    let mut p = params(9);
    p.one_per_address = true;
    let s = seed("dobbelstenen 3 5 1 6");
    let d = draw(&people, &p, &s).unwrap();
    let at = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap();
    let protocol = Protocol::new("test", &d, &p, &s, "dice at the council meeting", at);
    let json = protocol.to_json();
    let back = Protocol::from_json(&json).unwrap();
    assert_eq!(back, protocol);
    assert!(verify(&back, &people).is_match());
    let keys: Vec<usize> =
        ["\"algorithm\"", "\"parameters\"", "\"register\"", "\"strata\"", "\"selection\"", "\"created_at\""]
            .iter()
            .map(|k| json.find(k).unwrap())
            .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "stable key order");

    let mut tampered = people.clone();
    tampered[3].birth = Birth::Year(1999);
    let v = verify(&protocol, &tampered);
    assert!(v.differences.iter().any(|d| matches!(d, Difference::RegisterHash { .. })), "{:?}", v.differences);
    tampered.pop();
    let v = verify(&protocol, &tampered);
    assert!(v.differences.iter().any(|d| matches!(d, Difference::RegisterSize { .. })));

    let mut forged = protocol.clone();
    forged.seed = seed("dobbelstenen 3 5 1 5");
    let v = verify(&forged, &people);
    assert!(matches!(v.differences.as_slice(), [Difference::SelectionHash { .. }]), "{:?}", v.differences);
    let mut forged = protocol.clone();
    forged.strata.get_mut("BU07721110").unwrap().eligible += 1;
    assert!(verify(&forged, &people).differences[0].to_string().starts_with("BU07721110 eligible: protocol"));
    let mut forged = protocol;
    forged.parameters.size = 1000;
    assert!(matches!(verify(&forged, &people).differences.as_slice(), [Difference::DrawFailed(_)]));
}

/// Inclusion frequencies over a fixed set of seeds: every eligible person is
/// drawn with probability allocated/eligible of their buurt (and, one per
/// address, every address with allocated/addresses, every resident of it
/// with an equal share). The statistic Σ (O−E)² / (E(1−p)) per buurt is
/// approximately χ² with m−1 degrees of freedom; the bound is its 99.9 %
/// quantile (Wilson–Hilferty). The seeds are fixed, so the test is deterministic.
#[test]
fn inclusion_is_uniform_within_each_buurt() {
    const RUNS: usize = 3000;
    let people = small_register();
    let check = |p: &DrawParams, unit: &dyn Fn(&Person) -> String| {
        let mut hits: HashMap<String, u64> = HashMap::new();
        let mut last = None;
        for i in 0..RUNS {
            let d = draw(&people, p, &seed(&format!("uniformity {i}"))).unwrap();
            for id in &d.selected {
                let person = people.iter().find(|q| &q.id == id).unwrap();
                *hits.entry(unit(person)).or_default() += 1;
            }
            last = Some(d);
        }
        let d = last.unwrap();
        for (code, s) in &d.strata {
            let units: std::collections::BTreeSet<String> = people
                .iter()
                .filter(|q| &q.buurt == code && q.birth.age_on(p.reference_date) >= 16)
                .map(unit)
                .collect();
            let m = units.len() as f64;
            let prob = s.allocated as f64 / m;
            let expected = RUNS as f64 * prob;
            let stat: f64 = units
                .iter()
                .map(|u| {
                    let o = *hits.get(u).unwrap_or(&0) as f64;
                    (o - expected).powi(2) / (expected * (1.0 - prob))
                })
                .sum();
            let df = m - 1.0;
            let z = 3.09;
            let bound = df * (1.0 - 2.0 / (9.0 * df) + z * (2.0 / (9.0 * df)).sqrt()).powi(3);
            assert!(stat < bound, "{code}: χ² {stat:.1} ≥ {bound:.1} (df {df})");
        }
        if !p.one_per_address {
            let young = people.iter().filter(|q| q.birth.age_on(p.reference_date) < 16);
            assert!(young.clone().count() > 0 && young.into_iter().all(|q| !hits.contains_key(&unit(q))));
        }
    };
    check(&params(12), &|q| q.id.to_string());
    let mut p = params(8);
    p.one_per_address = true;
    check(&p, &|q| q.address.key());
}

fn arb_register() -> impl Strategy<Value = Vec<Person>> {
    proptest::collection::vec((0usize..4, 1940i32..2020, 1u32..15, any::<bool>()), 1..80).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (b, year, addr, full))| {
                let mut p = person(&format!("id{i:04}"), b, year, addr);
                if full {
                    p.birth = Birth::Date(day(year, 1 + (i as u32 % 12), 1 + (i as u32 % 28)));
                }
                p
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn allocation_sums_exactly(size in 0u64..10_000, weights in proptest::collection::vec(0u64..100_000, 1..40)) {
        let w: BTreeMap<AreaCode, u64> = weights.iter().enumerate()
            .map(|(i, &n)| (AreaCode::parse(Level::Buurt, &format!("BU0772{:04}", i)).unwrap(), n)).collect();
        let a = largest_remainder(size, &w);
        if weights.iter().any(|&n| n > 0) {
            prop_assert_eq!(a.values().sum::<u64>(), size);
            let total: u64 = weights.iter().sum();
            for (code, n) in &a {
                let exact = size as f64 * w[code] as f64 / total as f64;
                prop_assert!((*n as f64 - exact).abs() < 1.0);
            }
        }
    }

    #[test]
    fn draws_respect_every_rule(people in arb_register(), size in 1u64..30, one in any::<bool>(),
                                exclude in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
                                s in "[a-z0-9 ]{1,12}", equal in any::<bool>()) {
        let drawn_on = day(2026, 6, 1);
        let earlier: Vec<DrawnHash> = exclude.iter()
            .map(|i| DrawnHash { drawn_on, person_hash: drawn_hash(&people[i.index(people.len())].id, drawn_on) })
            .collect();
        let mut p = params(size);
        p.one_per_address = one;
        p.exclude_months = Some(12);
        if equal { p.allocation = Allocation::Equal; }
        p.exclude_matching(&people, &earlier);
        let excluded: HashSet<&PersonId> = exclude.iter().map(|i| &people[i.index(people.len())].id).collect();
        let seed = Seed::parse(&s).unwrap_or_else(|_| Seed::parse("x").unwrap());
        match draw(&people, &p, &seed) {
            Ok(d) => {
                prop_assert_eq!(d.selected.len() as u64, size);
                prop_assert_eq!(d.strata.values().map(|s| s.allocated).sum::<u64>(), size);
                let unique: HashSet<&PersonId> = d.selected.iter().collect();
                prop_assert_eq!(unique.len(), d.selected.len());
                let mut addresses = HashSet::new();
                for id in &d.selected {
                    let q = people.iter().find(|q| &q.id == id).unwrap();
                    prop_assert!(q.birth.age_on(p.reference_date) >= 16, "too young: {}", id);
                    prop_assert!(!excluded.contains(id), "excluded: {}", id);
                    prop_assert!(!one || addresses.insert(q.address.key()), "two at {}", q.address.key());
                }
                prop_assert_eq!(draw(&people, &p, &seed).unwrap(), d, "deterministic");
            }
            Err(DrawError::TooLarge { .. } | DrawError::StratumTooSmall { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected error {}", e),
        }
    }
}
