//! The variables respondents are weighted on and their categories: a closed
//! list, so a category in a margin or a questionnaire cannot be misspelt.

use std::fmt;

use serde::Serialize;

/// A weighting variable. The categories are those of the CBS Kerncijfers
/// wijken en buurten, for the population of 15 years and older.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Variable {
    AgeBand,
    Gender,
}

impl Variable {
    /// Every variable, in the order cells list their categories.
    pub const ALL: [Variable; 2] = [Variable::AgeBand, Variable::Gender];

    pub fn as_str(self) -> &'static str {
        match self {
            Variable::AgeBand => "age_band",
            Variable::Gender => "gender",
        }
    }

    pub fn parse(s: &str) -> Option<Variable> {
        Variable::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The categories in their natural order; neighbours in this order are
    /// what a category without respondents is merged with.
    pub fn categories(self) -> &'static [&'static str] {
        match self {
            // CBS bands a_15_24, a_25_44, a_45_64, a_65_oo.
            Variable::AgeBand => &["15_24", "25_44", "45_64", "65_plus"],
            // CBS a_man, a_vrouw.
            Variable::Gender => &["man", "vrouw"],
        }
    }

    pub fn category(self, s: &str) -> Option<Category> {
        self.categories().iter().position(|c| *c == s).map(|i| Category { variable: self, index: i as u8 })
    }
}

impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One category of one variable, such as `age_band 25_44`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Category {
    variable: Variable,
    index: u8,
}

impl Category {
    pub fn variable(self) -> Variable {
        self.variable
    }

    /// Position in [`Variable::categories`].
    pub fn index(self) -> usize {
        usize::from(self.index)
    }

    pub fn as_str(self) -> &'static str {
        self.variable.categories()[self.index()]
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.variable, self.as_str())
    }
}

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A respondent cell: one category of every variable in [`Variable::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Cell {
    pub age_band: Category,
    pub gender: Category,
}

impl Cell {
    /// A cell from an age band and a gender; None if either is not a known
    /// category of its variable.
    pub fn parse(age_band: &str, gender: &str) -> Option<Cell> {
        Some(Cell { age_band: Variable::AgeBand.category(age_band)?, gender: Variable::Gender.category(gender)? })
    }

    /// How many cells there are: every age band with every gender.
    pub const COUNT: usize = 8;

    /// The cell's position among all [`Cell::COUNT`], for counts kept in
    /// an array.
    pub fn index(&self) -> usize {
        self.age_band.index() * Variable::Gender.categories().len() + self.gender.index()
    }

    /// The cell at a position of [`Cell::index`].
    pub fn from_index(i: usize) -> Option<Cell> {
        let genders = Variable::Gender.categories();
        Cell::parse(Variable::AgeBand.categories().get(i / genders.len())?, genders[i % genders.len()])
    }

    /// The cell as stored on an answer row (`answers.cell`): its index.
    pub fn column(self) -> i16 {
        self.index() as i16
    }

    /// The cell's category of a variable.
    pub fn category(&self, variable: Variable) -> Category {
        match variable {
            Variable::AgeBand => self.age_band,
            Variable::Gender => self.gender,
        }
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} × {}", self.age_band.as_str(), self.gender.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_parse_and_print() {
        let c = Variable::AgeBand.category("45_64").unwrap();
        assert_eq!((c.index(), c.as_str(), c.to_string()), (2, "45_64", "age_band 45_64".to_string()));
        assert!(Variable::AgeBand.category("0_14").is_none());
        assert!(Variable::Gender.category("anders").is_none());
        assert_eq!(Variable::parse("gender"), Some(Variable::Gender));
        assert_eq!(Cell::parse("65_plus", "vrouw").unwrap().to_string(), "65_plus × vrouw");
        for i in 0..Cell::COUNT {
            assert_eq!(Cell::from_index(i).unwrap().index(), i);
        }
        assert_eq!(Cell::from_index(Cell::COUNT), None);
    }
}
