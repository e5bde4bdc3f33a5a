//! Geometry of the server-rendered SVG charts; templates draw it. Only
//! figures from a safe table reach here.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub label: String,
    pub value: u32,
    /// Highlighted bars (7–10 on a 0–10 scale: "tevreden").
    pub high: bool,
}

/// A bar chart of shares (whole %) per answer value.
#[derive(Debug, Clone, Serialize)]
pub struct BarChart {
    pub width: f64,
    pub height: f64,
    pub baseline: f64,
    pub bars: Vec<Bar>,
}

const W: f64 = 330.0;
const H: f64 = 150.0;
const TOP: f64 = 18.0;
const BOTTOM: f64 = 20.0;

/// Vertical bars, one per value; `high_from` marks the bars from that index on.
pub fn distribution(shares: &[u32], labels: &[String], high_from: Option<usize>) -> BarChart {
    let slots = shares.len().max(1) as f64;
    let slot = W / slots;
    let top = f64::from(*shares.iter().max().unwrap_or(&0)).max(1.0);
    let plot = H - TOP - BOTTOM;
    let bars = shares
        .iter()
        .zip(labels)
        .enumerate()
        .map(|(i, (&v, label))| {
            let height = (f64::from(v) / top * plot).round();
            Bar {
                x: (i as f64 * slot + slot * 0.15).round(),
                y: H - BOTTOM - height,
                width: (slot * 0.7).round(),
                height,
                label: label.clone(),
                value: v,
                high: high_from.is_some_and(|h| i >= h),
            }
        })
        .collect();
    BarChart { width: W, height: H, baseline: H - BOTTOM, bars }
}

/// A mean with its 95 % interval on a scale, as x positions in a strip of
/// the given width.
#[derive(Debug, Clone, Serialize)]
pub struct Interval {
    pub width: f64,
    pub lo: f64,
    pub hi: f64,
    pub mean: f64,
}

pub fn interval(ci: [f64; 2], mean: f64, min: f64, max: f64, width: f64) -> Interval {
    let x = |v: f64| {
        let v = if v.is_finite() { v.clamp(min, max) } else { mean };
        ((v - min) / (max - min) * width * 10.0).round() / 10.0
    };
    Interval { width, lo: x(ci[0]), hi: x(ci[1]), mean: x(mean) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallest_bar_fills_the_plot_and_bars_stay_inside() {
        let labels: Vec<String> = (0..=10).map(|i| i.to_string()).collect();
        let c = distribution(&[0, 0, 0, 0, 0, 5, 10, 30, 40, 10, 5], &labels, Some(7));
        assert_eq!(c.bars.len(), 11);
        let tallest = c.bars.iter().max_by(|a, b| a.height.total_cmp(&b.height)).unwrap();
        assert_eq!(tallest.value, 40);
        assert_eq!(tallest.y, TOP);
        assert!(c.bars.iter().all(|b| b.x + b.width <= W && b.y >= 0.0));
        assert!(c.bars[7].high && !c.bars[6].high);
    }

    #[test]
    fn interval_is_clamped_to_the_scale() {
        let i = interval([6.1, 11.0], 8.0, 0.0, 10.0, 100.0);
        assert_eq!((i.lo, i.mean, i.hi), (61.0, 80.0, 100.0));
    }
}
