//! Results as a spreadsheet: one long table (area × question × measure) cut
//! from a safe table, and a sheet that explains the method. CSV and XLSX
//! are written from the same rows, so they show exactly what the page and
//! the API show: a suppressed area has no figure anywhere.

use super::results::{QuestionFigures, SafeTable};
use super::stats::Share;
use super::weighted::WeightedEstimates;
use crate::area::Level;
use crate::i18n::Lang;
use crate::spreadsheet::{Cell, Sheet, SUPPRESSED};

const LEVELS: [Level; 3] = [Level::Gemeente, Level::Wijk, Level::Buurt];

/// The column titles and measure names of an export, in one language.
fn label(lang: Lang, key: &str) -> String {
    lang.text(&format!("export_{key}"))
}

fn level_name(lang: Lang, level: Level) -> String {
    label(
        lang,
        match level {
            Level::Gemeente => "level_gemeente",
            Level::Wijk => "level_wijk",
            Level::Buurt => "level_buurt",
        },
    )
}

fn number(value: f64, decimals: u8) -> Cell {
    Cell::Number { value, decimals }
}

/// One measure row's figures: value and interval, and the weighted value
/// and interval beside them where the measure is weighted.
struct Measure {
    name: String,
    value: Cell,
    ci: Option<[f64; 2]>,
    weighted: Option<(Cell, Option<[f64; 2]>)>,
}

fn share_cell(s: &Share) -> (Cell, Option<[f64; 2]>) {
    (Cell::Int(i64::from(s.percent)), Some(s.ci95))
}

fn measures(
    lang: Lang,
    figures: &QuestionFigures,
    weighted: Option<&WeightedEstimates>,
    values: &[&str],
    min: i32,
) -> Option<(u64, Vec<Measure>)> {
    let m =
        |key: &str, value: Cell, ci: Option<[f64; 2]>| Measure { name: label(lang, key), value, ci, weighted: None };
    let (mean, shares_7_0) = match weighted {
        Some(WeightedEstimates::Mean { mean, ci95, share_7_plus, share_0_4, .. }) => (
            Some((number(*mean, 2), Some(*ci95))),
            [share_7_plus.as_ref().map(share_cell), share_0_4.as_ref().map(share_cell)],
        ),
        _ => (None, [None, None]),
    };
    let options: Vec<Option<(Cell, Option<[f64; 2]>)>> = match weighted {
        Some(WeightedEstimates::Shares(s)) => s.iter().map(|s| Some(share_cell(s))).collect(),
        _ => Vec::new(),
    };
    Some(match figures {
        QuestionFigures::Suppressed => return None,
        QuestionFigures::Scale(s) => {
            let mut rows = vec![
                Measure { weighted: mean, ..m("mean", number(s.mean, 2), Some(s.ci95)) },
                m("median", number(s.median, 1), None),
            ];
            let [w7, w0] = shares_7_0;
            if let (Some(p), ci) = (s.share_7_plus, s.share_7_plus_ci95) {
                rows.push(Measure { weighted: w7, ..m("share_7_plus", Cell::Int(i64::from(p)), ci) });
            }
            if let (Some(p), ci) = (s.share_0_4, s.share_0_4_ci95) {
                rows.push(Measure { weighted: w0, ..m("share_0_4", Cell::Int(i64::from(p)), ci) });
            }
            for (i, p) in s.distribution.iter().enumerate() {
                rows.push(Measure {
                    name: format!("{} {}", label(lang, "share_of"), min + i as i32),
                    value: Cell::Int(i64::from(*p)),
                    ci: None,
                    weighted: None,
                });
            }
            (s.n, rows)
        }
        QuestionFigures::Number(s) => (
            s.n,
            vec![
                Measure { weighted: mean, ..m("mean", number(s.mean, 2), Some(s.ci95)) },
                m("median", number(s.median, 1), None),
                m("quartile_1", number(s.quartiles[0], 1), None),
                m("quartile_3", number(s.quartiles[1], 1), None),
            ],
        ),
        QuestionFigures::Choice(c) => (
            c.n,
            values
                .iter()
                .zip(&c.options)
                .enumerate()
                .map(|(i, (v, s))| {
                    let (value, ci) = share_cell(s);
                    Measure {
                        name: format!("{} {v}", label(lang, "share_of")),
                        value,
                        ci,
                        weighted: options.get(i).cloned().flatten(),
                    }
                })
                .collect(),
        ),
    })
}

/// The results sheet: per area of every level (gemeente, wijk, buurt), per
/// question, one row per measure. A suppressed area gets one row with
/// [`SUPPRESSED`] for its respondents and nothing else.
pub fn results_sheet(table: &SafeTable, lang: Lang) -> Sheet {
    let columns = [
        "level",
        "code",
        "area",
        "parent",
        "respondents",
        "question",
        "question_text",
        "measure",
        "value",
        "ci_low",
        "ci_high",
        "answered",
        "weighted_value",
        "weighted_ci_low",
        "weighted_ci_high",
        "n_eff",
        "deff",
        "weighting",
    ]
    .iter()
    .map(|k| label(lang, &format!("col_{k}")))
    .collect();
    let mut rows = Vec::new();
    for level in LEVELS {
        for area in table.at_level(level) {
            let head = |respondents: Cell| {
                vec![
                    Cell::text(level_name(lang, level)),
                    Cell::text(area.code.as_str()),
                    Cell::text(&area.name),
                    area.parent.as_ref().map_or(Cell::Empty, |p| Cell::text(p.as_str())),
                    respondents,
                ]
            };
            let (Some((n, figures)), Some(weighting)) = (&area.figures, &area.weighting) else {
                let mut row = head(Cell::Suppressed);
                row.extend([Cell::Empty, Cell::Empty, Cell::Empty, Cell::Suppressed, Cell::Empty, Cell::Empty]);
                row.push(Cell::Empty);
                row.extend(std::iter::repeat_n(Cell::Empty, 6));
                rows.push(row);
                continue;
            };
            // Weighted, or the notice saying why not.
            let status = Cell::Text(weighting.notice(lang).unwrap_or_else(|| label(lang, "weighted")));
            for (qi, (meta, fig)) in table.questions.iter().zip(figures).enumerate() {
                let values = meta.kind.choice_values();
                let min = match &meta.kind {
                    crate::questionnaire::QuestionKind::Scale { min, .. } => *min,
                    _ => 0,
                };
                let weighted = table.weighted(area.code.as_str(), qi);
                let Some((answered, list)) = measures(lang, fig, weighted.map(|w| &w.estimates), &values, min) else {
                    continue;
                };
                for measure in list {
                    let mut row = head(Cell::Int(*n as i64));
                    row.extend([
                        Cell::text(&meta.id),
                        Cell::text(meta.text.get(lang)),
                        Cell::Text(measure.name),
                        measure.value,
                        measure.ci.map_or(Cell::Empty, |c| number(c[0], 2)),
                        measure.ci.map_or(Cell::Empty, |c| number(c[1], 2)),
                        Cell::Int(answered as i64),
                    ]);
                    match (measure.weighted, weighted) {
                        (Some((value, ci)), Some(w)) => row.extend([
                            value,
                            ci.map_or(Cell::Empty, |c| number(c[0], 2)),
                            ci.map_or(Cell::Empty, |c| number(c[1], 2)),
                            Cell::Int(w.n_eff as i64),
                            number(w.deff, 2),
                        ]),
                        _ => row.extend(std::iter::repeat_n(Cell::Empty, 5)),
                    }
                    row.push(status.clone());
                    rows.push(row);
                }
            }
        }
    }
    Sheet { name: label(lang, "sheet_results"), columns, rows }
}

/// The method sheet: what the figures are, how they were protected, and
/// where the area data comes from.
pub fn method_sheet(table: &SafeTable, title: &str, lang: Lang) -> Sheet {
    let wave = table.wave.as_ref().map_or_else(
        || label(lang, "all_waves"),
        |w| format!("{} ({} – {})", w.name, w.opens_on, w.closes_on.map(|d| d.to_string()).unwrap_or_default()),
    );
    let pairs = [
        ("m_questionnaire", format!("{title} ({}, {} {})", table.slug, label(lang, "m_version"), table.version)),
        ("m_wave", wave),
        ("m_threshold", table.min_cell.to_string()),
        ("m_symbol", format!("{SUPPRESSED}: {}", label(lang, "m_symbol_text"))),
        ("m_suppression", label(lang, "m_suppression_text")),
        ("m_perturbation", table.perturbation.explained(lang)),
        ("m_released", super::report::released(table, lang)),
        ("m_intervals", label(lang, "m_intervals_text")),
        ("m_shares", label(lang, "m_shares_text")),
        ("m_weighting", label(lang, "m_weighting_text")),
        ("m_free_text", label(lang, "m_free_text_text")),
        ("m_source", label(lang, "m_source_text")),
    ];
    Sheet {
        name: label(lang, "sheet_method"),
        columns: vec![label(lang, "col_topic"), label(lang, "col_explanation")],
        rows: pairs.into_iter().map(|(k, v)| vec![Cell::Text(label(lang, k)), Cell::Text(v)]).collect(),
    }
}
