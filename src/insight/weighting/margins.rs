//! Population margins of an area (residents of 15 and older per age band and
//! per gender) and the respondent cells raking adjusts to them.

use std::collections::BTreeMap;

use super::category::{Category, Cell, Variable};
use crate::area::AreaTree;

/// Residents per category of each variable. A category that is absent is
/// unknown, which is not the same as zero residents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Margins {
    population: BTreeMap<Category, u64>,
}

impl Margins {
    pub fn new() -> Margins {
        Margins::default()
    }

    pub fn set(&mut self, category: Category, population: u64) {
        self.population.insert(category, population);
    }

    pub fn get(&self, category: Category) -> Option<u64> {
        self.population.get(&category).copied()
    }

    /// Every known category with its residents, variable by variable.
    pub fn iter(&self) -> impl Iterator<Item = (Category, u64)> + '_ {
        self.population.iter().map(|(c, n)| (*c, *n))
    }

    /// Residents counted in a variable's margin.
    pub fn total(&self, variable: Variable) -> u64 {
        self.iter().filter(|(c, _)| c.variable() == variable).map(|(_, n)| n).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.population.is_empty()
    }

    /// Adds another area's residents (a wijk is the sum of its buurten).
    pub fn add(&mut self, other: &Margins) {
        for (c, n) in other.iter() {
            *self.population.entry(c).or_default() += n;
        }
    }
}

/// The margins of an area: its own when imported for it, otherwise the sum
/// of its buurten — but only when every buurt below it has margins, since a
/// partial sum would undercount some groups and silently skew the weights.
pub fn margins_for_area(tree: &AreaTree, code: &str, stored: &BTreeMap<String, Margins>) -> Option<Margins> {
    if let Some(own) = stored.get(code) {
        return Some(own.clone());
    }
    let mut children = tree.children(code).peekable();
    children.peek()?;
    let mut sum = Margins::new();
    for child in children {
        sum.add(&margins_for_area(tree, child.code.as_str(), stored)?);
    }
    Some(sum)
}

/// How many respondents of an area fall in each cell, and how many could
/// not be placed because they did not give their age band or gender.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RespondentCells {
    pub cells: BTreeMap<Cell, u64>,
    pub unclassified: u64,
}

impl RespondentCells {
    /// Respondents placed in a cell.
    pub fn classified(&self) -> u64 {
        self.cells.values().sum()
    }

    pub fn total(&self) -> u64 {
        self.classified() + self.unclassified
    }

    /// Respondents per category of one variable.
    pub fn per_category(&self, variable: Variable) -> BTreeMap<Category, u64> {
        let mut out = BTreeMap::new();
        for (cell, n) in &self.cells {
            *out.entry(cell.category(variable)).or_default() += n;
        }
        out
    }

    /// Adds another area's respondents (a wijk holds its buurten's).
    pub fn add(&mut self, other: &RespondentCells) {
        for (cell, n) in &other.cells {
            *self.cells.entry(*cell).or_default() += n;
        }
        self.unclassified += other.unclassified;
    }
}

/// The respondents of an area: a buurt's own, or the sum of its buurten's.
pub fn cells_for_area(tree: &AreaTree, code: &str, by_buurt: &BTreeMap<String, RespondentCells>) -> RespondentCells {
    if let Some(own) = by_buurt.get(code) {
        return own.clone();
    }
    let mut sum = RespondentCells::default();
    for child in tree.children(code) {
        sum.add(&cells_for_area(tree, child.code.as_str(), by_buurt));
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::{Area, AreaCode, Level};

    fn margins(age: [u64; 4], gender: [u64; 2]) -> Margins {
        let mut m = Margins::new();
        for (c, n) in Variable::AgeBand.categories().iter().zip(age) {
            m.set(Variable::AgeBand.category(c).unwrap(), n);
        }
        for (c, n) in Variable::Gender.categories().iter().zip(gender) {
            m.set(Variable::Gender.category(c).unwrap(), n);
        }
        m
    }

    #[test]
    fn a_wijk_sums_its_buurten_only_when_all_have_margins() {
        let area = |level, code: &str| {
            let code = AreaCode::parse(level, code).unwrap();
            Area { parent: code.parent(), name: code.to_string(), code }
        };
        let tree = AreaTree::new([
            area(Level::Gemeente, "GM0772"),
            area(Level::Wijk, "WK077211"),
            area(Level::Buurt, "BU07721110"),
            area(Level::Buurt, "BU07721120"),
        ]);
        let mut stored = BTreeMap::new();
        stored.insert("BU07721110".to_string(), margins([10, 20, 30, 40], [50, 50]));
        assert_eq!(margins_for_area(&tree, "WK077211", &stored), None, "one buurt lacks margins");
        stored.insert("BU07721120".to_string(), margins([1, 2, 3, 4], [5, 5]));
        let wijk = margins_for_area(&tree, "GM0772", &stored).unwrap();
        assert_eq!((wijk.total(Variable::AgeBand), wijk.total(Variable::Gender)), (110, 110));
        assert_eq!(wijk.get(Variable::AgeBand.category("25_44").unwrap()), Some(22));
        assert_eq!(margins_for_area(&tree, "BU07721199", &stored), None);
    }
}
