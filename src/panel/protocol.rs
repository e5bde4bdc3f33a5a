//! The published protocol of a selection (JSON) and the output folder:
//! `panel.csv`, `probabilities.csv`, `reserves.csv`, `protocol.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::PanelError;
use super::{Algorithm, Pool, Selection, SolveStats};

/// Version of the selection procedure (algorithm, draw, file formats);
/// raised whenever the same inputs could give another result.
pub const ALGORITHM_VERSION: &str = "buurtpeil-panel/1";

/// One panel of the distribution with its probability: the ids of its
/// members when every group has one volunteer, otherwise how many members it
/// takes from each group (see [`Protocol::groups`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProtocolPanel {
    pub probability: f64,
    /// `[group, count]` pairs.
    pub groups: Vec<(usize, u32)>,
}

/// Everything needed to check a selection: inputs' hashes, parameters,
/// the distribution, the drawn panel.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Protocol {
    pub procedure: String,
    pub software: String,
    /// `selection` or `replacement`.
    pub mode: String,
    pub algorithm: Algorithm,
    pub people_sha256: String,
    pub features_sha256: String,
    pub panel_size: u32,
    pub seed: String,
    pub random_generator: String,
    pub one_per_household: Option<Vec<String>>,
    /// For a replacement: the protocol it continues and who dropped out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_protocol_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
    /// Groups of interchangeable volunteers (ids); every member of a group
    /// has the same probability.
    pub groups: Vec<Vec<String>>,
    pub distribution: Vec<ProtocolPanel>,
    /// The drawn panel (ids, in people-file order).
    pub panel: Vec<String>,
    /// Per group with members on the panel, its other members in the drawn
    /// reserve order: `[group, [ids]]`.
    #[serde(default)]
    pub reserves: Vec<(usize, Vec<String>)>,
    pub min_probability: f64,
    pub probabilities_estimated: bool,
    pub seconds: f64,
    pub solver: SolveStats,
}

/// SHA-256 of bytes as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Protocol {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        selection: &Selection,
        pool: &Pool,
        people_bytes: &[u8],
        features_bytes: &[u8],
        size: u32,
        seed: &super::Seed,
        households: Option<Vec<String>>,
        seconds: f64,
    ) -> Self {
        let id = |i: &usize| pool.people[*i].id.clone();
        Protocol {
            procedure: ALGORITHM_VERSION.to_owned(),
            software: format!("buurtpeil {}", env!("CARGO_PKG_VERSION")),
            mode: "selection".to_owned(),
            algorithm: selection.algorithm,
            people_sha256: sha256_hex(people_bytes),
            features_sha256: sha256_hex(features_bytes),
            panel_size: size,
            seed: seed.as_str().to_owned(),
            random_generator: "ChaCha20 (rand_chacha 0.3) keyed with SHA-256 of the seed text".to_owned(),
            one_per_household: households,
            previous_protocol_sha256: None,
            dropped: Vec::new(),
            groups: selection.groups.iter().map(|g| g.iter().map(id).collect()).collect(),
            distribution: selection
                .distribution
                .iter()
                .map(|s| ProtocolPanel { probability: s.probability, groups: s.composition.clone() })
                .collect(),
            panel: selection.panel.iter().map(id).collect(),
            reserves: selection.reserves.iter().map(|(g, r)| (*g, r.iter().map(id).collect())).collect(),
            min_probability: selection.min_probability(),
            probabilities_estimated: selection.algorithm == Algorithm::Legacy,
            seconds,
            solver: selection.stats.clone(),
        }
    }

    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self, PanelError> {
        serde_json::from_slice(bytes)
            .map_err(|e| PanelError::Input(format!("{file} is not a buurtpeil panel protocol: {e}")))
    }

    /// The published files of a selection: `panel.csv` (the panel's rows
    /// of the people file), `probabilities.csv` (id, probability for every
    /// eligible volunteer), `reserves.csv` (id, rank, the members a reserve
    /// can replace) and `protocol.json`.
    pub fn files(&self, selection: &Selection, pool: &Pool) -> SelectionFiles {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["id", "probability"]).expect("in memory");
        for &i in &selection.eligible {
            w.write_record([pool.people[i].id.as_str(), &format!("{:.9}", selection.probabilities[i])])
                .expect("in memory");
        }
        let probabilities_csv = String::from_utf8(w.into_inner().expect("in memory")).expect("utf-8 ids");
        SelectionFiles {
            panel_csv: pool.rows_csv(&selection.panel),
            probabilities_csv,
            reserves_csv: self.reserves_csv(),
            protocol_json: self.to_json(),
        }
    }

    /// `reserves.csv`: `id,rank,replaces` — each reserve, their rank within
    /// their group, and the ids of the group's panel members (space-separated).
    pub fn reserves_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["id", "rank", "replaces"]).expect("in memory");
        for (g, reserves) in &self.reserves {
            let group = self.groups.get(*g).map(Vec::as_slice).unwrap_or_default();
            let replaces: Vec<&str> = group.iter().filter(|id| self.panel.contains(id)).map(String::as_str).collect();
            let replaces = replaces.join(" ");
            for (rank, id) in reserves.iter().enumerate() {
                w.write_record([id.as_str(), &(rank + 1).to_string(), &replaces]).expect("in memory");
            }
        }
        String::from_utf8(w.into_inner().expect("in memory")).expect("utf-8 ids")
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data") + "\n"
    }
}

/// What a selection publishes and keeps, as the CLI writes it to its folder
/// and the council's pages offer it for download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionFiles {
    pub panel_csv: String,
    pub probabilities_csv: String,
    pub reserves_csv: String,
    pub protocol_json: String,
}

impl SelectionFiles {
    /// Writes the files into `dir` (created when missing).
    pub fn write(&self, dir: &Path) -> Result<(), PanelError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| PanelError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        for (name, text) in [
            ("panel.csv", &self.panel_csv),
            ("probabilities.csv", &self.probabilities_csv),
            ("reserves.csv", &self.reserves_csv),
            ("protocol.json", &self.protocol_json),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(io(&path))?;
        }
        Ok(())
    }
}
