//! A choropleth map of buurten as SVG: shown figures in five classes of a
//! sequential colour scale that colour-blind readers can tell apart (viridis,
//! darker is higher), suppressed buurten hatched, buurten without data
//! grey; a legend naming all three; a `<title>` per buurt for hover. A
//! suppressed buurt carries no number anywhere in the SVG.

use std::fmt::Write;

use super::chart::{escape, Axis};
use crate::i18n::Lang;
use crate::map::ProjectedMap;

/// Classes of the colour scale (`.map .c0` … `.c4` in the stylesheet).
pub const CLASSES: usize = 5;

#[derive(Debug, Clone, PartialEq)]
pub enum MapValue {
    /// A figure the safe table shows, and how to say it ("7,4 (n = 34)").
    Shown { value: f64, label: String },
    /// The safe table hides this buurt's figure.
    Suppressed,
    /// The buurt is on the map but not in the results.
    NoData,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    pub code: String,
    pub name: String,
    pub value: MapValue,
}

/// The class of a value among shown values from `lo` to `hi`.
fn class_of(v: f64, lo: f64, hi: f64) -> usize {
    if hi <= lo {
        return CLASSES / 2;
    }
    (((v - lo) / (hi - lo) * CLASSES as f64).floor() as usize).min(CLASSES - 1)
}

const LEGEND_ROW: f64 = 20.0;

/// Draws the map. Buurten of `map` without an entry are drawn as "no data";
/// entries without a boundary are left to the table beside the map.
pub fn choropleth(map: &ProjectedMap, entries: &[MapEntry], axis: &Axis, lang: Lang, id: &str, title: &str) -> String {
    let by_code: std::collections::HashMap<&str, &MapEntry> = entries.iter().map(|e| (e.code.as_str(), e)).collect();
    let shown: Vec<f64> = map
        .areas
        .iter()
        .filter_map(|a| match by_code.get(a.code.as_str()).map(|e| &e.value) {
            Some(MapValue::Shown { value, .. }) if value.is_finite() => Some(*value),
            _ => None,
        })
        .collect();
    let lo = shown.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = shown.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let has = |want: fn(&MapValue) -> bool| {
        map.areas.iter().any(|a| by_code.get(a.code.as_str()).map_or(want(&MapValue::NoData), |e| want(&e.value)))
    };
    let any_suppressed = has(|v| matches!(v, MapValue::Suppressed));
    let any_missing = has(|v| matches!(v, MapValue::NoData));

    // Legend: the classes in use on the left, hatched and grey on the right.
    let classes: Vec<(usize, f64, f64)> = if shown.is_empty() {
        Vec::new()
    } else if hi <= lo {
        vec![(CLASSES / 2, lo, hi)]
    } else {
        let width = (hi - lo) / CLASSES as f64;
        (0..CLASSES).map(|c| (c, lo + width * c as f64, lo + width * (c + 1) as f64)).collect()
    };
    let specials = usize::from(any_suppressed) + usize::from(any_missing);
    let legend_rows = classes.len().max(specials);
    let legend_top = map.height + 10.0;
    let height = (legend_top + legend_rows as f64 * LEGEND_ROW + 6.0).ceil();
    let hatch = format!("{}-hatch", escape(id));

    let mut out = String::with_capacity(2048 + map.areas.len() * 120);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 {} {height}" role="img" aria-labelledby="{}-title"><title id="{}-title">{}</title>"#,
        map.width,
        escape(id),
        escape(id),
        escape(title)
    );
    // Hatching by presentation attributes: the CSP forbids style attributes.
    let _ = write!(
        out,
        r##"<defs><pattern id="{hatch}" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="5" height="5" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="5" stroke="#4d4d4d" stroke-width="2"/></pattern></defs><g class="areas">"##
    );
    for area in &map.areas {
        let entry = by_code.get(area.code.as_str());
        let name = entry.map_or(area.code.as_str(), |e| e.name.as_str());
        let (fill, says) = match entry.map(|e| &e.value) {
            Some(MapValue::Shown { value, label }) if value.is_finite() => {
                (format!(r#"class="c{}""#, class_of(*value, lo, hi)), label.clone())
            }
            Some(MapValue::Suppressed) => {
                (format!(r#"class="sup" fill="url(#{hatch})""#), lang.text("too_few").to_owned())
            }
            _ => (r#"class="none""#.to_owned(), lang.text("no_data").to_owned()),
        };
        let _ = write!(
            out,
            r#"<path {fill} d="{}"><title>{}: {}</title></path>"#,
            area.path(),
            escape(name),
            escape(&says)
        );
    }
    out.push_str("</g><g class=\"legend\">");
    for (row, (class, from, to)) in classes.iter().enumerate() {
        let y = legend_top + row as f64 * LEGEND_ROW;
        let range = if from == to {
            axis.format(*from, lang)
        } else {
            format!("{} – {}", axis.format(*from, lang), axis.format(*to, lang))
        };
        let _ = write!(
            out,
            r#"<rect class="c{class}" x="4" y="{y}" width="22" height="14"/><text x="32" y="{}">{}</text>"#,
            y + 12.0,
            escape(&range)
        );
    }
    let right = map.width / 2.0 + 4.0;
    let mut row = 0.0;
    if any_suppressed {
        let y = legend_top + row * LEGEND_ROW;
        let _ = write!(
            out,
            r#"<rect class="sup" fill="url(#{hatch})" x="{right}" y="{y}" width="22" height="14"/><text x="{}" y="{}">{}</text>"#,
            right + 28.0,
            y + 12.0,
            escape(&lang.text("too_few"))
        );
        row += 1.0;
    }
    if any_missing {
        let y = legend_top + row * LEGEND_ROW;
        let _ = write!(
            out,
            r#"<rect class="none" x="{right}" y="{y}" width="22" height="14"/><text x="{}" y="{}">{}</text>"#,
            right + 28.0,
            y + 12.0,
            escape(&lang.text("no_data"))
        );
    }
    out.push_str("</g></svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::chart::tests::well_formed;
    use crate::map::ProjectedArea;

    fn square(code: &str, x: i64) -> ProjectedArea {
        ProjectedArea { code: code.into(), rings: vec![vec![[x, 0], [x + 100, 0], [x + 100, 100], [x, 100], [x, 0]]] }
    }

    const SCALE: Axis = Axis { min: 0.0, max: 10.0, percent: false };

    fn map() -> ProjectedMap {
        ProjectedMap {
            width: 400.0,
            height: 20.0,
            areas: vec![square("BU1", 0), square("BU2", 100), square("BU3", 200), square("BU4", 300)],
        }
    }

    fn entries() -> Vec<MapEntry> {
        vec![
            MapEntry {
                code: "BU1".into(),
                name: "Laag".into(),
                value: MapValue::Shown { value: 6.0, label: "6,0".into() },
            },
            MapEntry {
                code: "BU2".into(),
                name: "Hoog".into(),
                value: MapValue::Shown { value: 8.0, label: "8,0".into() },
            },
            MapEntry { code: "BU3".into(), name: "Klein & <stil>".into(), value: MapValue::Suppressed },
        ]
    }

    #[test]
    fn classes_hatching_legend_and_titles() {
        let svg = choropleth(&map(), &entries(), &SCALE, Lang::Nl, "kaart", "Tevredenheid per buurt");
        let texts = well_formed(&svg);
        assert!(svg.contains(r#"role="img" aria-labelledby="kaart-title""#));
        assert!(
            svg.contains(r#"<path class="c0" "#) && svg.contains(r#"<path class="c4" "#),
            "lowest and highest class"
        );
        assert!(svg.contains(r##"<path class="sup" fill="url(#kaart-hatch)""##), "suppressed buurt hatched");
        assert!(svg.contains(r#"<path class="none" "#), "a buurt without data");
        for t in [
            "Laag: 6,0",
            "Hoog: 8,0",
            "Klein & <stil>: te weinig antwoorden",
            "BU4: geen gegevens",
            "6,0 – 6,4",
            "te weinig antwoorden",
            "geen gegevens",
        ] {
            assert!(texts.iter().any(|x| x == t), "{t:?} in {texts:?}");
        }
        // The suppressed buurt's title carries no number.
        let title = texts.iter().find(|t| t.starts_with("Klein")).unwrap();
        assert!(!title.chars().any(|c| c.is_ascii_digit()));
    }

    #[test]
    fn one_value_or_none_still_draws_a_legend() {
        let one = vec![entries().remove(0)];
        let svg = choropleth(&map(), &one, &SCALE, Lang::En, "k", "t");
        assert!(well_formed(&svg).iter().any(|t| t == "6.0"));
        let none = choropleth(&map(), &[], &SCALE, Lang::En, "k", "t");
        assert!(well_formed(&none).iter().any(|t| t == "no data"));
        assert!(!none.contains("class=\"c"));
        well_formed(&choropleth(
            &ProjectedMap { width: 400.0, height: 200.0, areas: vec![] },
            &[],
            &SCALE,
            Lang::Nl,
            "k",
            "t",
        ));
    }

    #[test]
    fn the_demo_map_stays_light() {
        let tree = crate::area::AreaTree::new(
            crate::area::parse_csv("e", crate::demo::EINDHOVEN_BUURTEN_CSV.as_bytes()).unwrap(),
        );
        let parsed =
            crate::map::parse_geojson("rd", crate::demo::EINDHOVEN_BOUNDARIES_GEOJSON.as_bytes(), &tree).unwrap();
        let stored: Vec<_> = parsed.boundaries.iter().map(|b| b.simplified(crate::demo::BOUNDARY_TOLERANCE)).collect();
        let map = crate::map::project(&stored, 400.0);
        let entries: Vec<MapEntry> = tree
            .at_level(crate::area::Level::Buurt)
            .enumerate()
            .map(|(i, a)| MapEntry {
                code: a.code.to_string(),
                name: a.name.clone(),
                value: if i % 7 == 0 {
                    MapValue::Suppressed
                } else {
                    MapValue::Shown { value: 5.0 + (i % 30) as f64 / 10.0, label: format!("{}", i) }
                },
            })
            .collect();
        let svg = choropleth(&map, &entries, &SCALE, Lang::Nl, "k", "t");
        well_formed(&svg);
        assert_eq!(svg.matches("<path ").count(), 116);
        assert!(svg.len() < 20_000, "{} bytes", svg.len());
    }
}
