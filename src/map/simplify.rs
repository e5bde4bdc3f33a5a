//! Douglas–Peucker simplification of a closed ring.

use super::Point;

/// Distance from `p` to the segment `a`–`b` (to `a` when the segment is a
/// point, as it is for a closed ring's first split).
fn distance(p: Point, a: Point, b: Point) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 { 0.0 } else { (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0) };
    let (cx, cy) = (a[0] + t * dx, a[1] + t * dy);
    ((p[0] - cx).powi(2) + (p[1] - cy).powi(2)).sqrt()
}

/// The points of `ring` that Douglas–Peucker keeps at `tolerance`, in order;
/// the first and last point always stay. Iterative, so a hostile ring of a
/// million points cannot overflow the stack.
pub fn simplify_ring(ring: &[Point], tolerance: f64) -> Vec<Point> {
    if ring.len() < 3 {
        return ring.to_vec();
    }
    let mut keep = vec![false; ring.len()];
    keep[0] = true;
    keep[ring.len() - 1] = true;
    let mut stack = vec![(0usize, ring.len() - 1)];
    while let Some((first, last)) = stack.pop() {
        let mut far = (0.0, first);
        for i in first + 1..last {
            let d = distance(ring[i], ring[first], ring[last]);
            if d > far.0 {
                far = (d, i);
            }
        }
        if far.0 > tolerance {
            keep[far.1] = true;
            stack.push((first, far.1));
            stack.push((far.1, last));
        }
    }
    ring.iter().zip(keep).filter(|(_, k)| *k).map(|(p, _)| *p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_points_on_a_straight_edge_and_keeps_corners() {
        let square = [[0.0, 0.0], [5.0, 0.1], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]];
        assert_eq!(simplify_ring(&square, 1.0), vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]]);
        assert_eq!(simplify_ring(&square, 0.0).len(), 6);
    }
}
