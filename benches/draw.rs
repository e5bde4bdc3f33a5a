//! The draw by lot: 5,000 people from a 250,000-person synthetic register
//! over Eindhoven-like buurten (proportional, minimum age 16, and one per
//! address), against sorting the register by person id in the same run —
//! the least any canonical draw must do.
//!
//!   cargo bench --bench draw
//!
//! Under `cargo test` the same code runs once on a tiny register.

use buurtpeil::area::{AreaCode, Level};
use buurtpeil::lottery::{draw, Address, Allocation, Birth, DrawParams, Gender, Person, PersonId, Postcode, Seed};
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A deterministic register: `n` people over 116 buurten of uneven size,
/// 1–4 people per address, ages 0–95.
fn register(n: usize) -> Vec<Person> {
    let mut rng = ChaCha8Rng::seed_from_u64(250_000);
    let buurten: Vec<AreaCode> = (0..116)
        .map(|i| AreaCode::parse(Level::Buurt, &format!("BU0772{:02}{:02}", 10 + i / 10, 10 * (i % 10))).unwrap())
        .collect();
    let mut people = Vec::with_capacity(n);
    let mut address = 0u32;
    while people.len() < n {
        address += 1;
        let b = ((rng.gen::<f64>().powi(2)) * buurten.len() as f64) as usize;
        let postcode = Postcode::parse(&format!("{}AB", 5600 + address / 500)).unwrap();
        for _ in 0..rng.gen_range(1..=4) {
            let i = people.len();
            people.push(Person {
                id: PersonId::parse(&format!("{:016x}", (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))).unwrap(),
                name: format!("Persoon {i}"),
                address: Address {
                    street: "Dorpsstraat".into(),
                    house_number: address % 500 + 1,
                    addition: String::new(),
                    postcode: postcode.clone(),
                    city: "Eindhoven".into(),
                },
                buurt: buurten[b.min(buurten.len() - 1)].clone(),
                birth: Birth::Year(1930 + rng.gen_range(0..96)),
                gender: Gender::Unknown,
                email: None,
            });
        }
    }
    people.truncate(n);
    // Addresses never span two buurten: give each address its first person's buurt.
    for i in 1..people.len() {
        if people[i].address == people[i - 1].address {
            people[i].buurt = people[i - 1].buurt.clone();
        }
    }
    people
}

fn params(size: u64, one_per_address: bool) -> DrawParams {
    DrawParams {
        size,
        allocation: Allocation::Proportional,
        min_age: 16,
        reference_date: NaiveDate::from_ymd_opt(2027, 1, 31).unwrap(),
        one_per_address,
        exclude_months: None,
        excluded: vec![],
    }
}

fn bench(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    let (n, size) = if full { (250_000, 5_000) } else { (2_000, 50) };
    let people = register(n);
    let seed = Seed::parse("bench").unwrap();
    let mut group = c.benchmark_group(format!("draw/{n}/{size}"));
    group.sample_size(10);
    group.bench_function("baseline_sort_by_id", |b| {
        b.iter(|| {
            let mut refs: Vec<&Person> = people.iter().collect();
            refs.sort_by(|a, b| a.id.cmp(&b.id));
            refs.len()
        })
    });
    group.bench_function("draw_proportional", |b| b.iter(|| draw(&people, &params(size, false), &seed).unwrap()));
    group.bench_function("draw_one_per_address", |b| b.iter(|| draw(&people, &params(size, true), &seed).unwrap()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
