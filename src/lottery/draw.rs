//! The stratified draw: who is eligible, how many per buurt, and which
//! people, from a random stream that anyone can re-create from the published
//! protocol. Every step is specified in `docs/lottery.md`; changing any of it
//! changes `ALGORITHM_VERSION`.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{Months, NaiveDate};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::register::{Person, PersonId};
use crate::area::AreaCode;

pub const ALGORITHM: &str = "buurtpeil-stratified-draw";
pub const ALGORITHM_VERSION: u32 = 1;

/// The text that seeds the draw: chosen in public, 1–1000 characters without
/// control characters (kept exactly as typed, apart from outer spaces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seed(String);

impl Seed {
    pub fn parse(raw: &str) -> Result<Seed, DrawError> {
        let s = raw.trim();
        if s.is_empty() || s.chars().count() > 1000 || s.chars().any(char::is_control) {
            return Err(DrawError::BadSeed);
        }
        Ok(Seed(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How the sample size is divided over the buurten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum Allocation {
    /// In proportion to each buurt's eligible population, by largest remainder.
    Proportional,
    /// The same number per buurt with eligible people; the remainder by
    /// buurt code.
    Equal,
    /// The number given per buurt (buurten not listed get none).
    Explicit { counts: BTreeMap<String, u64> },
}

/// An earlier selection: SHA-256 of the person id with the draw date (see
/// `drawn_hash`). Kept after a campaign is purged, so people drawn recently
/// can be excluded without keeping who they were.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DrawnHash {
    pub drawn_on: NaiveDate,
    pub person_hash: String,
}

/// `hex(SHA-256(person id ‖ 0x00 ‖ YYYY-MM-DD))`.
pub fn drawn_hash(id: &PersonId, drawn_on: NaiveDate) -> String {
    let mut h = Sha256::new();
    h.update(id.as_str().as_bytes());
    h.update([0u8]);
    h.update(drawn_on.format("%Y-%m-%d").to_string().as_bytes());
    hex::encode(h.finalize())
}

/// Everything that decides a draw besides the register and the seed. Its
/// compact JSON (fields in this order) enters the seed of the random stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawParams {
    pub size: u64,
    pub allocation: Allocation,
    /// Minimum age in whole years on `reference_date` (0: none).
    pub min_age: u32,
    pub reference_date: NaiveDate,
    pub one_per_address: bool,
    /// Exclude people drawn on or after `reference_date` minus this many
    /// months (None: no exclusion).
    pub exclude_months: Option<u32>,
    /// The earlier selections that match people of this register and fall in
    /// the window: exactly those people are excluded. Sorted.
    pub excluded: Vec<DrawnHash>,
}

impl DrawParams {
    /// The earliest draw date that still excludes.
    pub fn exclude_since(&self) -> Option<NaiveDate> {
        self.exclude_months.map(|m| self.reference_date.checked_sub_months(Months::new(m)).unwrap_or(NaiveDate::MIN))
    }

    /// Fills `excluded` with those of `earlier` that fall in the window and
    /// belong to someone in `people`.
    pub fn exclude_matching(&mut self, people: &[Person], earlier: &[DrawnHash]) {
        self.excluded.clear();
        let Some(since) = self.exclude_since() else { return };
        let in_window: HashSet<&DrawnHash> = earlier.iter().filter(|d| d.drawn_on >= since).collect();
        let dates: BTreeSet<NaiveDate> = in_window.iter().map(|d| d.drawn_on).collect();
        let mut found = BTreeSet::new();
        for p in people {
            for &date in &dates {
                let d = DrawnHash { drawn_on: date, person_hash: drawn_hash(&p.id, date) };
                if in_window.contains(&d) {
                    found.insert(d);
                }
            }
        }
        self.excluded = found.into_iter().collect();
    }

    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("parameters serialise")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    #[error("the seed is empty, longer than 1000 characters or holds control characters")]
    BadSeed,
    #[error("the register holds no people")]
    EmptyRegister,
    #[error("person id {0} appears twice in the register")]
    DuplicateId(PersonId),
    #[error("address {address} lies in two buurten ({first} and {second})")]
    AddressInTwoBuurten { address: String, first: AreaCode, second: AreaCode },
    #[error("the sample size must be at least 1")]
    ZeroSize,
    #[error("the sample size {size} is larger than the eligible {unit} ({eligible})")]
    TooLarge { size: u64, eligible: u64, unit: &'static str },
    #[error("the allocation file names {0}, which has no one in the register; remove it or check the code")]
    UnknownBuurt(String),
    #[error("the allocation file asks {asked} in total, but --size is {size}; make them agree")]
    AllocationSum { asked: u64, size: u64 },
    #[error("the allocation asks {asked} from {buurt}, which has only {eligible} eligible {unit}")]
    StratumTooSmall { buurt: AreaCode, asked: u64, eligible: u64, unit: &'static str },
}

/// One buurt of a draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stratum {
    /// People of the buurt in the register.
    pub register: u64,
    /// Of them, eligible (old enough, not excluded).
    pub eligible: u64,
    /// Addresses with at least one eligible person (when one per address).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub eligible_addresses: Option<u64>,
    pub allocated: u64,
    /// Drawn (equals `allocated` in a complete draw; re-counted on verify).
    pub selected: u64,
}

/// The outcome of a draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draw {
    pub register_hash: String,
    pub register_size: u64,
    pub strata: BTreeMap<AreaCode, Stratum>,
    /// Selected people in the order drawn (stratum by stratum).
    pub selected: Vec<PersonId>,
    pub selection_hash: String,
    /// Excluded people actually found in the register.
    pub excluded: u64,
}

/// The canonical register (see docs/lottery.md): the rows sorted by person
/// id, each `[id, buurt, birth, postcode, house number, addition]` as compact
/// JSON and a line feed.
pub fn canonical_register(people: &[Person]) -> Vec<u8> {
    let mut sorted: Vec<&Person> = people.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = Vec::with_capacity(people.len() * 64);
    for p in sorted {
        let row = [
            p.id.as_str().to_owned(),
            p.buurt.as_str().to_owned(),
            p.birth.canonical(),
            p.address.postcode.as_str().to_owned(),
            p.address.house_number.to_string(),
            p.address.addition.clone(),
        ];
        serde_json::to_writer(&mut out, &row).expect("rows serialise");
        out.push(b'\n');
    }
    out
}

pub fn register_hash(people: &[Person]) -> String {
    hex::encode(Sha256::digest(canonical_register(people)))
}

/// SHA-256 of the selected ids sorted, each followed by a line feed.
pub fn selection_hash(selected: &[PersonId]) -> String {
    let mut sorted: Vec<&PersonId> = selected.iter().collect();
    sorted.sort();
    let mut h = Sha256::new();
    for id in sorted {
        h.update(id.as_str().as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The 32-byte key of the random stream:
/// SHA-256(algorithm ‖ 0 ‖ version ‖ 0 ‖ seed ‖ 0 ‖ register hash ‖ 0 ‖ parameters JSON).
pub fn stream_key(seed: &Seed, register_hash: &str, params: &DrawParams) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [
        ALGORITHM.as_bytes(),
        ALGORITHM_VERSION.to_string().as_bytes(),
        seed.as_str().as_bytes(),
        register_hash.as_bytes(),
        params.canonical_json().as_bytes(),
    ] {
        h.update(part);
        h.update([0u8]);
    }
    h.finalize().into()
}

/// The random stream: ChaCha20 (20 rounds, stream 0, counter from 0) keyed
/// with `stream_key`; numbers below `n` by rejection, never by a library's
/// own sampling, so any implementation of ChaCha20 gets the same numbers.
pub struct Stream(ChaCha20Rng);

impl Stream {
    pub fn new(key: [u8; 32]) -> Stream {
        Stream(ChaCha20Rng::from_seed(key))
    }

    /// A uniform number in `0..n` (n ≥ 1): take 64-bit words (two 32-bit
    /// outputs, low first) until one is below the largest multiple of n that
    /// fits in 2^64, and return it modulo n.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let reject_from = u64::MAX - (u64::MAX % n + 1) % n; // accept x ≤ reject_from
        loop {
            let x = self.0.next_u64();
            if x <= reject_from {
                return x % n;
            }
        }
    }

    /// Partial Fisher–Yates: moves a uniform random k-subset to the front of
    /// `items`, in the order drawn.
    pub fn choose<T>(&mut self, items: &mut [T], k: usize) {
        let m = items.len();
        for i in 0..k.min(m) {
            let j = i + self.below((m - i) as u64) as usize;
            items.swap(i, j);
        }
    }
}

/// Splits `size` over strata with the given weights: floors of the exact
/// quotas, then one more for the largest remainders (ties: lower code
/// first). The result always sums to `size` when the weights sum to > 0.
pub fn largest_remainder(size: u64, weights: &BTreeMap<AreaCode, u64>) -> BTreeMap<AreaCode, u64> {
    let total: u128 = weights.values().map(|&w| w as u128).sum();
    if total == 0 {
        return weights.keys().map(|k| (k.clone(), 0)).collect();
    }
    let mut out = BTreeMap::new();
    let mut remainders = Vec::new();
    let mut given = 0u64;
    for (code, &w) in weights {
        let exact = size as u128 * w as u128;
        let floor = (exact / total) as u64;
        given += floor;
        out.insert(code.clone(), floor);
        remainders.push((exact % total, code));
    }
    // Largest remainder first; BTreeMap order made equal ones code-ordered,
    // and the sort is stable.
    remainders.sort_by_key(|r| std::cmp::Reverse(r.0));
    for (_, code) in remainders.into_iter().take((size - given) as usize) {
        *out.get_mut(code).expect("known stratum") += 1;
    }
    out
}

/// Draws the sample. Same register, parameters and seed: same selection,
/// on every machine.
pub fn draw(people: &[Person], params: &DrawParams, seed: &Seed) -> Result<Draw, DrawError> {
    if people.is_empty() {
        return Err(DrawError::EmptyRegister);
    }
    if params.size == 0 {
        return Err(DrawError::ZeroSize);
    }
    let mut sorted: Vec<&Person> = people.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(w) = sorted.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(DrawError::DuplicateId(w[0].id.clone()));
    }
    let mut address_buurt: std::collections::HashMap<String, &AreaCode> = std::collections::HashMap::new();
    for p in &sorted {
        let key = p.address.key();
        match address_buurt.get(&key) {
            Some(&b) if *b != p.buurt => {
                return Err(DrawError::AddressInTwoBuurten {
                    address: key.replace('|', " "),
                    first: b.clone(),
                    second: p.buurt.clone(),
                })
            }
            Some(_) => {}
            None => {
                address_buurt.insert(key, &p.buurt);
            }
        }
    }
    let register_hash = register_hash(people);

    // Eligibility, per stratum, in canonical order.
    let excluded: HashSet<(&str, NaiveDate)> =
        params.excluded.iter().map(|d| (d.person_hash.as_str(), d.drawn_on)).collect();
    let dates: BTreeSet<NaiveDate> = params.excluded.iter().map(|d| d.drawn_on).collect();
    let mut strata: BTreeMap<AreaCode, Stratum> = BTreeMap::new();
    let mut eligible: BTreeMap<AreaCode, Vec<&Person>> = BTreeMap::new();
    let mut excluded_found = 0;
    for p in &sorted {
        let s = strata.entry(p.buurt.clone()).or_insert(Stratum {
            register: 0,
            eligible: 0,
            eligible_addresses: None,
            allocated: 0,
            selected: 0,
        });
        s.register += 1;
        let list = eligible.entry(p.buurt.clone()).or_default();
        if params.min_age > 0 && p.birth.age_on(params.reference_date) < params.min_age as i32 {
            continue;
        }
        if dates.iter().any(|&d| excluded.contains(&(drawn_hash(&p.id, d).as_str(), d))) {
            excluded_found += 1;
            continue;
        }
        s.eligible += 1;
        list.push(p);
    }
    // Addresses per stratum (sorted by key), each with its eligible people
    // in id order.
    let mut addresses: BTreeMap<AreaCode, Vec<(String, Vec<&Person>)>> = BTreeMap::new();
    if params.one_per_address {
        for (code, list) in &eligible {
            let mut by_key: BTreeMap<String, Vec<&Person>> = BTreeMap::new();
            for p in list {
                by_key.entry(p.address.key()).or_default().push(p);
            }
            strata.get_mut(code).expect("stratum").eligible_addresses = Some(by_key.len() as u64);
            addresses.insert(code.clone(), by_key.into_iter().collect());
        }
    }
    let unit = if params.one_per_address { "addresses" } else { "people" };
    let capacity = |s: &Stratum| s.eligible_addresses.unwrap_or(s.eligible);
    let total_capacity: u64 = strata.values().map(capacity).sum();
    if params.size > total_capacity {
        return Err(DrawError::TooLarge { size: params.size, eligible: total_capacity, unit });
    }

    let allocation: BTreeMap<AreaCode, u64> = match &params.allocation {
        Allocation::Proportional => {
            largest_remainder(params.size, &strata.iter().map(|(c, s)| (c.clone(), s.eligible)).collect())
        }
        Allocation::Equal => {
            let weights = strata.iter().map(|(c, s)| (c.clone(), u64::from(capacity(s) > 0))).collect();
            largest_remainder(params.size, &weights)
        }
        Allocation::Explicit { counts } => {
            let mut out: BTreeMap<AreaCode, u64> = strata.keys().map(|c| (c.clone(), 0)).collect();
            for (code, &n) in counts {
                match out.iter_mut().find(|(c, _)| c.as_str() == code) {
                    Some((_, slot)) => *slot = n,
                    None if n == 0 => {}
                    None => return Err(DrawError::UnknownBuurt(code.clone())),
                }
            }
            let asked: u64 = counts.values().fold(0u64, |a, &n| a.saturating_add(n));
            if asked != params.size {
                return Err(DrawError::AllocationSum { asked, size: params.size });
            }
            out
        }
    };
    for (code, &n) in &allocation {
        let s = strata.get_mut(code).expect("stratum");
        if n > capacity(s) {
            return Err(DrawError::StratumTooSmall { buurt: code.clone(), asked: n, eligible: capacity(s), unit });
        }
        s.allocated = n;
    }

    // One stream, strata in code order.
    let mut stream = Stream::new(stream_key(seed, &register_hash, params));
    let mut selected = Vec::with_capacity(params.size as usize);
    for (code, &k) in &allocation {
        strata.get_mut(code).expect("stratum").selected = k;
        let k = k as usize;
        if params.one_per_address {
            let list = addresses.get_mut(code).expect("stratum");
            stream.choose(list, k);
            for (_, residents) in &list[..k] {
                let i = stream.below(residents.len() as u64) as usize;
                selected.push(residents[i].id.clone());
            }
        } else {
            let list = eligible.get_mut(code).expect("stratum");
            stream.choose(list, k);
            selected.extend(list[..k].iter().map(|p| p.id.clone()));
        }
    }
    let selection_hash = selection_hash(&selected);
    Ok(Draw {
        register_hash,
        register_size: people.len() as u64,
        strata,
        selected,
        selection_hash,
        excluded: excluded_found,
    })
}
