use super::leximin::{enumerate_panels, leximin, leximin_over};
use super::model::Instance;
use super::*;

const FEATURES: &str = "feature,value,min,max\n\
gender,f,2,3\ngender,m,2,3\n\
age,young,1,2\nage,middle,1,3\nage,old,1,2\n";

/// 12 volunteers, skewed: many old men, one young woman.
const PEOPLE: &str = "id,gender,age,address\n\
1,f,young,a\n2,f,middle,b\n3,f,middle,c\n4,f,old,d\n5,m,young,e\n6,m,young,f\n\
7,m,middle,g\n8,m,old,h\n9,m,old,i\n10,m,old,j\n11,m,old,k\n12,f,old,l\n";

fn load(features: &str, people: &str, households: &[&str]) -> (Features, Pool) {
    let features = Features::parse("features.csv", features.as_bytes()).unwrap();
    let households: Vec<String> = households.iter().map(|s| s.to_string()).collect();
    let pool = Pool::parse("people.csv", people.as_bytes(), &features, "id", &households).unwrap();
    (features, pool)
}

fn options(size: u32, households: bool) -> SelectOptions {
    SelectOptions {
        size,
        seed: Seed::parse("raadsvergadering 2026-12-01").unwrap(),
        algorithm: Algorithm::Leximin,
        one_per_household: households,
    }
}

fn meets_quotas(features: &Features, pool: &Pool, panel: &[usize]) -> bool {
    features.features.iter().enumerate().all(|(f, feature)| {
        feature.values.iter().enumerate().all(|(v, q)| {
            let n = panel.iter().filter(|&&i| pool.people[i].values[f] == v).count() as u32;
            q.min <= n && n <= q.max
        })
    })
}

#[test]
fn leximin_probabilities_sum_to_k_and_every_panel_meets_the_quotas() {
    let (features, pool) = load(FEATURES, PEOPLE, &[]);
    let s = select(&features, &pool, &options(5, false)).unwrap();
    let total: f64 = s.probabilities.iter().sum();
    assert!((total - 5.0).abs() < 1e-6, "sum {total}");
    let mass: f64 = s.distribution.iter().map(|p| p.probability).sum();
    assert!((mass - 1.0).abs() < 1e-9);
    let everyone: Vec<usize> = (0..pool.people.len()).collect();
    let inst = Instance::build(&features, &pool, &everyone, 5, false, None);
    for share in &s.distribution {
        let mut c = vec![0; inst.types.len()];
        for &(t, n) in &share.composition {
            c[t] = n;
        }
        assert!(inst.is_feasible(&c), "{c:?}");
    }
    assert_eq!(s.panel.len(), 5);
    assert!(meets_quotas(&features, &pool, &s.panel));
    // The one young woman must be on every panel that has ... no: she is the
    // rarest; leximin gives her the largest possible chance, and nobody less.
    assert!(s.min_probability() > 0.2);
}

#[test]
fn column_generation_matches_brute_force_over_all_panels() {
    for (k, households) in [(4, false), (5, false), (6, false), (5, true)] {
        let people = PEOPLE.replace("11,m,old,k", "11,m,old,j").replace("3,f,middle,c", "3,f,middle,b");
        let (features, pool) = load(FEATURES, &people, &["address"]);
        let everyone: Vec<usize> = (0..pool.people.len()).collect();
        let inst = Instance::build(&features, &pool, &everyone, k, households, None);
        let all = enumerate_panels(&inst, 100_000).expect("small");
        assert!(!all.is_empty());
        let exact = leximin_over(&inst, all).unwrap();
        let generated = leximin(&inst).unwrap();
        for t in 0..inst.types.len() {
            let (a, b) = (exact.type_probability[t], generated.type_probability[t]);
            assert!((a - b).abs() < 1e-6, "k={k} households={households} type {t}: exact {a}, generated {b}");
        }
    }
}

#[test]
fn identical_volunteers_get_identical_probabilities() {
    let (features, pool) = load(FEATURES, PEOPLE, &[]);
    let s = select(&features, &pool, &options(5, false)).unwrap();
    for a in 0..pool.people.len() {
        for b in 0..pool.people.len() {
            if pool.people[a].values == pool.people[b].values {
                assert_eq!(s.probabilities[a].to_bits(), s.probabilities[b].to_bits());
            }
        }
    }
    // 8, 9, 10, 11 are all old men.
    assert_eq!(s.groups.iter().filter(|g| g.len() == 4).count(), 1);
}

#[test]
fn the_draw_is_determined_by_the_seed() {
    let (features, pool) = load(FEATURES, PEOPLE, &[]);
    let a = select(&features, &pool, &options(5, false)).unwrap();
    let b = select(&features, &pool, &options(5, false)).unwrap();
    assert_eq!(a.panel, b.panel);
    let panels: std::collections::BTreeSet<Vec<usize>> = (0..20)
        .map(|i| {
            let mut o = options(5, false);
            o.seed = Seed::parse(&format!("seed {i}")).unwrap();
            select(&features, &pool, &o).unwrap().panel
        })
        .collect();
    assert!(panels.len() > 1, "different seeds draw different panels");
    let mut rng = Seed::parse("abc").unwrap().rng();
    let mut again = Seed::parse("abc").unwrap().rng();
    assert_eq!(rng.gen::<u64>(), again.gen::<u64>());
}

#[test]
fn one_per_household_holds_on_every_panel() {
    // 2 and 3 share address b; 10 and 11 share j.
    let people = PEOPLE.replace("11,m,old,k", "11,m,old,j").replace("3,f,middle,c", "3,f,middle,b");
    let (features, pool) = load(FEATURES, &people, &["address"]);
    let s = select(&features, &pool, &options(5, true)).unwrap();
    let inst = Instance::build(&features, &pool, &(0..12).collect::<Vec<_>>(), 5, true, None);
    assert_eq!(inst.households.len(), 2);
    for share in &s.distribution {
        let members: Vec<usize> = share.composition.iter().flat_map(|&(t, _)| s.groups[t].clone()).collect();
        for pair in [(1, 2), (9, 10)] {
            let both =
                share.composition.iter().filter(|&&(t, _)| s.groups[t] == vec![pair.0] || s.groups[t] == vec![pair.1]);
            assert!(both.count() <= 1, "{members:?}");
        }
    }
    let total: f64 = s.probabilities.iter().sum();
    assert!((total - 5.0).abs() < 1e-6);
}

#[test]
fn infeasible_quotas_are_explained() {
    let features = FEATURES.replace("gender,f,2,3", "gender,f,5,5");
    let (features, pool) = load(&features, PEOPLE, &[]);
    let err = select(&features, &pool, &options(5, false)).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, PanelError::Infeasible(_)), "{text}");
    assert!(text.contains("gender = f") || text.contains("gender = m"), "{text}");
    assert!(text.contains("short by") || text.contains("over by"), "{text}");
    // Too few young volunteers.
    let features = FEATURES.replace("age,young,1,2", "age,young,4,4");
    let (features, pool) = load(&features, PEOPLE, &[]);
    let text = select(&features, &pool, &options(5, false)).unwrap_err().to_string();
    assert!(text.contains("age = young: at least 4 needed, but at most 3 possible"), "{text}");
    assert!(text.contains("short by 1"), "{text}");
}

#[test]
fn csv_errors_name_file_line_and_field() {
    let err = |features: &str, people: &str| {
        let f = match Features::parse("features.csv", features.as_bytes()) {
            Ok(f) => f,
            Err(e) => return e.to_string(),
        };
        Pool::parse("people.csv", people.as_bytes(), &f, "id", &[]).unwrap_err().to_string()
    };
    let bad_header = err("feature,val,min,max\ngender,f,1,2\n", PEOPLE);
    assert!(bad_header.starts_with("features.csv, line 1, field 'value'"), "{bad_header}");
    let min_max = err("feature,value,min,max\ngender,f,1,2\ngender,m,3,2\n", PEOPLE);
    assert!(min_max.starts_with("features.csv, line 3, field 'min'") && min_max.contains("more than max"), "{min_max}");
    let not_number = err("feature,value,min,max\ngender,f,one,2\n", PEOPLE);
    assert!(not_number.contains("line 2, field 'min': 'one' is not a whole number"), "{not_number}");
    let missing_value = err(FEATURES, "id,gender,age\n1,f,young\n2,,old\n");
    assert!(missing_value.starts_with("people.csv, line 3, field 'gender': is empty"), "{missing_value}");
    let unknown = err(FEATURES, "id,gender,age\n1,f,young\n2,x,old\n");
    assert!(unknown.starts_with("people.csv, line 3, field 'gender': 'x' is not a value of gender"), "{unknown}");
    let no_column = err(FEATURES, "id,gender\n1,f\n");
    assert!(no_column.starts_with("people.csv, line 1, field 'age'"), "{no_column}");
    let duplicate = err(FEATURES, "id,gender,age\n1,f,young\n1,m,old\n");
    assert!(duplicate.contains("line 3") && duplicate.contains("also appears on line 2"), "{duplicate}");
}

#[test]
fn features_round_trip_with_flex_columns() {
    let text = "feature,value,min,max,min_flex,max_flex\ngender,f,2,3,1,4\ngender,m,2,3,,\n";
    let f = Features::parse("f.csv", text.as_bytes()).unwrap();
    assert_eq!(f.features[0].values[0].min_flex, Some(1));
    assert_eq!(Features::parse("f.csv", f.to_csv().as_bytes()).unwrap(), f);
}

#[test]
fn replacements_keep_the_quotas_and_the_remaining_members() {
    let (features, pool) = load(FEATURES, PEOPLE, &[]);
    let first = select(&features, &pool, &options(5, false)).unwrap();
    let ids: Vec<String> = first.panel.iter().map(|&i| pool.people[i].id.clone()).collect();
    let dropped = vec![ids[0].clone(), ids[3].clone()];
    let mut o = options(5, false);
    o.seed = Seed::parse("replacement 1").unwrap();
    let second = replace(&features, &pool, &ids, &dropped, &o).unwrap();
    assert_eq!(second.panel.len(), 5);
    assert!(meets_quotas(&features, &pool, &second.panel));
    for id in &ids {
        let i = pool.people.iter().position(|p| &p.id == id).unwrap();
        assert_eq!(second.panel.contains(&i), !dropped.contains(id));
    }
    // Only non-selected volunteers are candidates; their chances sum to 2.
    let total: f64 = second.eligible.iter().map(|&i| second.probabilities[i]).sum();
    assert!((total - 2.0).abs() < 1e-6);
    assert!(second.eligible.iter().all(|i| !first.panel.contains(i)));
    let unknown = replace(&features, &pool, &ids, &["nobody".into()], &o).unwrap_err();
    assert!(unknown.to_string().contains("nobody is not a member of the panel"));
}

#[test]
fn legacy_meets_the_quotas() {
    let (features, pool) = load(FEATURES, PEOPLE, &[]);
    let mut o = options(5, false);
    o.algorithm = Algorithm::Legacy;
    let s = select(&features, &pool, &o).unwrap();
    assert_eq!(s.panel.len(), 5);
    assert!(meets_quotas(&features, &pool, &s.panel));
    let total: f64 = s.probabilities.iter().sum();
    assert!((total - 5.0).abs() < 1e-6);
}

#[test]
fn reserves_share_the_features_of_whom_they_replace_and_are_drawn_reproducibly() {
    // Many identical old men: the panel takes some, the rest are reserves.
    let (features, pool) = load(FEATURES, PEOPLE, &[]);
    let s = select(&features, &pool, &options(5, false)).unwrap();
    let again = select(&features, &pool, &options(5, false)).unwrap();
    assert_eq!(s.reserves, again.reserves, "same inputs, same reserves");
    assert!(!s.reserves.is_empty());
    for (g, reserves) in &s.reserves {
        let group = &s.groups[*g];
        let on_panel: Vec<usize> = group.iter().copied().filter(|i| s.panel.contains(i)).collect();
        assert!(!on_panel.is_empty(), "reserves only for groups on the panel");
        assert_eq!(on_panel.len() + reserves.len(), group.len(), "every other member is a reserve");
        for &r in reserves {
            assert!(group.contains(&r) && !s.panel.contains(&r));
            // Swapping any member of the group for the reserve keeps every quota.
            for &m in &on_panel {
                let swapped: Vec<usize> = s.panel.iter().map(|&i| if i == m { r } else { i }).collect();
                assert!(meets_quotas(&features, &pool, &swapped));
            }
        }
    }
    // Every non-selected member of a group is first reserve equally often.
    let mut first = std::collections::HashMap::<usize, usize>::new();
    let runs = 600;
    for n in 0..runs {
        let o = SelectOptions { seed: Seed::parse(&format!("zaad {n}")).unwrap(), ..options(5, false) };
        let s = select(&features, &pool, &o).unwrap();
        for (g, reserves) in &s.reserves {
            if s.groups[*g].len() >= 4 {
                *first.entry(reserves[0]).or_default() += 1;
            }
        }
    }
    let (lo, hi) = (first.values().min().unwrap(), first.values().max().unwrap());
    assert!(first.len() >= 4 && *hi < 2 * *lo, "first reserves spread evenly: {first:?}");
}

#[test]
fn households_sharing_an_address_have_no_reserves_within_the_household() {
    let people = PEOPLE.replace("11,m,old,k", "11,m,old,j");
    let (features, pool) = load(FEATURES, &people, &["address"]);
    let s = select(&features, &pool, &options(5, true)).unwrap();
    // Volunteers 10 and 11 share an address: each is a group of one, so
    // neither is anyone's reserve.
    let (ten, eleven) = (9usize, 10usize);
    for (g, _) in &s.reserves {
        assert!(s.groups[*g].len() > 1 && !s.groups[*g].contains(&ten) && !s.groups[*g].contains(&eleven));
    }
}

/// Random pools of 3 × 2 × 2 feature combinations and random quotas: the
/// column generation (MIP plus swap columns) reaches the exact leximin over
/// every feasible panel, and twice the same input gives the same result.
mod random_pools {
    use proptest::prelude::*;

    use super::*;

    fn pool(people: &[(usize, usize, usize)], quotas: &[(u32, u32)]) -> (Features, Pool) {
        let mut features = String::from("feature,value,min,max\n");
        let names = [("a", 3), ("b", 2), ("c", 2)];
        let mut i = 0;
        for (f, n) in names {
            for v in 0..n {
                let (lo, hi) = quotas[i];
                features.push_str(&format!("{f},v{v},{lo},{hi}\n"));
                i += 1;
            }
        }
        let mut csv = String::from("id,a,b,c\n");
        for (i, (a, b, c)) in people.iter().enumerate() {
            csv.push_str(&format!("p{i},v{a},v{b},v{c}\n"));
        }
        load(&features, &csv, &[])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn column_generation_is_exact_and_deterministic(
            people in prop::collection::vec((0usize..3, 0usize..2, 0usize..2), 8..20),
            k in 3u32..7,
            quotas in prop::collection::vec((0u32..3, 1u32..4), 7),
        ) {
            let quotas: Vec<(u32, u32)> = quotas.iter().map(|&(lo, extra)| (lo, lo + extra)).collect();
            let (features, pool) = pool(&people, &quotas);
            let everyone: Vec<usize> = (0..pool.people.len()).collect();
            let inst = Instance::build(&features, &pool, &everyone, k, false, None);
            let all = enumerate_panels(&inst, 100_000).expect("small");
            prop_assume!(!all.is_empty());
            let exact = leximin_over(&inst, all).unwrap();
            let generated = leximin(&inst).unwrap();
            for t in 0..inst.types.len() {
                let (a, b) = (exact.type_probability[t], generated.type_probability[t]);
                prop_assert!((a - b).abs() < 1e-6, "type {}: exact {}, generated {}", t, a, b);
            }
            let again = leximin(&inst).unwrap();
            prop_assert_eq!(&generated.panels, &again.panels);
            for (panel, _) in &generated.panels {
                prop_assert!(inst.is_feasible(panel));
            }
        }
    }
}
