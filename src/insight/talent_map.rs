//! The talent map: per buurt, wijk and gemeente, how many residents offer a
//! kind of skill or want to learn it — the buurt's assets at a glance. The
//! talent scan is identified, but only its two multiple-choice questions
//! (`talenten`, `leren`) are counted, as anonymous counts through the same
//! safe-table computation and disclosure rules as every other result: an
//! area below k, or one whose figures would give such an area away, shows
//! nothing.

use std::collections::BTreeMap;

use super::results::{build_set, RawCounts, ResultSet};
use crate::area::{AreaCode, AreaTree, Level};
use crate::questionnaire::{Published, RawAnswer};
use crate::survey::{IdentifiedResponse, Submission};

/// The questions the map counts: skills residents have, and want to learn.
pub const TALENT_QUESTIONS: [&str; 2] = ["talenten", "leren"];

/// The safe result set of the talent scan's skill questions (all responses,
/// no waves), from its identified responses.
pub fn talent_set(
    tree: &AreaTree,
    current: &Published,
    versions: &[Published],
    responses: &[IdentifiedResponse],
    k: u64,
) -> ResultSet {
    let mut raw = RawCounts::default();
    for r in responses {
        let Some(version) = versions.iter().find(|v| v.id == r.version_id) else { continue };
        let Ok(buurt) = AreaCode::parse(Level::Buurt, &r.buurt) else { continue };
        // Names, contact details and free text are never even read.
        let given: BTreeMap<String, RawAnswer> = TALENT_QUESTIONS
            .iter()
            .filter_map(|q| Some((q.to_string(), RawAnswer::from(r.answers.get(*q)?))))
            .collect();
        let answers = version.definition.checked_leniently(&given);
        raw.add(&Submission::new(version, buurt, answers), r.submitted_on);
    }
    // No population figures: the talent map is never weighted.
    // Professionals only, over identified profiles they may read one by one:
    // counted exactly.
    build_set(tree, current, versions, &raw, &[], k, &BTreeMap::new(), &super::perturbation::PerturbationTable::exact())
}
