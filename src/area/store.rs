use diesel::prelude::*;

use super::{Area, AreaCode, AreaTree, Level};
use crate::db::schema::areas;
use crate::db::{AnyConnection, DbError};

/// Stores areas in one transaction: new ones are added, known ones renamed;
/// nothing of a failed import is kept. Returns how many were written.
pub fn save_areas(conn: &mut AnyConnection, list: &[Area]) -> Result<usize, DbError> {
    // Parents first, so every foreign key holds at insert time.
    let mut sorted: Vec<&Area> = list.iter().collect();
    sorted.sort_by_key(|a| a.level());
    conn.transaction(|conn| {
        for area in &sorted {
            let updated =
                diesel::update(areas::table.find(area.code.as_str())).set(areas::name.eq(&area.name)).execute(conn)?;
            if updated == 0 {
                diesel::insert_into(areas::table)
                    .values((
                        areas::code.eq(area.code.as_str()),
                        areas::name.eq(&area.name),
                        areas::level.eq(area.level().as_str()),
                        areas::parent.eq(area.parent.as_ref().map(|p| p.as_str())),
                    ))
                    .execute(conn)?;
            }
        }
        Ok(sorted.len())
    })
}

pub fn load_tree(conn: &mut AnyConnection) -> Result<AreaTree, DbError> {
    let rows: Vec<(String, String, String, Option<String>)> =
        areas::table.select((areas::code, areas::name, areas::level, areas::parent)).load(conn)?;
    // Rows were validated on the way in; a row that no longer parses is
    // skipped rather than taking the whole service down.
    let list = rows.into_iter().filter_map(|(code, name, level, parent)| {
        let code = AreaCode::parse(Level::parse(&level)?, &code).ok()?;
        let parent = parent.and_then(|p| AreaCode::parse_any(&p).ok());
        Some(Area { code, name, parent })
    });
    Ok(AreaTree::new(list))
}
