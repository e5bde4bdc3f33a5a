//! WGS84 to RD New (EPSG:28992) by the approximation formulas of
//! Schreutelkamp and Strang van Hees (2001): within about a metre over the
//! Netherlands, more than enough for a choropleth, and no PROJ needed.

use super::Point;

const PHI0: f64 = 52.155_174_40;
const LAM0: f64 = 5.387_206_21;
const X0: f64 = 155_000.0;
const Y0: f64 = 463_000.0;

/// (p, q, coefficient) of dφ^p · dλ^q for x.
const R: [(i32, i32, f64); 9] = [
    (0, 1, 190_094.945),
    (1, 1, -11_832.228),
    (2, 1, -114.221),
    (0, 3, -32.391),
    (1, 0, -0.705),
    (3, 1, -2.340),
    (1, 3, -0.608),
    (0, 2, -0.008),
    (2, 3, 0.148),
];

/// (p, q, coefficient) of dφ^p · dλ^q for y.
const S: [(i32, i32, f64); 10] = [
    (1, 0, 309_056.544),
    (0, 2, 3_638.893),
    (2, 0, 73.077),
    (1, 2, -157.984),
    (3, 0, 59.788),
    (0, 1, 0.433),
    (2, 2, -6.439),
    (1, 1, -0.032),
    (0, 4, 0.092),
    (1, 4, -0.054),
];

/// Longitude and latitude in degrees (WGS84) to RD New metres.
pub fn wgs84_to_rd(lon: f64, lat: f64) -> Point {
    // Differences in units of 10,000 arc seconds.
    let dphi = 0.36 * (lat - PHI0);
    let dlam = 0.36 * (lon - LAM0);
    let sum = |terms: &[(i32, i32, f64)]| terms.iter().map(|&(p, q, c)| c * dphi.powi(p) * dlam.powi(q)).sum::<f64>();
    [X0 + sum(&R), Y0 + sum(&S)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_and_a_known_point() {
        let [x, y] = wgs84_to_rd(LAM0, PHI0);
        assert!((x - X0).abs() < 1e-6 && (y - Y0).abs() < 1e-6);
        // Binnenstad, Eindhoven: the first corner in both shipped files.
        let [x, y] = wgs84_to_rd(5.484605, 51.442175);
        assert!((x - 161_772.0).abs() < 2.0 && (y - 383_680.0).abs() < 2.0, "{x} {y}");
    }
}
