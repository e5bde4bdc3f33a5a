//! Who sees what: a professional is assigned buurten or wijken (by an
//! administrator) and sees only the profiles and initiatives of those.

use std::collections::BTreeSet;

use diesel::prelude::*;

use crate::area::{AreaCode, AreaTree, Level};
use crate::auth::UserId;
use crate::db::schema::user_areas as ua;
use crate::db::{AnyConnection, DbError};

/// The buurten a professional may see: their assigned buurten and every
/// buurt of their assigned wijken.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    buurten: BTreeSet<String>,
}

impl Scope {
    /// Resolves assigned areas against the area tree.
    pub fn new(assigned: &[String], tree: &AreaTree) -> Scope {
        let mut buurten = BTreeSet::new();
        for code in assigned {
            match tree.get(code).map(|a| a.level()) {
                Some(Level::Buurt) => {
                    buurten.insert(code.clone());
                }
                Some(Level::Wijk) => buurten.extend(tree.children(code).map(|b| b.code.to_string())),
                _ => {}
            }
        }
        Scope { buurten }
    }

    pub fn contains(&self, buurt: &str) -> bool {
        self.buurten.contains(buurt)
    }

    pub fn buurten(&self) -> Vec<String> {
        self.buurten.iter().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.buurten.is_empty()
    }
}

/// The areas assigned to a user, as stored (buurt and wijk codes).
pub fn assigned(conn: &mut AnyConnection, user: UserId) -> Result<Vec<String>, DbError> {
    Ok(ua::table.filter(ua::user_id.eq(user.0)).order(ua::area.asc()).select(ua::area).load(conn)?)
}

/// Replaces a user's areas (buurten or wijken) in one transaction.
pub fn assign(conn: &mut AnyConnection, user: UserId, areas: &[AreaCode]) -> Result<(), DbError> {
    conn.transaction(|conn| {
        diesel::delete(ua::table.filter(ua::user_id.eq(user.0))).execute(conn)?;
        for a in areas {
            diesel::insert_into(ua::table).values((ua::user_id.eq(user.0), ua::area.eq(a.as_str()))).execute(conn)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::Area;

    fn tree() -> AreaTree {
        let a = |code: &str, parent: Option<&str>| Area {
            code: AreaCode::parse_any(code).unwrap(),
            name: code.into(),
            parent: parent.map(|p| AreaCode::parse_any(p).unwrap()),
        };
        AreaTree::new([
            a("GM0772", None),
            a("WK077211", Some("GM0772")),
            a("WK077212", Some("GM0772")),
            a("BU07721110", Some("WK077211")),
            a("BU07721111", Some("WK077211")),
            a("BU07721210", Some("WK077212")),
        ])
    }

    #[test]
    fn a_wijk_covers_its_buurten_only() {
        let s = Scope::new(&["WK077211".into()], &tree());
        assert!(s.contains("BU07721110") && s.contains("BU07721111"));
        assert!(!s.contains("BU07721210"));
        let s = Scope::new(&["BU07721210".into(), "GM0772".into(), "BU99999999".into()], &tree());
        assert_eq!(s.buurten(), vec!["BU07721210".to_string()], "a gemeente or unknown code grants nothing");
        assert!(Scope::new(&[], &tree()).is_empty());
    }
}
