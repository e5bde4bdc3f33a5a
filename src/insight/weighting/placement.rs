//! How a questionnaire places a respondent in a cell: its age band and
//! gender questions, and which of their options place whom. Read once from
//! the current definition, then applied to stored answers (by their
//! choices) and to each response as it is committed.

use std::collections::BTreeMap;

use super::category::{Category, Cell, Variable};
use crate::questionnaire::{Answer, Answers, Definition};

/// The weighting questions of a questionnaire; None from [`Placement::of`]
/// when it does not ask both (then nobody can be placed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    age_band: (String, BTreeMap<String, Category>),
    gender: (String, BTreeMap<String, Category>),
}

impl Placement {
    pub fn of(definition: &Definition) -> Option<Placement> {
        let question =
            |variable| definition.weighting_question(variable).map(|(q, w)| (q.id.to_string(), w.categories.clone()));
        Some(Placement { age_band: question(Variable::AgeBand)?, gender: question(Variable::Gender)? })
    }

    /// The ids of the age band and gender questions.
    pub fn questions(&self) -> (&str, &str) {
        (&self.age_band.0, &self.gender.0)
    }

    /// The cell of the options chosen; None when either places nobody
    /// ("zeg ik liever niet", "anders", or not an option of this version).
    pub fn cell(&self, age_band: &str, gender: &str) -> Option<Cell> {
        let (a, g) = (self.age_band.1.get(age_band)?, self.gender.1.get(gender)?);
        Some(Cell { age_band: *a, gender: *g })
    }

    /// The cell of a response from its answers, as [`Placement::cell`].
    pub fn cell_of(&self, answers: &Answers) -> Option<Cell> {
        let choice = |id: &str| match answers.get(id) {
            Some(Answer::Choice { value, .. }) => Some(value.as_str()),
            _ => None,
        };
        self.cell(choice(&self.age_band.0)?, choice(&self.gender.0)?)
    }
}
