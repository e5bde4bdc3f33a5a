//! RD New to SVG user units: RD is planar, so a scale and a flip of the y
//! axis (north up) suffice. Rings are simplified again at about half a unit
//! and rounded to tenths, so a map of a hundred buurten stays a few KB.

use std::fmt::Write;

use super::{simplify_ring, Boundary, Point};

/// Empty border around the map, in user units.
const PAD: f64 = 2.0;
/// Detail finer than this (user units) is not drawn.
const TOLERANCE: f64 = 0.4;

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectedArea {
    pub code: String,
    /// Closed rings (outer rings and holes alike) in tenths of a user unit.
    pub rings: Vec<Vec<[i64; 2]>>,
}

impl ProjectedArea {
    /// The SVG path: absolute start, then relative steps, one ring per `M…z`
    /// (holes are cut out by the even-odd fill rule).
    pub fn path(&self) -> String {
        let mut d = String::new();
        for ring in &self.rings {
            let Some(first) = ring.first() else { continue };
            let _ = write!(d, "M{} {}", tenths(first[0]), tenths(first[1]));
            let mut prev = *first;
            // The closing point is implied by `z`.
            let body = &ring[1..ring.len().saturating_sub(1).max(1)];
            for (i, p) in body.iter().enumerate() {
                let (dx, dy) = (p[0] - prev[0], p[1] - prev[1]);
                let sep = if i == 0 {
                    "l"
                } else if dx < 0 {
                    ""
                } else {
                    " "
                };
                let _ = write!(d, "{sep}{}{}{}", tenths(dx), if dy < 0 { "" } else { " " }, tenths(dy));
                prev = *p;
            }
            d.push('z');
        }
        d
    }
}

/// `123` tenths as "12.3", `-5` as "-.5", `40` as "4".
fn tenths(v: i64) -> String {
    let (sign, a) = if v < 0 { ("-", -v) } else { ("", v) };
    match (a / 10, a % 10) {
        (w, 0) => format!("{sign}{w}"),
        (0, f) => format!("{sign}.{f}"),
        (w, f) => format!("{sign}{w}.{f}"),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectedMap {
    pub width: f64,
    pub height: f64,
    pub areas: Vec<ProjectedArea>,
}

/// Fits the boundaries into a view `width` units wide (and at most 1.5 times
/// as high), north up. Every area keeps at least a triangle.
pub fn project(boundaries: &[Boundary], width: f64) -> ProjectedMap {
    let mut min = [f64::INFINITY; 2];
    let mut max = [f64::NEG_INFINITY; 2];
    for p in boundaries.iter().flat_map(|b| b.points()) {
        for a in 0..2 {
            min[a] = min[a].min(p[a]);
            max[a] = max[a].max(p[a]);
        }
    }
    if boundaries.is_empty() || !min[0].is_finite() {
        return ProjectedMap { width, height: width / 2.0, areas: Vec::new() };
    }
    let (dx, dy) = ((max[0] - min[0]).max(1e-9), (max[1] - min[1]).max(1e-9));
    let inner = width - 2.0 * PAD;
    let scale = (inner / dx).min(1.5 * inner / dy);
    let height = (dy * scale + 2.0 * PAD).ceil();
    // Centred horizontally when the height limited the scale.
    let left = PAD + (inner - dx * scale) / 2.0;
    let at = |p: &Point| [left + (p[0] - min[0]) * scale, PAD + (max[1] - p[1]) * scale];
    let to_tenths = |p: &Point| [(p[0] * 10.0).round() as i64, (p[1] * 10.0).round() as i64];
    let areas = boundaries
        .iter()
        .map(|b| {
            let mut rings = Vec::new();
            for polygon in &b.polygons {
                for (i, ring) in polygon.iter().enumerate() {
                    let screen: Vec<Point> = ring.iter().map(at).collect();
                    let mut kept: Vec<[i64; 2]> = simplify_ring(&screen, TOLERANCE).iter().map(to_tenths).collect();
                    kept.dedup();
                    if kept.len() < 4 {
                        if i > 0 {
                            continue; // a hole too small to see
                        }
                        kept = screen.iter().map(to_tenths).collect();
                        kept.dedup();
                    }
                    rings.push(kept);
                }
            }
            ProjectedArea { code: b.code.to_string(), rings }
        })
        .collect();
    ProjectedMap { width, height, areas }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::area::{AreaCode, Level};

    fn buurt(i: usize, polygons: Vec<Vec<Vec<Point>>>) -> Boundary {
        Boundary { code: AreaCode::parse(Level::Buurt, &format!("BU0772{:04}", i)).unwrap(), polygons }
    }

    #[test]
    fn paths_are_compact_and_relative() {
        let area = ProjectedArea { code: "BU07721110".into(), rings: vec![vec![[0, 0], [100, 5], [95, -40], [0, 0]]] };
        assert_eq!(area.path(), "M0 0l10 .5-.5-4.5z");
        assert_eq!(tenths(-123), "-12.3");
    }

    #[test]
    fn the_shipped_map_fits_and_stays_small() {
        let tree = crate::area::AreaTree::new(
            crate::area::parse_csv("e", crate::demo::EINDHOVEN_BUURTEN_CSV.as_bytes()).unwrap(),
        );
        let map = crate::map::parse_geojson(
            "rd",
            include_str!("../../data/cbs/eindhoven_buurten_2024_rd.geojson").as_bytes(),
            &tree,
        )
        .unwrap();
        let projected = project(&map.boundaries, 400.0);
        assert_eq!(projected.areas.len(), 116);
        let bytes: usize = projected.areas.iter().map(|a| a.path().len()).sum();
        assert!(bytes < 12_000, "{bytes} bytes of paths");
        assert!(projected.height > 200.0 && projected.height <= 600.0, "{}", projected.height);
    }

    /// Random buurten: a few polygons of 3 to 40 points somewhere in the
    /// Netherlands, from a few metres to kilometres across.
    fn arb_boundaries() -> impl Strategy<Value = Vec<Boundary>> {
        let ring = (
            -7_000.0..300_000.0f64,
            289_000.0..630_000.0f64,
            1.0..5_000.0f64,
            prop::collection::vec((0.3..1.0f64, 0.0..1.0f64), 3..40),
        )
            .prop_map(|(cx, cy, r, spokes)| {
                // A star-shaped ring: angles in order, so it never crosses itself.
                let n = spokes.len() as f64;
                let mut ring: Vec<Point> = spokes
                    .iter()
                    .enumerate()
                    .map(|(i, (len, jitter))| {
                        let angle = (i as f64 + jitter * 0.9) / n * std::f64::consts::TAU;
                        [cx + r * len * angle.cos(), cy + r * len * angle.sin()]
                    })
                    .collect();
                ring.push(ring[0]);
                ring
            });
        prop::collection::vec(prop::collection::vec(ring, 1..3), 1..12).prop_map(|buurten| {
            buurten
                .into_iter()
                .enumerate()
                .map(|(i, rings)| buurt(i, rings.into_iter().map(|r| vec![r]).collect()))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn projected_points_stay_inside_the_view(boundaries in arb_boundaries(), width in 100.0..1000.0f64) {
            let map = project(&boundaries, width);
            prop_assert!(map.height <= 1.5 * width + 1.0);
            for area in &map.areas {
                for p in area.rings.iter().flatten() {
                    let (x, y) = (p[0] as f64 / 10.0, p[1] as f64 / 10.0);
                    prop_assert!((0.0..=map.width).contains(&x) && (0.0..=map.height).contains(&y), "{x},{y} outside {}x{}", map.width, map.height);
                }
            }
        }

        #[test]
        fn simplification_keeps_every_buurt(boundaries in arb_boundaries(), width in 100.0..1000.0f64) {
            let map = project(&boundaries, width);
            prop_assert_eq!(map.areas.len(), boundaries.len());
            for (area, b) in map.areas.iter().zip(&boundaries) {
                prop_assert_eq!(&area.code, b.code.as_str());
                prop_assert!(!area.rings.is_empty() && area.rings.iter().all(|r| !r.is_empty()));
                // A buurt at least a unit across on screen keeps a real outline.
                let extent = |a: usize| {
                    let v: Vec<i64> = area.rings[0].iter().map(|p| p[a]).collect();
                    v.iter().max().unwrap() - v.iter().min().unwrap()
                };
                let (sx, sy) = (extent(0), extent(1));
                if sx >= 10 && sy >= 10 {
                    prop_assert!(area.rings[0].len() >= 4, "{:?}", area.rings[0]);
                }
                prop_assert!(area.path().starts_with('M') && area.path().ends_with('z'));
                // Stored simplification too: every polygon keeps an outer ring.
                let stored = b.simplified(5.0);
                prop_assert!(stored.polygons.iter().all(|p| p.first().is_some_and(|r| r.len() >= 4)));
            }
        }
    }
}
