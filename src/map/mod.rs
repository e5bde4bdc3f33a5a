//! Maps: buurt boundaries from the CBS Wijk- en Buurtkaart (GeoJSON),
//! validated, simplified and stored in RD New, and projected to SVG
//! coordinates for the choropleth (`insight::choropleth`).

mod geojson;
mod project;
mod rd;
mod simplify;
mod store;

pub use geojson::{parse_geojson, Crs, MapImportError, ParsedMap, MAX_BYTES};
pub use project::{project, ProjectedArea, ProjectedMap};
pub use rd::wgs84_to_rd;
pub use simplify::simplify_ring;
pub use store::{load_boundaries, save_boundaries};

use crate::area::AreaCode;

/// A point in RD New (EPSG:28992): x east, y north, in metres.
pub type Point = [f64; 2];

/// A closed ring: the first point is repeated at the end.
pub type Ring = Vec<Point>;

/// A polygon: its outer ring first, then its holes.
pub type Polygon = Vec<Ring>;

/// The outline of one buurt: one or more polygons in RD New.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    pub code: AreaCode,
    pub polygons: Vec<Polygon>,
}

impl Boundary {
    pub fn points(&self) -> impl Iterator<Item = &Point> {
        self.polygons.iter().flatten().flatten()
    }

    /// Simplified for storage: rings at `tolerance` metres, rounded to whole
    /// metres. Every polygon keeps an outer ring of at least four points;
    /// holes that collapse are dropped.
    pub fn simplified(&self, tolerance: f64) -> Boundary {
        let polygons = self
            .polygons
            .iter()
            .map(|polygon| {
                polygon
                    .iter()
                    .enumerate()
                    .filter_map(|(i, ring)| {
                        let rounded: Ring =
                            simplify_ring(ring, tolerance).iter().map(|p| [p[0].round(), p[1].round()]).collect();
                        let mut kept = rounded.clone();
                        kept.dedup();
                        match (kept.len() >= 4, i) {
                            (true, _) => Some(kept),
                            // An outer ring never collapses: keep it whole.
                            (false, 0) => Some(ring.iter().map(|p| [p[0].round(), p[1].round()]).collect()),
                            (false, _) => None,
                        }
                    })
                    .collect()
            })
            .collect();
        Boundary { code: self.code.clone(), polygons }
    }
}
