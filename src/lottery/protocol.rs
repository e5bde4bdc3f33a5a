//! The published protocol of a draw and its verification: anyone with the
//! register file and the protocol can re-run the draw and compare.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::draw::{draw, Draw, DrawParams, Seed, Stratum, ALGORITHM, ALGORITHM_VERSION};
use super::register::Person;

/// How the register is made canonical before hashing (version 1).
pub const CANONICAL_FORM: &str = "rows sorted by person id (UTF-8 byte order); each row the JSON array \
[person id, buurt code, birth (YYYY or YYYY-MM-DD), postcode (1234AB), house number, addition] \
without spaces, followed by a line feed; SHA-256 of all rows, lower-case hex";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterSummary {
    pub canonical_form: String,
    pub hash: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectionSummary {
    pub count: u64,
    /// SHA-256 of the selected person ids, sorted, each followed by a line feed.
    pub hash: String,
}

/// The protocol of one draw. Serialised as pretty JSON with keys in this
/// order (maps sorted), so the same draw always gives the same text apart
/// from `created_at` and `buurtpeil_version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protocol {
    pub algorithm: String,
    pub algorithm_version: u32,
    pub campaign: String,
    pub drawn_on: NaiveDate,
    pub seed: Seed,
    pub seed_source: String,
    pub parameters: DrawParams,
    pub register: RegisterSummary,
    pub strata: BTreeMap<String, Stratum>,
    pub selection: SelectionSummary,
    pub excluded_found: u64,
    pub buurtpeil_version: String,
    pub created_at: DateTime<Utc>,
}

impl Protocol {
    pub fn new(
        campaign: &str,
        draw: &Draw,
        params: &DrawParams,
        seed: &Seed,
        seed_source: &str,
        created_at: DateTime<Utc>,
    ) -> Protocol {
        Protocol {
            algorithm: ALGORITHM.into(),
            algorithm_version: ALGORITHM_VERSION,
            campaign: campaign.into(),
            // The draw's day in the municipality, like every other date.
            drawn_on: crate::clock::local(created_at).date_naive(),
            seed: seed.clone(),
            seed_source: seed_source.into(),
            parameters: params.clone(),
            register: RegisterSummary {
                canonical_form: CANONICAL_FORM.into(),
                hash: draw.register_hash.clone(),
                size: draw.register_size,
            },
            strata: draw.strata.iter().map(|(code, s)| (code.to_string(), s.clone())).collect(),
            selection: SelectionSummary { count: draw.selected.len() as u64, hash: draw.selection_hash.clone() },
            excluded_found: draw.excluded,
            buurtpeil_version: env!("CARGO_PKG_VERSION").into(),
            created_at,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a protocol serialises") + "\n"
    }

    pub fn from_json(text: &str) -> Result<Protocol, String> {
        serde_json::from_str(text).map_err(|e| format!("not a buurtpeil draw protocol: {e}"))
    }
}

type StratumField = fn(&Stratum) -> Option<u64>;

/// One way in which a re-run differs from the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    Algorithm { expected: String, supported: String },
    RegisterHash { expected: String, found: String },
    RegisterSize { expected: u64, found: u64 },
    Stratum { buurt: String, field: &'static str, expected: Option<u64>, found: Option<u64> },
    SelectionCount { expected: u64, found: u64 },
    SelectionHash { expected: String, found: String },
    DrawFailed(String),
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |v: &Option<u64>| v.map(|n| n.to_string()).unwrap_or_else(|| "absent".into());
        match self {
            Difference::Algorithm { expected, supported } => {
                write!(f, "algorithm: the protocol uses {expected}, this buurtpeil runs {supported}")
            }
            Difference::RegisterHash { expected, found } => {
                write!(f, "register hash: protocol {expected}, register file {found}")
            }
            Difference::RegisterSize { expected, found } => {
                write!(f, "register size: protocol {expected}, register file {found}")
            }
            Difference::Stratum { buurt, field, expected, found } => {
                write!(f, "{buurt} {field}: protocol {}, re-run {}", opt(expected), opt(found))
            }
            Difference::SelectionCount { expected, found } => {
                write!(f, "selected count: protocol {expected}, re-run {found}")
            }
            Difference::SelectionHash { expected, found } => {
                write!(f, "selection hash: protocol {expected}, re-run {found}")
            }
            Difference::DrawFailed(reason) => write!(f, "the draw cannot be re-run: {reason}"),
        }
    }
}

/// The outcome of re-running a draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub register_hash: String,
    pub selection_hash: Option<String>,
    pub differences: Vec<Difference>,
}

impl Verification {
    pub fn is_match(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Re-runs the draw of `protocol` on `people` and lists every difference.
pub fn verify(protocol: &Protocol, people: &[Person]) -> Verification {
    let mut differences = Vec::new();
    let register_hash = super::draw::register_hash(people);
    if protocol.algorithm != ALGORITHM || protocol.algorithm_version != ALGORITHM_VERSION {
        differences.push(Difference::Algorithm {
            expected: format!("{} {}", protocol.algorithm, protocol.algorithm_version),
            supported: format!("{ALGORITHM} {ALGORITHM_VERSION}"),
        });
    }
    if register_hash != protocol.register.hash {
        differences
            .push(Difference::RegisterHash { expected: protocol.register.hash.clone(), found: register_hash.clone() });
    }
    if people.len() as u64 != protocol.register.size {
        differences.push(Difference::RegisterSize { expected: protocol.register.size, found: people.len() as u64 });
    }
    let outcome = draw(people, &protocol.parameters, &protocol.seed);
    let selection_hash = match outcome {
        Err(e) => {
            differences.push(Difference::DrawFailed(e.to_string()));
            None
        }
        Ok(d) => {
            let rerun =
                Protocol::new(&protocol.campaign, &d, &protocol.parameters, &protocol.seed, "", protocol.created_at);
            let buurten: std::collections::BTreeSet<&String> =
                protocol.strata.keys().chain(rerun.strata.keys()).collect();
            for buurt in buurten {
                let (a, b) = (protocol.strata.get(buurt), rerun.strata.get(buurt));
                let fields: [(&'static str, StratumField); 5] = [
                    ("register", |s| Some(s.register)),
                    ("eligible", |s| Some(s.eligible)),
                    ("eligible addresses", |s| s.eligible_addresses),
                    ("allocated", |s| Some(s.allocated)),
                    ("selected", |s| Some(s.selected)),
                ];
                for (field, get) in fields {
                    let (expected, found) = (a.and_then(get), b.and_then(get));
                    if expected != found {
                        differences.push(Difference::Stratum { buurt: buurt.clone(), field, expected, found });
                    }
                }
            }
            if rerun.selection.count != protocol.selection.count {
                differences.push(Difference::SelectionCount {
                    expected: protocol.selection.count,
                    found: rerun.selection.count,
                });
            }
            if rerun.selection.hash != protocol.selection.hash {
                differences.push(Difference::SelectionHash {
                    expected: protocol.selection.hash.clone(),
                    found: rerun.selection.hash.clone(),
                });
            }
            Some(d.selection_hash)
        }
    };
    Verification { register_hash, selection_hash, differences }
}
