//! The protocol of a selection as it may be published: every volunteer id
//! replaced by a pseudonym that reveals neither the person nor the order in
//! which they signed up, and nothing about the features of a group.
//!
//! Why: the ids of a people file made from sign-ups are database row ids in
//! order of signing up, and the council knows whose they are. A pseudonym is
//! `v-` and the first 10 hex digits of SHA-256(key ‖ 0x00 ‖ id), with a random
//! key kept with the selection (a replacement keeps its selection's key, so
//! a volunteer has one pseudonym per campaign). Groups and the distribution
//! are published — anyone can check the probabilities and the draw — but not
//! which feature values a group has, so a member's answers cannot be read
//! from the publication.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::protocol::{Protocol, ProtocolPanel};
use super::Algorithm;

/// A random key for pseudonyms (64 hex digits).
pub fn new_pseudonym_key() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

pub fn pseudonym(key: &str, id: &str) -> String {
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    h.update([0u8]);
    h.update(id.as_bytes());
    format!("v-{}", &hex::encode(h.finalize())[..10])
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicProbability {
    pub volunteer: String,
    pub probability: f64,
}

/// What is published of one selection or replacement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicSelection {
    pub procedure: String,
    pub software: String,
    pub mode: String,
    pub algorithm: Algorithm,
    pub people_sha256: String,
    pub features_sha256: String,
    /// The quotas: `feature,value,min,max` rows as given.
    pub quotas: String,
    pub panel_size: u32,
    pub seed: String,
    pub random_generator: String,
    pub one_per_household: bool,
    pub pseudonyms: String,
    /// Groups of interchangeable volunteers, each in people-file order (the
    /// order the draw shuffles in).
    pub groups: Vec<Vec<String>>,
    pub distribution: Vec<ProtocolPanel>,
    /// The drawn panel, sorted by pseudonym.
    pub panel: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
    pub min_probability: f64,
    pub probabilities_estimated: bool,
    /// Every volunteer who could be chosen, sorted by pseudonym.
    pub probabilities: Vec<PublicProbability>,
}

pub const PSEUDONYMS: &str = "v- and the first 10 hex digits of SHA-256(secret key, 0x00, volunteer id); \
the key is not published, so pseudonyms cannot be traced to a sign-up";

impl PublicSelection {
    /// `probabilities_csv`: the `id,probability` file of the selection.
    pub fn new(protocol: &Protocol, probabilities_csv: &str, quotas: &str, key: &str) -> PublicSelection {
        let p = |id: &String| pseudonym(key, id);
        let mut panel: Vec<String> = protocol.panel.iter().map(p).collect();
        panel.sort();
        let mut probabilities: Vec<PublicProbability> = csv::Reader::from_reader(probabilities_csv.as_bytes())
            .records()
            .flatten()
            .filter_map(|r| {
                let probability = r.get(1)?.parse().ok()?;
                Some(PublicProbability { volunteer: pseudonym(key, r.get(0)?), probability })
            })
            .collect();
        probabilities.sort_by(|a, b| a.volunteer.cmp(&b.volunteer));
        PublicSelection {
            procedure: protocol.procedure.clone(),
            software: protocol.software.clone(),
            mode: protocol.mode.clone(),
            algorithm: protocol.algorithm,
            people_sha256: protocol.people_sha256.clone(),
            features_sha256: protocol.features_sha256.clone(),
            quotas: quotas.to_owned(),
            panel_size: protocol.panel_size,
            seed: protocol.seed.clone(),
            random_generator: protocol.random_generator.clone(),
            one_per_household: protocol.one_per_household.is_some(),
            pseudonyms: PSEUDONYMS.to_owned(),
            groups: protocol.groups.iter().map(|g| g.iter().map(p).collect()).collect(),
            distribution: protocol.distribution.clone(),
            panel,
            dropped: protocol.dropped.iter().map(p).collect(),
            min_probability: protocol.min_probability,
            probabilities_estimated: protocol.probabilities_estimated,
            probabilities,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data") + "\n"
    }

    /// How many volunteers have each probability (rounded to 4 decimals),
    /// for a summary table.
    pub fn probability_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for p in &self.probabilities {
            *counts.entry(format!("{:.4}", p.probability)).or_insert(0) += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_depend_on_the_key_and_hide_the_id() {
        let (a, b) = (new_pseudonym_key(), new_pseudonym_key());
        assert_ne!(a, b);
        assert_eq!(pseudonym(&a, "17"), pseudonym(&a, "17"));
        assert_ne!(pseudonym(&a, "17"), pseudonym(&b, "17"));
        assert_ne!(pseudonym(&a, "17"), pseudonym(&a, "18"));
        assert_eq!(pseudonym(&a, "17").len(), 12);
    }
}
