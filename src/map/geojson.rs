//! Import of buurt boundaries from a GeoJSON of the CBS Wijk- en Buurtkaart
//! (or CBS Gebiedsindelingen via PDOK): a FeatureCollection of Polygon or
//! MultiPolygon buurten in RD New (EPSG:28992, stated in a `crs` member) or
//! WGS84 longitude/latitude (the GeoJSON default). Every feature is checked
//! and every problem named by file, feature and property; nothing is
//! returned unless all is well.

use std::collections::BTreeSet;
use std::io::Read;

use serde_json::Value;

use super::rd::wgs84_to_rd;
use super::{Boundary, Point, Polygon, Ring};
use crate::area::{AreaCode, AreaTree, Level};

/// Largest file accepted: one gemeente is well under 1 MB; the whole
/// country's generalised buurt layer should be cut to a gemeente first.
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;
const MAX_FEATURES: usize = 20_000;
const MAX_POINTS: usize = 2_000_000;

/// Property names that may hold the buurt code: the map's own, the
/// Kerncijfers' and PDOK's.
const CODE_PROPERTIES: [&str; 4] = ["buurtcode", "BU_CODE", "bu_code", "statcode"];

/// Generous bounds of the Netherlands, to catch swapped axes and files in
/// another coordinate system.
const LON: (f64, f64) = (3.0, 7.5);
const LAT: (f64, f64) = (50.5, 54.0);
const RD_X: (f64, f64) = (-7_000.0, 300_000.0);
const RD_Y: (f64, f64) = (289_000.0, 630_000.0);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    /// EPSG:28992, metres.
    RdNew,
    /// EPSG:4326 / OGC CRS84, longitude then latitude in degrees.
    Wgs84,
}

impl Crs {
    pub fn name(self) -> &'static str {
        match self {
            Crs::RdNew => "EPSG:28992 (RD New)",
            Crs::Wgs84 => "EPSG:4326 (WGS84)",
        }
    }

    fn from_name(name: &str) -> Option<Crs> {
        let n = name.trim().to_ascii_uppercase();
        let code = n.rsplit(':').next().unwrap_or("");
        match code {
            "28992" if n.contains("EPSG") => Some(Crs::RdNew),
            "4326" if n.contains("EPSG") => Some(Crs::Wgs84),
            "CRS84" => Some(Crs::Wgs84),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MapImportError {
    #[error("{file}: cannot read the file: {reason}")]
    Unreadable { file: String, reason: String },
    #[error(
        "{file}: larger than {} MB: cut the map to your gemeente first (see docs/maps.md, ogr2ogr -where)",
        MAX_BYTES / 1024 / 1024
    )]
    TooLarge { file: String },
    #[error("{file}: not valid JSON (line {line}, column {column}): {reason}")]
    Json { file: String, line: usize, column: usize, reason: String },
    #[error("{file}: {reason}")]
    Structure { file: String, reason: String },
    #[error("{file}: coordinate reference system: {reason}")]
    Crs { file: String, reason: String },
    #[error("{file}, features[{index}], {field}: {reason}")]
    Feature { file: String, index: usize, field: String, reason: String },
    #[error("{file}: the file holds no buurten")]
    Empty { file: String },
}

/// The buurten of a valid file, in RD New, in file order.
#[derive(Debug, Clone)]
pub struct ParsedMap {
    pub crs: Crs,
    pub boundaries: Vec<Boundary>,
}

impl ParsedMap {
    pub fn point_count(&self) -> usize {
        self.boundaries.iter().map(|b| b.points().count()).sum()
    }
}

/// Parses and checks a GeoJSON map against the known areas: every feature a
/// known buurt, once, with a Polygon or MultiPolygon of closed rings inside
/// the Netherlands.
pub fn parse_geojson(file: &str, reader: impl Read, tree: &AreaTree) -> Result<ParsedMap, MapImportError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| MapImportError::Unreadable { file: file.into(), reason: e.to_string() })?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(MapImportError::TooLarge { file: file.into() });
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| MapImportError::Unreadable { file: file.into(), reason: format!("not UTF-8 text ({e})") })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // serde_json refuses nesting deeper than 128, so hostile input cannot
    // exhaust the stack.
    let root: Value = serde_json::from_str(text).map_err(|e| MapImportError::Json {
        file: file.into(),
        line: e.line(),
        column: e.column(),
        reason: e.to_string().split(" at line").next().unwrap_or_default().to_owned(),
    })?;
    let structure = |reason: &str| MapImportError::Structure { file: file.into(), reason: reason.into() };
    if root.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(structure("not a GeoJSON FeatureCollection (the top level needs \"type\": \"FeatureCollection\")"));
    }
    let features = root
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| structure("\"features\" is missing or not a list"))?;
    if features.len() > MAX_FEATURES {
        return Err(structure(&format!(
            "{} features, more than the {MAX_FEATURES} accepted: cut the map to your gemeente first",
            features.len()
        )));
    }
    let crs = read_crs(file, &root)?;

    let mut seen = BTreeSet::new();
    let mut points = 0usize;
    let mut boundaries = Vec::with_capacity(features.len());
    for (index, feature) in features.iter().enumerate() {
        let err = |field: &str, reason: String| MapImportError::Feature {
            file: file.into(),
            index,
            field: field.into(),
            reason,
        };
        if feature.get("type").and_then(Value::as_str) != Some("Feature") {
            return Err(err("type", "is not \"Feature\"".into()));
        }
        let properties = feature
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| err("properties", "missing or not an object".into()))?;
        let (field, raw) = CODE_PROPERTIES
            .iter()
            .find_map(|name| properties.get(*name).map(|v| (format!("properties.{name}"), v)))
            .ok_or_else(|| err("properties", format!("no buurt code (one of {})", CODE_PROPERTIES.join(", "))))?;
        let raw = raw.as_str().ok_or_else(|| err(&field, "is not text".into()))?;
        let code = AreaCode::parse_any(raw).map_err(|e| err(&field, e.to_string()))?;
        if code.level() != Level::Buurt {
            return Err(err(
                &field,
                format!("{code} is a {} code: the map takes buurten (use the buurt layer)", code.level().as_str()),
            ));
        }
        if tree.buurt(code.as_str()).is_none() {
            return Err(err(
                &field,
                format!("buurt {code} is not a known area: import the area list first (buurtpeil areas import)"),
            ));
        }
        if !seen.insert(code.to_string()) {
            return Err(err(&field, format!("buurt {code} appears twice")));
        }
        let geometry = feature
            .get("geometry")
            .filter(|g| !g.is_null())
            .ok_or_else(|| err("geometry", format!("buurt {code} has no geometry")))?;
        let kind = geometry.get("type").and_then(Value::as_str).unwrap_or("");
        let coordinates = geometry.get("coordinates").ok_or_else(|| err("geometry.coordinates", "missing".into()))?;
        let polygons: Vec<&Value> = match kind {
            "Polygon" => vec![coordinates],
            "MultiPolygon" => coordinates
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or_else(|| err("geometry.coordinates", "is not a non-empty list of polygons".into()))?
                .iter()
                .collect(),
            other => {
                return Err(err(
                    "geometry.type",
                    format!("{other:?} is not supported: a buurt is a Polygon or MultiPolygon"),
                ))
            }
        };
        let mut parsed: Vec<Polygon> = Vec::with_capacity(polygons.len());
        for (p, polygon) in polygons.iter().enumerate() {
            let path = |r: usize| match kind {
                "Polygon" => format!("geometry.coordinates[{r}]"),
                _ => format!("geometry.coordinates[{p}][{r}]"),
            };
            let rings = polygon
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or_else(|| err(&path(0), "a polygon needs at least its outer ring".into()))?;
            let mut out: Polygon = Vec::with_capacity(rings.len());
            for (r, ring) in rings.iter().enumerate() {
                let ring = read_ring(ring, crs).map_err(|reason| err(&path(r), reason))?;
                points += ring.len();
                if points > MAX_POINTS {
                    return Err(structure(&format!(
                        "more than {MAX_POINTS} points: simplify the map first (see docs/maps.md)"
                    )));
                }
                out.push(ring);
            }
            parsed.push(out);
        }
        boundaries.push(Boundary { code, polygons: parsed });
    }
    if boundaries.is_empty() {
        return Err(MapImportError::Empty { file: file.into() });
    }
    Ok(ParsedMap { crs, boundaries })
}

/// The file's `crs` member (GeoJSON 2008, as ogr2ogr writes it for RD New);
/// without one, WGS84 as RFC 7946 says.
fn read_crs(file: &str, root: &Value) -> Result<Crs, MapImportError> {
    let err = |reason: String| MapImportError::Crs { file: file.into(), reason };
    let Some(crs) = root.get("crs").filter(|c| !c.is_null()) else {
        return Ok(Crs::Wgs84);
    };
    let name = crs
        .get("properties")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| err("the \"crs\" member has no properties.name".into()))?;
    Crs::from_name(name).ok_or_else(|| {
        err(format!(
            "{:?} is not supported: use EPSG:28992 (RD New) or EPSG:4326 (WGS84), e.g. ogr2ogr -t_srs EPSG:28992",
            name.chars().take(80).collect::<String>()
        ))
    })
}

/// One closed ring, converted to RD New.
fn read_ring(value: &Value, crs: Crs) -> Result<Ring, String> {
    let positions = value.as_array().ok_or("a ring is not a list of positions")?;
    if positions.len() < 4 {
        return Err(format!("a ring needs at least 4 positions (a triangle, closed), not {}", positions.len()));
    }
    let mut ring: Ring = Vec::with_capacity(positions.len());
    for (i, position) in positions.iter().enumerate() {
        let pair = position
            .as_array()
            .filter(|a| a.len() >= 2)
            .and_then(|a| Some([a[0].as_f64()?, a[1].as_f64()?]))
            .filter(|[a, b]| a.is_finite() && b.is_finite())
            .ok_or_else(|| format!("position {i} is not a pair of numbers"))?;
        ring.push(to_rd(pair, crs).map_err(|reason| format!("position {i} {reason}"))?);
    }
    if ring.first() != ring.last() {
        return Err("the ring is not closed (its last position must repeat the first)".into());
    }
    let distinct: BTreeSet<(u64, u64)> = ring.iter().map(|p| (p[0].to_bits(), p[1].to_bits())).collect();
    if distinct.len() < 3 {
        return Err("the ring encloses no area (fewer than 3 distinct positions)".into());
    }
    Ok(ring)
}

fn to_rd([a, b]: [f64; 2], crs: Crs) -> Result<Point, String> {
    let inside = |v: f64, (lo, hi): (f64, f64)| (lo..=hi).contains(&v);
    match crs {
        Crs::Wgs84 if inside(a, LON) && inside(b, LAT) => Ok(wgs84_to_rd(a, b)),
        Crs::Wgs84 if inside(a, RD_X) && inside(b, RD_Y) => Err(format!(
            "({a}, {b}) looks like RD New metres, but the file states no crs: add \"crs\" (EPSG:28992) or reproject to WGS84"
        )),
        Crs::Wgs84 if inside(b, LON) && inside(a, LAT) => {
            Err(format!("({a}, {b}) is latitude, longitude: GeoJSON wants longitude first"))
        }
        Crs::Wgs84 => Err(format!("({a}, {b}) lies outside the Netherlands (longitude, latitude)")),
        Crs::RdNew if inside(a, RD_X) && inside(b, RD_Y) => Ok([a, b]),
        Crs::RdNew => Err(format!("({a}, {b}) lies outside the Netherlands (RD New metres)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::parse_csv;

    const RD: &str = include_str!("../../data/cbs/eindhoven_buurten_2024_rd.geojson");
    const WGS84: &str = include_str!("../../data/cbs/eindhoven_buurten_2024_wgs84.geojson");

    fn tree() -> AreaTree {
        AreaTree::new(parse_csv("e", crate::demo::EINDHOVEN_BUURTEN_CSV.as_bytes()).unwrap())
    }

    fn parse(text: &str) -> Result<ParsedMap, MapImportError> {
        parse_geojson("kaart.geojson", text.as_bytes(), &tree())
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep =
            format!(r#"{{"type": "FeatureCollection", "features": {}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
        let e = parse(&deep).unwrap_err().to_string();
        assert!(e.contains("recursion limit"), "{e}");
    }

    fn square(code: &str, geometry: &str) -> String {
        format!(r#"{{"type":"Feature","properties":{{"buurtcode":"{code}"}},"geometry":{geometry}}}"#)
    }

    fn collection(features: &[String]) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))
    }

    const OK_POLYGON: &str =
        r#"{"type":"Polygon","coordinates":[[[5.48,51.44],[5.49,51.44],[5.49,51.45],[5.48,51.44]]]}"#;

    fn message(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn reads_both_shipped_files_and_they_agree() {
        let rd = parse(RD).unwrap();
        let wgs = parse(WGS84).unwrap();
        assert_eq!((rd.crs, wgs.crs), (Crs::RdNew, Crs::Wgs84));
        assert_eq!(rd.boundaries.len(), 116);
        assert_eq!(rd.point_count(), 732);
        // The same corners, one converted by our formulas: within a few metres.
        let worst = rd
            .boundaries
            .iter()
            .zip(&wgs.boundaries)
            .flat_map(|(a, b)| a.points().zip(b.points()))
            .map(|(p, q)| (p[0] - q[0]).hypot(p[1] - q[1]))
            .fold(0.0, f64::max);
        assert!(worst < 3.0, "RD and WGS84 differ by {worst} m");
    }

    #[test]
    fn accepts_multipolygons_official_names_and_a_byte_order_mark() {
        let multi = format!(
            r#"{{"type":"MultiPolygon","coordinates":[{0},{0}]}}"#,
            r#"[[[5.48,51.44],[5.49,51.44],[5.49,51.45],[5.48,51.44]]]"#
        );
        let text = collection(&[square("BU07721110", &multi)]).replace("buurtcode", "BU_CODE");
        let map = parse(&format!("\u{feff}{text}")).unwrap();
        assert_eq!(map.boundaries[0].polygons.len(), 2);
        let pdok = collection(&[square("BU07721110", OK_POLYGON)]).replace("buurtcode", "statcode");
        assert!(parse(&pdok).is_ok());
    }

    #[test]
    fn names_the_problem_of_hostile_and_malformed_files() {
        let cases: Vec<(String, &str)> = vec![
            ("".into(), "not valid JSON (line 1, column 0)"),
            ("{\"type\":".into(), "not valid JSON"),
            ("[1,2]".into(), "not a GeoJSON FeatureCollection"),
            (r#"{"type":"Feature"}"#.into(), "not a GeoJSON FeatureCollection"),
            (r#"{"type":"FeatureCollection"}"#.into(), "\"features\" is missing"),
            (collection(&[]), "holds no buurten"),
            ("[".repeat(100_000), "not valid JSON"),
            (collection(&["42".into()]), "features[0], type: is not \"Feature\""),
            (collection(&[r#"{"type":"Feature","geometry":null}"#.into()]), "features[0], properties: missing"),
            (
                collection(&[square("BU07721110", OK_POLYGON), square("WK077211", OK_POLYGON)]),
                "features[1], properties.buurtcode: WK077211 is a wijk code",
            ),
            (
                collection(&[square("BU0772111", OK_POLYGON)]),
                "properties.buurtcode: \"BU0772111\" is not a valid CBS buurt code",
            ),
            (collection(&[square("BU03630000", OK_POLYGON)]), "buurt BU03630000 is not a known area"),
            (
                collection(&[square("BU07721110", OK_POLYGON), square("BU07721110", OK_POLYGON)]),
                "features[1], properties.buurtcode: buurt BU07721110 appears twice",
            ),
            (collection(&[square("BU07721110", "null")]), "features[0], geometry: buurt BU07721110 has no geometry"),
            (
                collection(&[square("BU07721110", r#"{"type":"Point","coordinates":[5.48,51.44]}"#)]),
                "geometry.type: \"Point\" is not supported",
            ),
            (
                collection(&[square(
                    "BU07721110",
                    r#"{"type":"LineString","coordinates":[[5.48,51.44],[5.49,51.44]]}"#,
                )]),
                "\"LineString\" is not supported",
            ),
            (
                collection(&[square("BU07721110", r#"{"type":"Polygon","coordinates":[]}"#)]),
                "geometry.coordinates[0]: a polygon needs at least its outer ring",
            ),
            (
                collection(&[square(
                    "BU07721110",
                    r#"{"type":"Polygon","coordinates":[[[5.48,51.44],[5.49,51.44],[5.48,51.44]]]}"#,
                )]),
                "at least 4 positions",
            ),
            (
                collection(&[square(
                    "BU07721110",
                    r#"{"type":"Polygon","coordinates":[[[5.48,51.44],[5.49,51.44],[5.49,51.45],[5.48,51.46]]]}"#,
                )]),
                "geometry.coordinates[0]: the ring is not closed",
            ),
            (
                collection(&[square(
                    "BU07721110",
                    r#"{"type":"Polygon","coordinates":[[[5.48,51.44],[5.49,"x"],[5.49,51.45],[5.48,51.44]]]}"#,
                )]),
                "position 1 is not a pair of numbers",
            ),
            (
                collection(&[square(
                    "BU07721110",
                    r#"{"type":"Polygon","coordinates":[[[5.48,51.44],[5.48,51.44],[5.49,51.45],[5.48,51.44]]]}"#,
                )]),
                "encloses no area",
            ),
            (
                collection(&[square(
                    "BU07721110",
                    r#"{"type":"Polygon","coordinates":[[[51.44,5.48],[51.44,5.49],[51.45,5.49],[51.44,5.48]]]}"#,
                )]),
                "is latitude, longitude",
            ),
            (
                collection(&[square(
                    "BU07721110",
                    r#"{"type":"Polygon","coordinates":[[[161772,383680],[161707,383873],[161108,383705],[161772,383680]]]}"#,
                )]),
                "looks like RD New metres",
            ),
            (
                collection(&[square(
                    "BU07721110",
                    r#"{"type":"Polygon","coordinates":[[[-74.0,40.7],[-74.1,40.7],[-74.1,40.8],[-74.0,40.7]]]}"#,
                )]),
                "outside the Netherlands",
            ),
            (
                collection(&[square(
                    "BU07721110",
                    r#"{"type":"MultiPolygon","coordinates":[[[[5.48,51.44],[5.49,51.44],[5.49,51.45],[5.48,51.44]]],[[[1,2]]]]}"#,
                )]),
                "geometry.coordinates[1][0]: a ring needs at least 4 positions",
            ),
        ];
        for (text, expected) in cases {
            let got = message(&text);
            assert!(got.starts_with("kaart.geojson"), "{got}");
            assert!(got.contains(expected), "{:?}: {got}", text.chars().take(80).collect::<String>());
        }
        let with_crs = |name: &str| {
            collection(&[square("BU07721110", OK_POLYGON)]).replacen(
                "{",
                &format!(r#"{{"crs":{{"type":"name","properties":{{"name":"{name}"}}}},"#),
                1,
            )
        };
        assert!(message(&with_crs("urn:ogc:def:crs:EPSG::3857"))
            .contains("coordinate reference system: \"urn:ogc:def:crs:EPSG::3857\" is not supported"));
        assert!(message(&with_crs("EPSG:28992")).contains("outside the Netherlands (RD New metres)"));
        assert!(parse(&with_crs("urn:ogc:def:crs:OGC:1.3:CRS84")).is_ok());
        assert!(matches!(parse_geojson("x", &[0xff, 0xfe, 0][..], &tree()), Err(MapImportError::Unreadable { .. })));
    }

    #[test]
    fn refuses_oversized_files_without_reading_them_whole() {
        let endless = std::io::repeat(b' ');
        let err = parse_geojson("groot.geojson", endless, &tree()).unwrap_err();
        assert!(matches!(err, MapImportError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("larger than 16 MB"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(s in "\\PC{0,200}") {
            let _ = parse(&s);
        }

        #[test]
        fn never_panics_on_arbitrary_geometry(coords in "[\\[\\]0-9.,e\\-]{0,120}", kind in "(Polygon|MultiPolygon|Point)") {
            let text = collection(&[square("BU07721110", &format!(r#"{{"type":"{kind}","coordinates":{coords}}}"#))]);
            let _ = parse(&text);
        }
    }
}
