//! The report of one area — a buurt, and as readily its wijk or gemeente —
//! that a professional prints or saves as PDF: every question's figures,
//! their trend over waves, the comparison with the wijk and the gemeente,
//! the position among the areas of its level with its uncertainty, and a
//! note on the method. Everything is cut from one result set's safe tables,
//! so a report shows nothing that the results page and the API do not.

use serde::Serialize;

use super::chart::{self, distribution, Axis, BarChart};
use super::compare::{
    against_whole, changes, estimate, position, ranking, Difference, Estimate, Measure, Position, QuestionChange,
    Ranked,
};
use super::results::{AreaResult, QuestionFigures, QuestionMeta, ResultSet, SafeTable};
use super::weighted::Shown;
use crate::area::{AreaCode, Level};
use crate::i18n::Lang;
use crate::questionnaire::QuestionKind;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("{0:?} is not an area of these results")]
    UnknownArea(String),
    #[error("there is no wave {0} of this questionnaire")]
    UnknownWave(i32),
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaRef {
    pub code: String,
    pub name: String,
    pub level: Level,
}

impl AreaRef {
    fn of(a: &AreaResult) -> AreaRef {
        AreaRef { code: a.code.to_string(), name: a.name.clone(), level: a.code.level() }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub slug: String,
    pub area: AreaRef,
    /// The areas it lies in, nearest first (wijk, gemeente); empty for a gemeente.
    pub within: Vec<AreaRef>,
    /// The wave reported; None: every response.
    pub wave_id: Option<i32>,
    pub wave: Option<String>,
    /// The two waves a change is measured between (earlier, later).
    pub change_between: Option<(String, String)>,
    /// Whom the area is ranked among (its gemeente), when it is ranked.
    pub ranked_among: Option<String>,
    /// The area's figures are hidden: then no question carries any.
    pub suppressed: bool,
    pub n: Option<u64>,
    /// Why the area's figures are not weighted; None when they are (or
    /// hidden).
    pub weighting_notice: Option<String>,
    pub questions: Vec<QuestionReport>,
    /// (topic, explanation) lines of the method note.
    pub method: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    Scale,
    Number,
    Choice,
}

/// One line of a comparison of means: an area's estimate, and how the
/// reported area differs from it.
#[derive(Debug, Clone, Serialize)]
pub struct Compared {
    pub name: String,
    pub level: Level,
    pub n: Option<u64>,
    pub estimate: Option<Estimate>,
    /// The reported area minus this one; None for the area itself.
    pub difference: Option<Difference>,
}

/// A share as the pages show it: whole per cent, and its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ShownShare {
    pub percent: u32,
    pub ci95: [f64; 2],
}

/// One answer of a choice question, in the area and the areas it lies in.
#[derive(Debug, Clone, Serialize)]
pub struct OptionRow {
    pub label: String,
    /// The area, then each area it lies in.
    pub shares: Vec<Option<ShownShare>>,
    /// The area minus each area it lies in, in percentage points.
    pub differences: Vec<Option<Difference>>,
    /// Between the two waves of `Report::change_between`.
    pub change: Option<Difference>,
    /// The same between the weighted shares, where weighted in both.
    pub weighted_change: Option<Difference>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionReport {
    pub id: String,
    pub text: String,
    pub shape: Shape,
    /// Whether this question's figures are shown for the area.
    pub shown: bool,
    pub n: Option<u64>,
    pub median: Option<f64>,
    pub quartiles: Option<[f64; 2]>,
    pub share_7_plus: Option<u32>,
    pub share_7_plus_ci: Option<[f64; 2]>,
    pub share_0_4: Option<u32>,
    pub distribution: Option<BarChart>,
    /// Scales and numbers: the area, then each area it lies in.
    pub compared: Vec<Compared>,
    /// Choices: one row per answer.
    pub options: Vec<OptionRow>,
    /// Scales and numbers: the place of the mean among the areas ranked.
    pub position: Option<Position>,
    pub change: Option<Difference>,
    pub change_7_plus: Option<Difference>,
    /// The change of the weighted mean, where weighted in both waves.
    pub weighted_change: Option<Difference>,
    /// Scales and numbers with two or more waves: an SVG of the mean per wave.
    pub trend: Option<String>,
    /// Choices with two or more waves: per wave, its name and each answer's share.
    pub trend_table: Vec<(String, Vec<Option<ShownShare>>)>,
    /// The area's weighted figures beside the unweighted ones, where shown.
    pub weighted: Option<Shown>,
}

/// The report of `code` in the table of `wave` (None: every response).
/// `title` is the questionnaire's title in `lang`.
pub fn build(set: &ResultSet, code: &str, wave: Option<i32>, title: &str, lang: Lang) -> Result<Report, ReportError> {
    let table = match wave {
        Some(id) => set.table(Some(id)).ok_or(ReportError::UnknownWave(id))?,
        None => &set.all,
    };
    let area = table.get(code).ok_or_else(|| ReportError::UnknownArea(code.to_owned()))?;
    let mut within = Vec::new();
    let mut up = area.parent.as_ref().and_then(|p| table.get(p.as_str()));
    while let Some(a) = up {
        within.push(a);
        up = a.parent.as_ref().and_then(|p| table.get(p.as_str()));
    }
    // The change: into the wave reported from the one before, or between
    // the last two waves when every response is reported.
    let pair = match wave {
        Some(id) => set.previous(id).map(|before| (before, table)),
        None => match set.waves.as_slice() {
            [.., a, b] => Some((a, b)),
            _ => None,
        },
    };
    let change = pair.and_then(|(before, after)| {
        changes(before, after, area.code.level()).into_iter().find(|c| c.code == area.code && c.questions.is_some())
    });
    let gemeente = within.last().map(|g| g.code.clone());
    let ranked = area.code.level() != Level::Gemeente;
    let cx = Cx { set, table, area, within: &within, gemeente: gemeente.as_ref(), ranked, lang };
    let questions = match &area.figures {
        None => Vec::new(),
        Some(_) => table
            .questions
            .iter()
            .enumerate()
            .map(|(qi, meta)| {
                let unweighted = change.as_ref().and_then(|c| c.questions.as_ref()?.get(qi));
                let weighted = change.as_ref().and_then(|c| c.weighted.get(qi)?.as_ref());
                cx.question(qi, meta, unweighted, weighted)
            })
            .collect(),
    };
    let wave_name = |t: &SafeTable| t.wave.as_ref().map(|w| w.name.clone()).unwrap_or_default();
    Ok(Report {
        slug: table.slug.clone(),
        area: AreaRef::of(area),
        within: within.iter().map(|a| AreaRef::of(a)).collect(),
        wave_id: table.wave.as_ref().map(|w| w.id),
        wave: table.wave.as_ref().map(|w| w.label()),
        change_between: pair.map(|(a, b)| (wave_name(a), wave_name(b))),
        ranked_among: ranked.then(|| within.last().map(|g| g.name.clone())).flatten(),
        suppressed: area.figures.is_none(),
        n: area.figures.as_ref().map(|(n, _)| *n),
        weighting_notice: area.weighting.as_ref().and_then(|w| w.notice(lang)),
        questions,
        method: method(table, title, lang),
    })
}

/// What every question of one report is cut from.
struct Cx<'a> {
    set: &'a ResultSet,
    table: &'a SafeTable,
    area: &'a AreaResult,
    within: &'a [&'a AreaResult],
    gemeente: Option<&'a AreaCode>,
    ranked: bool,
    lang: Lang,
}

fn n_of(figures: &QuestionFigures) -> Option<u64> {
    match figures {
        QuestionFigures::Scale(s) => Some(s.n),
        QuestionFigures::Number(s) => Some(s.n),
        QuestionFigures::Choice(c) => Some(c.n),
        QuestionFigures::Suppressed => None,
    }
}

impl Cx<'_> {
    fn measured(&self, table: &SafeTable, code: &AreaCode, qi: usize, measure: Measure) -> Option<Estimate> {
        table.figures(code.as_str(), qi).and_then(|f| estimate(f, measure))
    }

    fn question(
        &self,
        qi: usize,
        meta: &QuestionMeta,
        change: Option<&QuestionChange>,
        weighted_change: Option<&QuestionChange>,
    ) -> QuestionReport {
        let l = self.lang;
        let code = &self.area.code;
        let figures = self.table.figures(code.as_str(), qi);
        let (shape, axis) = match &meta.kind {
            QuestionKind::Scale { min, max, .. } => {
                (Shape::Scale, Axis { min: f64::from(*min), max: f64::from(*max), percent: false })
            }
            QuestionKind::Number { min, max, .. } => {
                (Shape::Number, Axis { min: f64::from(*min), max: f64::from(*max), percent: false })
            }
            _ => (Shape::Choice, Axis { min: 0.0, max: 100.0, percent: true }),
        };
        let text = meta.text.get(l).to_owned();
        let mut q = QuestionReport {
            id: meta.id.clone(),
            text: text.clone(),
            shape,
            shown: figures.is_some(),
            n: figures.and_then(n_of),
            median: None,
            quartiles: None,
            share_7_plus: None,
            share_7_plus_ci: None,
            share_0_4: None,
            distribution: None,
            compared: Vec::new(),
            options: Vec::new(),
            position: None,
            change: None,
            change_7_plus: None,
            weighted_change: None,
            trend: None,
            trend_table: Vec::new(),
            weighted: self.table.weighted(code.as_str(), qi).map(|w| Shown::of(w, 0, l)),
        };
        let per_wave = self.set.waves.len() >= 2;
        let in_wave = |t: &SafeTable| t.question_index(&meta.id);
        match shape {
            Shape::Scale | Shape::Number => {
                match figures {
                    Some(QuestionFigures::Scale(s)) => {
                        let QuestionKind::Scale { min, max, .. } = &meta.kind else { unreachable!("matched above") };
                        let labels: Vec<String> = (*min..=*max).map(|v| v.to_string()).collect();
                        q.distribution =
                            Some(distribution(&s.distribution, &labels, (*min == 0 && *max == 10).then_some(7)));
                        q.median = Some(s.median);
                        q.share_7_plus = s.share_7_plus;
                        q.share_7_plus_ci = s.share_7_plus_ci95;
                        q.share_0_4 = s.share_0_4;
                    }
                    Some(QuestionFigures::Number(s)) => {
                        q.median = Some(s.median);
                        q.quartiles = Some(s.quartiles);
                    }
                    _ => {}
                }
                let mine = self.measured(self.table, code, qi, Measure::Mean);
                q.compared = std::iter::once(Compared {
                    name: self.area.name.clone(),
                    level: code.level(),
                    n: q.n,
                    estimate: mine,
                    difference: None,
                })
                .chain(self.within.iter().map(|w| {
                    let theirs = self.measured(self.table, &w.code, qi, Measure::Mean);
                    Compared {
                        name: w.name.clone(),
                        level: w.code.level(),
                        n: self.table.figures(w.code.as_str(), qi).and_then(n_of),
                        estimate: theirs,
                        difference: mine.zip(theirs).and_then(|(m, t)| against_whole(&m.exact, &t.exact, 1.0)),
                    }
                }))
                .collect();
                if self.ranked && mine.is_some() {
                    q.position = position(&self.peers(qi), code);
                }
                if let Some(QuestionChange::Mean { mean, share_7_plus }) = change {
                    q.change = Some(*mean);
                    q.change_7_plus = *share_7_plus;
                }
                if let Some(QuestionChange::Mean { mean, .. }) = weighted_change {
                    q.weighted_change = Some(*mean);
                }
                if per_wave {
                    let points: Vec<chart::Estimate> = self
                        .set
                        .waves
                        .iter()
                        .map(|t| {
                            let label = t.wave.as_ref().map(|w| w.name.clone()).unwrap_or_default();
                            match in_wave(t).and_then(|i| self.measured(t, code, i, Measure::Mean)) {
                                Some(e) => chart::Estimate::shown(label, e.estimate, e.ci95[0], e.ci95[1]),
                                None => chart::Estimate::suppressed(label),
                            }
                        })
                        .collect();
                    let title = format!("{}: {text} – {}", l.text("report_trend_title"), self.area.name);
                    q.trend = Some(chart::trend(&points, &axis, l, &format!("trend-{}", meta.id), &title));
                }
            }
            Shape::Choice => {
                let labels: Vec<String> = meta.kind.choices().iter().map(|o| o.label.get(l).to_owned()).collect();
                let shares = |t: &SafeTable, code: &AreaCode, i: usize| {
                    in_wave(t).and_then(|qi| self.measured(t, code, qi, Measure::Share(i)))
                };
                let shown = |t: &SafeTable, code: &AreaCode, i: usize| match t.figures(code.as_str(), in_wave(t)?)? {
                    QuestionFigures::Choice(c) => {
                        c.options.get(i).map(|o| ShownShare { percent: o.percent, ci95: o.ci95 })
                    }
                    _ => None,
                };
                q.options = labels
                    .iter()
                    .enumerate()
                    .map(|(i, label)| {
                        let mine = shares(self.table, code, i);
                        let theirs: Vec<Option<Estimate>> =
                            self.within.iter().map(|w| shares(self.table, &w.code, i)).collect();
                        OptionRow {
                            label: label.clone(),
                            differences: theirs
                                .iter()
                                .map(|t| mine.zip(*t).and_then(|(m, t)| against_whole(&m.exact, &t.exact, 100.0)))
                                .collect(),
                            shares: std::iter::once(code)
                                .chain(self.within.iter().map(|w| &w.code))
                                .map(|c| shown(self.table, c, i))
                                .collect(),
                            change: match change {
                                Some(QuestionChange::Shares { shares }) => shares.get(i).copied().flatten(),
                                _ => None,
                            },
                            weighted_change: match weighted_change {
                                Some(QuestionChange::Shares { shares }) => shares.get(i).copied().flatten(),
                                _ => None,
                            },
                        }
                    })
                    .collect();
                if per_wave {
                    q.trend_table = self
                        .set
                        .waves
                        .iter()
                        .map(|t| {
                            let name = t.wave.as_ref().map(|w| w.name.clone()).unwrap_or_default();
                            (name, (0..labels.len()).map(|i| shown(t, code, i)).collect())
                        })
                        .collect();
                }
            }
        }
        q
    }

    /// The ranking of the areas of the reported one's level in its gemeente.
    fn peers(&self, qi: usize) -> Vec<Ranked> {
        let gemeente_of = |code: &AreaCode| {
            let mut cur = self.table.get(code.as_str());
            while let Some(a) = cur {
                match &a.parent {
                    Some(p) => cur = self.table.get(p.as_str()),
                    None => return Some(a.code.clone()),
                }
            }
            None
        };
        ranking(self.table, qi, Measure::Mean, self.area.code.level())
            .into_iter()
            .filter(|r| gemeente_of(&r.code).as_ref() == self.gemeente)
            .collect()
    }
}

/// When the figures were released, and that they change per release.
pub fn released(table: &SafeTable, lang: Lang) -> String {
    let at = crate::clock::local(table.released_at).format("%Y-%m-%d %H:%M").to_string();
    let by_invitation = table.wave.as_ref().is_some_and(|w| w.invitation_only);
    let mut text = lang.text("export_m_released_text").replace("{at}", &at);
    if by_invitation {
        text = format!("{text} {}", lang.text("wave_invitation_only_note"));
    }
    text
}

/// The method note: the same facts as the export's method sheet, told for
/// a printed page.
fn method(table: &SafeTable, title: &str, lang: Lang) -> Vec<(String, String)> {
    let t = |key: &str| lang.text(key);
    let wave = table.wave.as_ref().map_or_else(|| t("export_all_waves"), |w| w.label());
    vec![
        (t("export_m_questionnaire"), format!("{title} ({}, {} {})", table.slug, t("export_m_version"), table.version)),
        (t("export_m_wave"), wave),
        (t("export_m_threshold"), table.min_cell.to_string()),
        (t("export_m_symbol"), format!("“{}”: {}", t("too_few"), t("export_m_symbol_text"))),
        (t("export_m_suppression"), t("report_m_suppression_text")),
        (t("export_m_perturbation"), table.perturbation.explained(lang)),
        (t("export_m_released"), released(table, lang)),
        (t("export_m_intervals"), t("export_m_intervals_text")),
        (t("report_m_differences"), t("difference_note")),
        (t("report_m_position"), t("report_m_position_text")),
        (t("export_m_shares"), t("export_m_shares_text")),
        (t("export_m_weighting"), t("export_m_weighting_text")),
        (t("export_m_free_text"), t("report_m_free_text_text")),
        (t("export_m_source"), t("export_m_source_text")),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use chrono::NaiveDate;

    use super::*;
    use crate::area::{Area, AreaTree};
    use crate::insight::chart::tests::well_formed;
    use crate::insight::ByCell;
    use crate::insight::{build_set, AnswerKey, RawCounts};
    use crate::questionnaire::Published;
    use crate::survey::Wave;

    fn code(raw: &str) -> AreaCode {
        AreaCode::parse_any(raw).unwrap()
    }

    /// One gemeente, one wijk of three buurten (A, B, C) and a second wijk
    /// of one buurt (D); two waves, January and March.
    fn set(per_buurt: &[(&str, [u64; 2])]) -> ResultSet {
        let area = |c: &str, name: &str, parent: Option<&str>| Area {
            code: code(c),
            name: name.into(),
            parent: parent.map(code),
        };
        let tree = AreaTree::new([
            area("GM0001", "Gemeente", None),
            area("WK000100", "Wijk", Some("GM0001")),
            area("WK000101", "Andere wijk", Some("GM0001")),
            area("BU00010000", "A", Some("WK000100")),
            area("BU00010001", "B", Some("WK000100")),
            area("BU00010002", "C", Some("WK000100")),
            area("BU00010100", "D", Some("WK000101")),
        ]);
        let waves: Vec<Wave> = [(1, 1), (2, 3)]
            .into_iter()
            .map(|(id, month)| Wave {
                id,
                slug: "t".into(),
                name: format!("meting {id}"),
                opens_on: NaiveDate::from_ymd_opt(2026, month, 1).unwrap(),
                closes_on: NaiveDate::from_ymd_opt(2026, month, 28),
                stopped: false,
                buurten: Default::default(),
                invitation_only: false,
            })
            .collect();
        let mut raw = RawCounts::default();
        for (b, (buurt, counts)) in per_buurt.iter().enumerate() {
            for (w, n) in counts.iter().enumerate() {
                let day = NaiveDate::from_ymd_opt(2026, [1, 3][w], 10).unwrap();
                // Half score 5 + b + w, half one higher; all "ja" in wave 2.
                for (value, c) in [(5 + b as i32 + w as i32, n / 2), (6 + b as i32 + w as i32, n - n / 2)] {
                    let key = AnswerKey {
                        version: 1,
                        question: "score".into(),
                        buurt: buurt.to_string(),
                        choice: String::new(),
                        value,
                        day,
                    };
                    raw.answers.entry(key).or_default().add(None, c);
                }
                let choice = if w == 1 { "ja" } else { "nee" };
                let key = AnswerKey {
                    version: 1,
                    question: "keuze".into(),
                    buurt: buurt.to_string(),
                    choice: choice.into(),
                    value: 1,
                    day,
                };
                raw.answers.insert(key, ByCell::unplaced(*n));
                raw.responses.insert((1, buurt.to_string(), day), *n);
            }
        }
        let def = crate::questionnaire::test_definition();
        let p = Published { id: 1, version: 1, content_hash: def.content_hash(), definition: Arc::new(def) };
        build_set(
            &tree,
            &p,
            std::slice::from_ref(&p),
            &raw,
            &waves,
            10,
            &BTreeMap::new(),
            &crate::insight::perturbation::PerturbationTable::exact(),
        )
    }

    fn municipality() -> ResultSet {
        set(&[("BU00010000", [20, 30]), ("BU00010001", [20, 20]), ("BU00010002", [30, 20]), ("BU00010100", [25, 25])])
    }

    #[test]
    fn a_buurt_report_carries_its_figures_comparison_position_trend_and_change() {
        let set = municipality();
        let r = build(&set, "BU00010001", Some(2), "T", Lang::Nl).unwrap();
        assert!(!r.suppressed);
        assert_eq!(r.n, Some(20));
        assert_eq!(r.within.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["Wijk", "Gemeente"]);
        assert_eq!(
            r.change_between.as_ref().map(|(a, b)| (a.starts_with("meting 1"), b.starts_with("meting 2"))),
            Some((true, true))
        );
        assert_eq!(r.ranked_among.as_deref(), Some("Gemeente"));
        let score = r.questions.iter().find(|q| q.id == "score").unwrap();
        // The same figures as the safe table: nothing computed anew.
        let QuestionFigures::Scale(s) = set.waves[1].figures("BU00010001", 0).unwrap() else { panic!() };
        assert_eq!(score.compared[0].estimate.unwrap().estimate, s.mean);
        assert_eq!(score.compared[0].estimate.unwrap().ci95, s.ci95);
        assert_eq!(score.compared.len(), 3);
        assert!(score.compared[1].difference.is_some() && score.compared[2].difference.is_some());
        assert!(score.distribution.is_some() && score.median.is_some());
        let p = score.position.unwrap();
        assert_eq!(p.of, 4, "ranked among the four buurten of the gemeente");
        assert!(p.best <= p.rank && p.rank <= p.worst);
        // Wave 1: mean 6.5; wave 2: 7.5: a change of one point.
        assert_eq!(score.change.unwrap().difference, 1.0);
        let svg = score.trend.as_ref().unwrap();
        let texts = well_formed(svg);
        assert!(texts.iter().any(|t| t == "meting 1") && texts.iter().any(|t| t == "meting 2"), "{texts:?}");
        let keuze = r.questions.iter().find(|q| q.id == "keuze").unwrap();
        assert_eq!(keuze.options.len(), 2);
        assert_eq!(keuze.options[0].shares[0].unwrap().percent, 100, "all ja in wave 2");
        assert_eq!(keuze.options[0].change.unwrap().difference, 100.0);
        assert_eq!(keuze.trend_table.len(), 2);
        assert_eq!(r.method.len(), 14);
    }

    #[test]
    fn a_suppressed_buurt_reports_that_and_no_figure() {
        // B has 4 in wave 1: hidden in every table, and a sibling with it.
        let set = set(&[
            ("BU00010000", [20, 30]),
            ("BU00010001", [4, 20]),
            ("BU00010002", [30, 20]),
            ("BU00010100", [25, 25]),
        ]);
        for wave in [None, Some(1), Some(2)] {
            let r = build(&set, "BU00010001", wave, "T", Lang::En).unwrap();
            assert!(r.suppressed && r.n.is_none() && r.questions.is_empty(), "{wave:?}");
        }
        // The wijk and gemeente are still reported, and B's sibling ranks
        // without B.
        let wijk = build(&set, "WK000100", Some(2), "T", Lang::Nl).unwrap();
        assert!(!wijk.suppressed);
        let score = &wijk.questions[0];
        assert_eq!(score.compared.len(), 2, "the wijk against the gemeente");
        assert_eq!(score.position.unwrap().of, 2, "among the two wijken");
        let gemeente = build(&set, "GM0001", None, "T", Lang::Nl).unwrap();
        assert!(gemeente.within.is_empty() && gemeente.ranked_among.is_none());
        assert!(gemeente.questions[0].position.is_none());
    }

    #[test]
    fn unknown_areas_and_waves_are_named() {
        let set = municipality();
        assert_eq!(
            build(&set, "BU99999999", None, "T", Lang::Nl).unwrap_err(),
            ReportError::UnknownArea("BU99999999".into())
        );
        assert_eq!(build(&set, "BU00010000", Some(7), "T", Lang::Nl).unwrap_err(), ReportError::UnknownWave(7));
    }
}
