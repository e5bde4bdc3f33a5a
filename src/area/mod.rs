//! Areas: CBS gemeenten, wijken and buurten, their codes, their hierarchy and
//! their import from CBS files.

mod code;
mod import;
mod store;

pub use code::{AreaCode, CodeError, Level};
pub use import::{parse_csv, ImportError};
pub use store::{load_tree, save_areas};

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area {
    pub code: AreaCode,
    pub name: String,
    pub parent: Option<AreaCode>,
}

impl Area {
    pub fn level(&self) -> Level {
        self.code.level()
    }
}

/// All known areas, ordered by code, with their children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AreaTree {
    areas: BTreeMap<String, Area>,
    children: BTreeMap<String, Vec<String>>,
}

impl AreaTree {
    pub fn new(areas: impl IntoIterator<Item = Area>) -> AreaTree {
        let mut tree = AreaTree::default();
        for area in areas {
            if let Some(parent) = &area.parent {
                tree.children.entry(parent.to_string()).or_default().push(area.code.to_string());
            }
            tree.areas.insert(area.code.to_string(), area);
        }
        for kids in tree.children.values_mut() {
            kids.sort();
        }
        tree
    }

    pub fn get(&self, code: &str) -> Option<&Area> {
        self.areas.get(code)
    }

    /// A known buurt by its code.
    pub fn buurt(&self, code: &str) -> Option<&Area> {
        self.get(code).filter(|a| a.level() == Level::Buurt)
    }

    pub fn all(&self) -> impl Iterator<Item = &Area> {
        self.areas.values()
    }

    pub fn at_level(&self, level: Level) -> impl Iterator<Item = &Area> {
        self.areas.values().filter(move |a| a.level() == level)
    }

    pub fn buurt_count(&self) -> usize {
        self.at_level(Level::Buurt).count()
    }

    pub fn children(&self, code: &str) -> impl Iterator<Item = &Area> {
        self.children.get(code).into_iter().flatten().filter_map(|c| self.areas.get(c))
    }

    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    pub fn len(&self) -> usize {
        self.areas.len()
    }
}
