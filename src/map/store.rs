use diesel::prelude::*;

use super::{Boundary, Polygon};
use crate::area::{AreaCode, Level};
use crate::db::schema::area_boundaries;
use crate::db::{AnyConnection, DbError};

/// Stores boundaries in one transaction, replacing those of the same
/// buurten; nothing of a failed import is kept. Returns how many were written.
pub fn save_boundaries(conn: &mut AnyConnection, list: &[Boundary]) -> Result<usize, DbError> {
    conn.transaction(|conn| {
        for b in list {
            // Whole metres: integers keep the stored JSON small.
            let geometry = serde_json::to_string(
                &b.polygons
                    .iter()
                    .map(|p| p.iter().map(|r| r.iter().map(|[x, y]| [*x as i64, *y as i64]).collect()).collect())
                    .collect::<Vec<Vec<Vec<[i64; 2]>>>>(),
            )
            .expect("numbers always serialise");
            diesel::delete(area_boundaries::table.find(b.code.as_str())).execute(conn)?;
            diesel::insert_into(area_boundaries::table)
                .values((area_boundaries::code.eq(b.code.as_str()), area_boundaries::geometry.eq(geometry)))
                .execute(conn)?;
        }
        Ok(list.len())
    })
}

/// Every stored boundary, ordered by code. Rows were validated on the way
/// in; one that no longer parses is skipped and logged.
pub fn load_boundaries(conn: &mut AnyConnection) -> Result<Vec<Boundary>, DbError> {
    let rows: Vec<(String, String)> = area_boundaries::table
        .select((area_boundaries::code, area_boundaries::geometry))
        .order(area_boundaries::code)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(code, geometry)| {
            let parsed = AreaCode::parse(Level::Buurt, &code)
                .ok()
                .zip(serde_json::from_str::<Vec<Polygon>>(&geometry).ok())
                .filter(|(_, p)| p.iter().all(|poly| poly.first().is_some_and(|r| r.len() >= 4)));
            if parsed.is_none() {
                tracing::warn!("the stored boundary of {code:?} is unreadable; it is left off the map");
            }
            parsed.map(|(code, polygons)| Boundary { code, polygons })
        })
        .collect())
}
