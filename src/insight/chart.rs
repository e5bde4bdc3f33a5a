//! Server-rendered SVG charts. The distribution bars are geometry that a
//! template draws; the ranking and the trend are drawn here whole, as SVG
//! text, from plain figures. Only figures from a safe table reach here: a
//! hidden figure arrives as `Figure::Suppressed` and carries no number.
//!
//! Charts use classes from the stylesheet and presentation attributes only
//! (the CSP forbids `style=`), name themselves through a `<title>` that
//! `aria-labelledby` points to, and are sized for a 390 px phone (360 units
//! wide) while scaling up for print.

use std::fmt::Write;

use serde::Serialize;

use crate::i18n::Lang;

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

/// What a chart shows of one area or wave: an estimate with its 95 %
/// interval, or nothing because the safe table hides it.
#[derive(Debug, Clone, PartialEq)]
pub enum Figure {
    Shown { estimate: f64, low: f64, high: f64 },
    Suppressed,
}

/// One labelled figure: an area in a ranking, a wave in a trend.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub label: String,
    pub figure: Figure,
}

impl Estimate {
    pub fn shown(label: impl Into<String>, estimate: f64, low: f64, high: f64) -> Estimate {
        Estimate { label: label.into(), figure: Figure::Shown { estimate, low, high } }
    }

    pub fn suppressed(label: impl Into<String>) -> Estimate {
        Estimate { label: label.into(), figure: Figure::Suppressed }
    }
}

/// The value axis: the range figures can take and how they read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub min: f64,
    pub max: f64,
    pub percent: bool,
}

impl Axis {
    /// A number as the charts and tables write it: "7,4" or "45%".
    pub fn format(&self, x: f64, lang: Lang) -> String {
        if self.percent {
            format!("{x:.0}%")
        } else {
            lang.decimal(x)
        }
    }

    /// The part of the axis the figures need, widened to round ticks and
    /// kept within the axis: (low, high, step).
    fn zoom<'a>(&self, figures: impl Iterator<Item = &'a Figure>) -> (f64, f64, f64) {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for f in figures {
            if let Figure::Shown { estimate, low, high } = f {
                for v in [*estimate, *low, *high].into_iter().filter(|v| v.is_finite()) {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
        if !lo.is_finite() {
            (lo, hi) = (self.min, self.max);
        }
        let (lo, hi) = (lo.max(self.min), hi.min(self.max));
        let span = (hi - lo).max((self.max - self.min) / 20.0).max(1e-9);
        let step = nice_step(span / 4.0);
        let low = ((lo / step).floor() * step).max(self.min);
        let mut high = ((hi / step).ceil() * step).min(self.max);
        if high <= low {
            high = (low + step).min(self.max.max(low + step));
        }
        (low, high, step)
    }
}

/// 1, 2, 2.5 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().map(|m| m * power).find(|s| *s >= raw * 0.999).unwrap_or(10.0 * power)
}

/// Escapes text for SVG (XML) content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A label cut to `max` characters, with an ellipsis.
fn cut(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_owned()
    } else {
        format!("{}…", label.chars().take(max.saturating_sub(1)).collect::<String>())
    }
}

/// Rounds a coordinate to a tenth, for compact SVG.
fn r(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// "Binnenstad: 7,4 (95%-interval 7,0–7,8)" or "…: too few answers".
fn describe(e: &Estimate, axis: &Axis, lang: Lang) -> String {
    match e.figure {
        Figure::Shown { estimate, low, high } => format!(
            "{}: {} ({} {}–{})",
            e.label,
            axis.format(estimate, lang),
            lang.text("col_ci"),
            axis.format(low, lang),
            axis.format(high, lang)
        ),
        Figure::Suppressed => format!("{}: {}", e.label, lang.text("too_few")),
    }
}

/// Opens an SVG chart named by its title.
fn open_svg(out: &mut String, class: &str, width: f64, height: f64, id: &str, title: &str) {
    let id = escape(id);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart {class}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}-title"><title id="{id}-title">{}</title>"#,
        escape(title)
    );
}

const CHART_W: f64 = 360.0;

/// A ranking that never hides uncertainty: one row per area, best first,
/// each a point with its 95 % interval drawn, on a shared axis; a dashed
/// reference line (the wijk or gemeente); areas that are suppressed listed
/// last, without a figure.
pub fn ranking(
    items: &[Estimate],
    reference: Option<&Estimate>,
    axis: &Axis,
    lang: Lang,
    id: &str,
    title: &str,
) -> String {
    const ROW: f64 = 22.0;
    // Tick labels above (a long ranking is read from the top) and below.
    const TOP: f64 = 32.0;
    const LEFT: f64 = 150.0;
    const RIGHT: f64 = CHART_W - 12.0;
    let mut rows: Vec<&Estimate> = items.iter().collect();
    let key = |e: &Estimate| match e.figure {
        Figure::Shown { estimate, .. } => estimate,
        Figure::Suppressed => f64::NEG_INFINITY,
    };
    rows.sort_by(|a, b| key(b).total_cmp(&key(a)).then_with(|| a.label.cmp(&b.label)));
    let (lo, hi, step) = axis.zoom(items.iter().chain(reference).map(|e| &e.figure));
    let x = |v: f64| r(LEFT + (v.clamp(lo, hi) - lo) / (hi - lo) * (RIGHT - LEFT));
    let bottom = TOP + rows.len() as f64 * ROW;
    let height = bottom + 22.0;
    let mut out = String::with_capacity(200 + rows.len() * 260);
    open_svg(&mut out, "ranking", CHART_W, height, id, title);
    // Grid and tick labels along the bottom.
    let mut tick = lo;
    while tick <= hi + step / 1000.0 {
        let tx = x(tick);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{tx}" x2="{tx}" y1="{}" y2="{bottom}"/><text class="tick" x="{tx}" y="11">{label}</text><text class="tick" x="{tx}" y="{}">{label}</text>"#,
            TOP - 6.0,
            bottom + 14.0,
            label = escape(&axis.format(tick, lang))
        );
        tick += step;
    }
    if let Some(Estimate { label, figure: Figure::Shown { estimate, .. } }) = reference {
        let rx = x(*estimate);
        // Anchored away from the edge it is nearest to (classes: the
        // stylesheet's anchors override attributes).
        let side = if rx > (LEFT + RIGHT) / 2.0 { "e" } else { "s" };
        let _ = write!(
            out,
            r#"<g class="ref"><title>{}</title><line x1="{rx}" x2="{rx}" y1="{}" y2="{bottom}"/><text class="{side}" x="{rx}" y="{}">{} {}</text></g>"#,
            escape(&describe(reference.expect("matched"), axis, lang)),
            TOP - 14.0,
            TOP - 16.0,
            escape(&cut(label, 22)),
            escape(&axis.format(*estimate, lang))
        );
    }
    for (i, e) in rows.iter().enumerate() {
        let y = r(TOP + i as f64 * ROW + ROW / 2.0);
        let _ = write!(
            out,
            r#"<g class="row"><title>{}</title><text class="label s" x="2" y="{}">{}</text>"#,
            escape(&describe(e, axis, lang)),
            y + 4.0,
            escape(&cut(&e.label, 17))
        );
        match e.figure {
            Figure::Shown { estimate, low, high } => {
                let _ = write!(
                    out,
                    r#"<text class="value e" x="{}" y="{}">{}</text><line class="ci" x1="{}" x2="{}" y1="{y}" y2="{y}"/><circle class="pt" cx="{}" cy="{y}" r="4"/>"#,
                    LEFT - 6.0,
                    y + 4.0,
                    escape(&axis.format(estimate, lang)),
                    x(low),
                    x(high),
                    x(estimate)
                );
            }
            Figure::Suppressed => {
                let _ = write!(
                    out,
                    r#"<text class="hidden s" x="{LEFT}" y="{}">{}</text>"#,
                    y + 4.0,
                    escape(&lang.text("too_few"))
                );
            }
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// A trend over waves: each wave a point with its 95 % interval, joined by
/// a line; a suppressed wave breaks the line and says why.
pub fn trend(waves: &[Estimate], axis: &Axis, lang: Lang, id: &str, title: &str) -> String {
    const TOP: f64 = 14.0;
    const BOTTOM: f64 = 150.0;
    const LEFT: f64 = 40.0;
    const RIGHT: f64 = CHART_W - 30.0;
    let height = BOTTOM + 30.0;
    let (lo, hi, step) = axis.zoom(waves.iter().map(|e| &e.figure));
    let y = |v: f64| r(BOTTOM - (v.clamp(lo, hi) - lo) / (hi - lo) * (BOTTOM - TOP));
    let slot = (RIGHT - LEFT) / waves.len().max(1) as f64;
    let x = |i: usize| r(LEFT + slot * (i as f64 + 0.5));
    let mut out = String::with_capacity(300 + waves.len() * 300);
    open_svg(&mut out, "trend", CHART_W, height, id, title);
    let mut tick = lo;
    while tick <= hi + step / 1000.0 {
        let ty = y(tick);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{RIGHT}" y1="{ty}" y2="{ty}"/><text class="tick e" x="{}" y="{}">{}</text>"#,
            LEFT - 4.0,
            ty + 4.0,
            escape(&axis.format(tick, lang))
        );
        tick += step;
    }
    // The connecting line, broken where a wave is hidden.
    let mut segment: Vec<String> = Vec::new();
    let flush = |segment: &mut Vec<String>, out: &mut String| {
        if segment.len() > 1 {
            let _ = write!(out, r#"<polyline class="line" points="{}"/>"#, segment.join(" "));
        }
        segment.clear();
    };
    for (i, e) in waves.iter().enumerate() {
        match e.figure {
            Figure::Shown { estimate, .. } => segment.push(format!("{},{}", x(i), y(estimate))),
            Figure::Suppressed => flush(&mut segment, &mut out),
        }
    }
    flush(&mut segment, &mut out);
    let chars = ((slot / 6.5) as usize).max(4);
    for (i, e) in waves.iter().enumerate() {
        let cx = x(i);
        let _ = write!(out, r#"<g class="wave"><title>{}</title>"#, escape(&describe(e, axis, lang)));
        match e.figure {
            Figure::Shown { estimate, low, high } => {
                let (py, ly, hy) = (y(estimate), y(low), y(high));
                let _ = write!(
                    out,
                    r#"<line class="ci" x1="{cx}" x2="{cx}" y1="{ly}" y2="{hy}"/><line class="cap" x1="{}" x2="{}" y1="{ly}" y2="{ly}"/><line class="cap" x1="{}" x2="{}" y1="{hy}" y2="{hy}"/><circle class="pt" cx="{cx}" cy="{py}" r="4"/><text class="value s" x="{}" y="{}">{}</text>"#,
                    cx - 4.0,
                    cx + 4.0,
                    cx - 4.0,
                    cx + 4.0,
                    cx + 7.0,
                    py - 5.0,
                    escape(&axis.format(estimate, lang))
                );
            }
            Figure::Suppressed => {
                let _ = write!(
                    out,
                    r#"<text class="hidden" x="{cx}" y="{}">{}</text>"#,
                    r((TOP + BOTTOM) / 2.0),
                    escape(&cut(&lang.text("too_few"), chars))
                );
            }
        }
        let _ = write!(
            out,
            r#"<text class="tick" x="{cx}" y="{}">{}</text></g>"#,
            BOTTOM + 18.0,
            escape(&cut(&e.label, chars))
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Parses an SVG with quick-xml: well-formed, one root `svg`; returns
    /// every text node.
    pub(crate) fn well_formed(svg: &str) -> Vec<String> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(svg);
        let (mut depth, mut roots, mut texts) = (0i32, 0, Vec::new());
        let mut text = String::new();
        loop {
            let event = reader.read_event().unwrap_or_else(|e| panic!("not well-formed: {e}\n{svg}"));
            if !matches!(event, Event::Text(_) | Event::GeneralRef(_)) && !text.is_empty() {
                texts.push(std::mem::take(&mut text));
            }
            match event {
                Event::Start(e) => {
                    if depth == 0 {
                        roots += 1;
                        assert_eq!(e.name().as_ref(), b"svg");
                    }
                    depth += 1;
                }
                Event::End(_) => depth -= 1,
                Event::Empty(e) => {
                    assert!(depth > 0, "an element outside the svg");
                    for a in e.attributes() {
                        let a = a.expect("a well-formed attribute");
                        assert_ne!(a.key.as_ref(), b"style", "the CSP forbids style attributes");
                    }
                }
                Event::Text(t) => text.push_str(&t.decode().expect("UTF-8")),
                Event::GeneralRef(r) => {
                    let entity = format!("&{};", r.decode().expect("UTF-8"));
                    text.push_str(&quick_xml::escape::unescape(&entity).expect("a known entity"));
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!((depth, roots), (0, 1), "balanced, one root");
        texts
    }

    fn areas() -> Vec<Estimate> {
        vec![
            Estimate::shown("Binnenstad", 7.4, 7.0, 7.8),
            Estimate::suppressed("Bergen <&> 't Hofke"),
            Estimate::shown("Witte Dame", 6.1, 5.2, 7.0),
            Estimate::shown("Een buurt met een heel lange naam", 8.0, 7.1, 8.9),
        ]
    }

    const SCALE: Axis = Axis { min: 0.0, max: 10.0, percent: false };

    #[test]
    fn ranking_orders_draws_intervals_and_hides_suppressed_figures() {
        let reference = Estimate::shown("Eindhoven", 7.2, 7.1, 7.3);
        let svg = ranking(&areas(), Some(&reference), &SCALE, Lang::Nl, "r1", "Rangorde");
        let texts = well_formed(&svg);
        assert!(svg.contains(r#"role="img" aria-labelledby="r1-title""#));
        assert_eq!(svg.matches("class=\"ci\"").count(), 3, "one interval per shown area");
        let order: Vec<usize> =
            ["Een buurt met een", "Binnenstad", "Witte Dame", "Bergen"].iter().map(|l| svg.find(l).unwrap()).collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "best first, suppressed last");
        assert!(texts.iter().any(|t| t == "Bergen <&> 't Hofke: te weinig antwoorden"), "{texts:?}");
        assert!(texts.iter().any(|t| t == "Eindhoven 7,2"));
        assert!(svg.contains("class=\"ref\""));
        assert!(ranking(&areas(), None, &SCALE, Lang::En, "r2", "Ranking").contains("7.4"));
    }

    #[test]
    fn trend_breaks_its_line_at_a_hidden_wave() {
        let waves = vec![
            Estimate::shown("Voorjaar 2025", 7.0, 6.6, 7.4),
            Estimate::shown("Najaar 2025", 7.3, 6.9, 7.7),
            Estimate::suppressed("Voorjaar 2026"),
            Estimate::shown("Najaar 2026", 7.5, 7.2, 7.8),
        ];
        let svg = trend(&waves, &SCALE, Lang::Nl, "t", "Verloop");
        well_formed(&svg);
        assert_eq!(svg.matches("<polyline").count(), 1, "only the first two waves are joined");
        assert_eq!(svg.matches("class=\"pt\"").count(), 3);
        assert!(svg.contains("Voorjaar 2026: te weinig antwoorden"));
        // One wave, or none shown, still draws.
        well_formed(&trend(&waves[..1], &SCALE, Lang::En, "t", "Trend"));
        well_formed(&trend(&[Estimate::suppressed("x")], &SCALE, Lang::En, "t", "Trend"));
        well_formed(&trend(&[], &SCALE, Lang::En, "t", "Trend"));
    }

    #[test]
    fn axes_zoom_to_round_ticks_within_the_scale() {
        let figures = [Figure::Shown { estimate: 7.2, low: 6.8, high: 7.7 }];
        let (lo, hi, step) = SCALE.zoom(figures.iter());
        assert!(lo <= 6.8 && hi >= 7.7 && lo >= 0.0 && hi <= 10.0, "{lo} {hi}");
        assert!(((lo / step).round() * step - lo).abs() < 1e-9);
        let pct = Axis { min: 0.0, max: 100.0, percent: true };
        assert_eq!(pct.format(45.0, Lang::Nl), "45%");
        let (lo, hi, _) = pct.zoom([Figure::Shown { estimate: 99.0, low: 97.0, high: 101.0 }].iter());
        assert!(hi <= 100.0 && lo < 97.0);
        let (lo, hi, _) = SCALE.zoom(std::iter::empty());
        assert_eq!((lo, hi), (0.0, 10.0));
    }

    proptest::proptest! {
        #[test]
        fn charts_stay_well_formed_with_any_labels_and_figures(
            rows in proptest::collection::vec(("\\PC{0,30}", proptest::option::of((-5.0..15.0f64, 0.0..3.0f64))), 0..30)
        ) {
            let items: Vec<Estimate> = rows
                .iter()
                .map(|(label, f)| match f {
                    Some((v, half)) => Estimate::shown(label.clone(), *v, v - half, v + half),
                    None => Estimate::suppressed(label.clone()),
                })
                .collect();
            let svg = ranking(&items, items.first(), &SCALE, Lang::Nl, "p", "t");
            well_formed(&svg);
            // Every coordinate stays inside the view.
            let height: f64 = svg.split("viewBox=\"0 0 360 ").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
            for attr in ["x1=\"", "x2=\"", "cx=\""] {
                for v in svg.split(attr).skip(1) {
                    let v: f64 = v.split('"').next().unwrap().parse().unwrap();
                    proptest::prop_assert!((0.0..=CHART_W).contains(&v));
                }
            }
            proptest::prop_assert!(height > 0.0);
            well_formed(&trend(&items, &SCALE, Lang::En, "q", "t"));
        }
    }

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
